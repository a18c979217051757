"""Schemathesis against /openapi.json: generated requests never get a 500 or an undocumented answer.

A bounded, repeatable run (derandomised, EXAMPLES valid and EXAMPLES invalid requests per
operation) on SQLite, and on PostgreSQL when TEST_DATABASE_URL is set. Schemathesis's pytest
loader does not run under pytest 9, so each operation's Hypothesis strategy is driven here.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.specs.openapi.checks import positive_data_acceptance

import web

from webhelpers import add_case, token_for

EXAMPLES = 30
SPEC = json.loads((Path(web.__file__).parent / "openapi.json").read_text())
OPERATIONS = [(method.upper(), path) for path, item in SPEC["paths"].items() for method in item]
# The role each path is for; the others' answers are checked by the access tests (test_roles.py).
ROLE_OF = {"/api/v1/notes": "vol", "/api/v1/notes/{id}": "vol"}


@pytest.mark.parametrize("method,path", OPERATIONS, ids=[f"{m} {p}" for m, p in OPERATIONS])
def test_the_api_keeps_to_its_description(store_app, method, path):
    """Every check schemathesis has: no 5xx, documented status codes, bodies and headers,
    invalid requests refused and valid ones accepted."""
    client = store_app.test_client()
    add_case(store_app)  # so that lists and searches have something to return
    headers = token_for(client, ROLE_OF.get(path, "cw"))
    operation = schemathesis.openapi.from_wsgi("/openapi.json", store_app)[path][method]
    cases = st.one_of(operation.as_strategy(GenerationMode.POSITIVE), operation.as_strategy(GenerationMode.NEGATIVE))

    @given(case=cases)
    @settings(max_examples=2 * EXAMPLES, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    def check(case):
        case.call_and_validate(headers=headers, excluded_checks=[positive_data_acceptance])

    check()
