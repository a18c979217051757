"""Settings come from the environment with documented defaults."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from matcher.settings import PROJECT_ROOT, Settings


def test_defaults_resolve_to_this_checkout():
    s = Settings.from_env({})
    assert s.rules_dir == PROJECT_ROOT / "rules" and s.index_dir == PROJECT_ROOT / "indexes"
    assert s.encoder == "tuned:e5" and s.rerank is True and s.offline is True


def test_environment_and_overrides():
    env = {"MATCHER_TOP": "3", "MATCHER_OFFLINE": "no", "MATCHER_INDEX_DIR": "/tmp/x"}
    s = Settings.from_env(env, encoder="minilm")
    assert (s.top, s.offline, s.index_dir, s.encoder) == (3, False, Path("/tmp/x"), "minilm")


def test_a_bad_value_names_the_variable():
    with pytest.raises(ValueError, match="MATCHER_TOP='ten' is not a valid int"):
        Settings.from_env({"MATCHER_TOP": "ten"})


def test_every_setting_is_documented_with_its_help_text():
    """docs/OPERATIONS.md has a row per setting whose text is the setting's own help."""
    docs = (PROJECT_ROOT / "docs" / "OPERATIONS.md").read_text(encoding="utf-8")
    rows = dict(re.findall(r"^\| `(MATCHER_\w+)` \| .*? \| (.*) \|$", docs, re.M))
    assert {name: help for name, _, help in Settings.documented()} == rows
