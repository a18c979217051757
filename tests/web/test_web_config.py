"""Settings: declared once, read from the environment, all documented."""
from __future__ import annotations

import re
import stat
from pathlib import Path

import web
from web import create_app
from web.config import INSTANCE_DIR, SETTINGS, Config, ensure_secret_key

WEB = Path(web.__file__).parent
OPERATIONS = WEB.parent / "docs" / "OPERATIONS.md"


def test_defaults_without_environment():
    """An empty environment gives the documented defaults."""
    config = Config(environ={})
    assert config.DATABASE_URL == f"sqlite:///{INSTANCE_DIR / 'brobygger.db'}"
    assert INSTANCE_DIR == WEB.parent / "instance"
    assert config.BABEL_DEFAULT_LOCALE == "da" and config.SECRET_KEY is None
    assert config.RATELIMIT_STORAGE_URI == "memory://" and config.TOKEN_TTL == 8 * 3600


def test_environment_values_are_parsed():
    """Numbers and yes/no values are parsed; empty values keep the default."""
    config = Config(environ={"TOKEN_TTL": "60", "SESSION_COOKIE_SECURE": "true",
                             "DATABASE_URL": "postgresql+psycopg://db/x", "MATCH_TOP": ""})
    assert config.TOKEN_TTL == 60 and config.SESSION_COOKIE_SECURE is True
    assert config.DATABASE_URL == "postgresql+psycopg://db/x" and config.MATCH_TOP == 10


def test_create_app_reads_the_environment_only_without_a_mapping(tmp_path, monkeypatch):
    """create_app() reads the environment; create_app({...}) does not."""
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'env.db'}")
    monkeypatch.setenv("INSTANCE_DIR", str(tmp_path))
    monkeypatch.setenv("LOGIN_RATE_LIMIT", "1 per hour")
    from_env = create_app()
    assert from_env.config["LOGIN_RATE_LIMIT"] == "1 per hour"
    assert from_env.config["SECRET_KEY"] == (tmp_path / "secret_key").read_text()
    from_mapping = create_app({"DATABASE_URL": f"sqlite:///{tmp_path / 'm.db'}",
                               "SECRET_KEY": "x"})
    assert from_mapping.config["LOGIN_RATE_LIMIT"] == "10 per minute"
    for app in (from_env, from_mapping):
        app.extensions["db_engine"].dispose()


def test_secret_key_is_generated_once_and_kept_private(tmp_path):
    """Without SECRET_KEY one is generated into instance/ (mode 0600) and reused."""
    first = {"SECRET_KEY": None, "INSTANCE_DIR": str(tmp_path / "inst")}
    ensure_secret_key(first)
    second = {"SECRET_KEY": "", "INSTANCE_DIR": str(tmp_path / "inst")}
    ensure_secret_key(second)
    assert len(first["SECRET_KEY"]) == 64 and first["SECRET_KEY"] == second["SECRET_KEY"]
    mode = (tmp_path / "inst" / "secret_key").stat().st_mode
    assert stat.S_IMODE(mode) == 0o600
    assert list((tmp_path / "inst").iterdir()) == [tmp_path / "inst" / "secret_key"]


def test_every_setting_is_documented_with_its_help_text():
    """docs/OPERATIONS.md has a table row for every web setting, with the setting's own help."""
    rows = dict(re.findall(r"^\| `([A-Z_0-9]+)` \| .*? \| (.*) \|$", OPERATIONS.read_text(encoding="utf-8"), re.M))
    assert {s.name: s.help for s in SETTINGS} == {s.name: rows.get(s.name) for s in SETTINGS}


def test_only_the_config_module_reads_the_environment():
    """Configuration flows one way: nothing else in web/ touches os.environ."""
    readers = [p.name for p in WEB.rglob("*.py")
               if re.search(r"os\.environ|os\.getenv", p.read_text(encoding="utf-8"))]
    assert readers == ["config.py"]
