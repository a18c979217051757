"""/openapi.json documents the API as the app serves it."""
from __future__ import annotations

import json
import re


def _documented(client) -> set[tuple[str, str]]:
    spec = client.get("/openapi.json").get_json()
    return {(method.upper(), path) for path, item in spec["paths"].items() for method in item}


def test_openapi_is_served_as_json(client):
    """The description is valid OpenAPI 3 JSON."""
    response = client.get("/openapi.json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    spec = json.loads(response.get_data(as_text=True))
    assert spec["openapi"].startswith("3.") and "bearer" in spec["components"]["securitySchemes"]


def test_every_api_route_is_documented_and_nothing_else(app, client):
    """Routes and documentation list the same (method, path) pairs."""
    served = set()
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/") or rule.rule == "/healthz":
            path = re.sub(r"<(?:\w+:)?(\w+)>", "{id}", rule.rule)
            served |= {(m, path) for m in rule.methods - {"HEAD", "OPTIONS"}}
    assert _documented(client) == served


def test_every_error_status_is_documented_with_the_error_schema(client):
    """Error responses all point to the {error} schema."""
    spec = client.get("/openapi.json").get_json()
    for item in spec["paths"].values():
        for operation in item.values():
            for status, response in operation["responses"].items():
                if int(status) >= 400:
                    schema = response["content"]["application/json"]["schema"]
                    assert schema == {"$ref": "#/components/schemas/Error"}
