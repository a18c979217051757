"""Fixtures for the web tests: apps on temporary databases, seeded users, login helpers."""
from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from web import create_app

from webhelpers import (TEST_DATABASE_URL, AuthActions, add_case, base_config, build_app,
                        postgres_schema_url, token_for)


@pytest.fixture(scope="session")
def matcher(hashing_matcher):
    """The engine shared by the whole test session: real corpus, small 'hashing' encoder."""
    return hashing_matcher


@pytest.fixture(autouse=True)
def shared_engine_stays_untaught(matcher):
    """Fail the test that taught the session's shared engine: later tests would rank differently."""
    yield
    assert len(matcher.feedback) == 0, "this test taught the shared engine (set LEARN_FROM_DECISIONS off)"


@pytest.fixture(params=[
    "sqlite",
    pytest.param("postgresql", marks=[
        pytest.mark.postgres,
        pytest.mark.skipif(not TEST_DATABASE_URL,
                           reason="TEST_DATABASE_URL is not set (PostgreSQL store tests)")]),
])
def database_url(request, tmp_path) -> Iterator[str]:
    """A fresh, empty database: SQLite always, PostgreSQL when TEST_DATABASE_URL is set."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'store.db'}"
    else:
        yield from postgres_schema_url()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory, matcher) -> Path:
    """A migrated SQLite file with the test users, built once and copied for each test."""
    folder = tmp_path_factory.mktemp("template")
    app = build_app(base_config(folder, f"sqlite:///{folder / 'template.db'}", matcher))
    app.extensions["db_engine"].dispose()  # the last connection's close folds the WAL in
    assert not (folder / "template.db-wal").exists()
    return folder / "template.db"


@pytest.fixture
def app(tmp_path, matcher, sqlite_template):
    """An app on its own temporary SQLite database with the test users."""
    target = tmp_path / "app.db"
    # A copy of a migrated file: migrations themselves are tested in test_migrations.py.
    shutil.copyfile(sqlite_template, target)
    app = create_app(base_config(tmp_path, f"sqlite:///{target}", matcher))
    yield app
    app.extensions["db_engine"].dispose()


@pytest.fixture
def store_app(tmp_path, matcher, database_url, sqlite_template):
    """Like `app`, on every available database backend."""
    if database_url.startswith("sqlite:///"):  # the migrated template, as `app` uses
        shutil.copyfile(sqlite_template, database_url.removeprefix("sqlite:///"))
        app = create_app(base_config(tmp_path, database_url, matcher))
    else:
        app = build_app(base_config(tmp_path, database_url, matcher))
    yield app
    app.extensions["db_engine"].dispose()


@pytest.fixture
def client(app):
    """A test client of `app`."""
    return app.test_client()


@pytest.fixture
def auth(client):
    """Login helper for `client`."""
    return AuthActions(client)


@pytest.fixture
def vol(client) -> dict:
    """API headers of the volunteer 'vol' (organisation A)."""
    return token_for(client, "vol")


@pytest.fixture
def cw(client) -> dict:
    """API headers of the caseworker 'cw'."""
    return token_for(client, "cw")


@pytest.fixture
def case_id(app) -> str:
    """A pending case submitted by the volunteer 'vol' of organisation A."""
    return add_case(app)


@pytest.fixture
def csrf_app(tmp_path, matcher):
    """An app with CSRF protection on, as in production."""
    config = base_config(tmp_path, f"sqlite:///{tmp_path / 'csrf.db'}", matcher)
    config["WTF_CSRF_ENABLED"] = True
    app = build_app(config)
    yield app
    app.extensions["db_engine"].dispose()
