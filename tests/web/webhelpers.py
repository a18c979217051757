"""Helpers shared by the web tests (imported by conftest.py and the test modules)."""
from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url

from web import create_app
from web import db as web_db
from web.accounts import create_user
from web.cases import submit_note
from web.models import User

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL")
PASSWORD = "korrekt-hest-batteri"
ORG_A, ORG_B = "Røde Kors Aalborg", "Ældre Sagen Aalborg"
#: username -> (role, organisation)
USERS = {
    "vol": ("volunteer", ORG_A),
    "vol2": ("volunteer", ORG_A),
    "other": ("volunteer", ORG_B),
    "coord": ("coordinator", ORG_A),
    "coord_b": ("coordinator", ORG_B),
    "cw": ("caseworker", None),
    "cw2": ("caseworker", None),
    "adm": ("admin", None),
}
NOTE = ("Min nabo er 84 år og falder ofte i badet. Hun kan ikke selv lave mad længere. "
        "Hun har ingen penge til medicin.")


def base_config(tmp_path, url: str, matcher) -> dict:
    """The mapping tests pass to create_app: own database, cheap hashes, CSRF off."""
    return {
        "TESTING": True,
        "DATABASE_URL": url,
        "SECRET_KEY": "test-secret",
        "INSTANCE_DIR": str(tmp_path / "instance"),
        "MATCHER": matcher,
        "WTF_CSRF_ENABLED": False,
        # The session's engine is shared: tests must not teach it (conftest.py fails a test that does).
        "LEARN_FROM_DECISIONS": False,
        # Real argon2id, with the smallest cost it accepts, keeps the suite fast.
        "ARGON2_TIME_COST": 1,
        "ARGON2_MEMORY_COST": 64,
    }


def postgres_schema_url() -> Iterator[str]:
    """Yield a URL whose search_path is a fresh schema, dropped afterwards."""
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(TEST_DATABASE_URL)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = make_url(TEST_DATABASE_URL).update_query_dict(
        {"options": f"-csearch_path={schema}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def build_app(config: dict):
    """Create the app, migrate its database and add the test users."""
    app = create_app(config)
    web_db.upgrade(app.extensions["db_engine"])
    with app.app_context():
        store = web_db.session()
        for username, (role, organisation) in USERS.items():
            create_user(store, username, role, PASSWORD, organisation)
        store.commit()
    return app


class AuthActions:
    """Log a test client in and out (flaskr's helper)."""

    def __init__(self, client):
        self._client = client

    def login(self, username: str = "vol", password: str = PASSWORD):
        """Log in through the form."""
        return self._client.post("/login", data={"username": username, "password": password})

    def logout(self):
        """Log out through the form."""
        return self._client.post("/logout")


def token_for(client, username: str) -> dict:
    """Return Authorization headers with a fresh bearer token for `username`."""
    response = client.post("/api/v1/auth/token",
                           json={"username": username, "password": PASSWORD})
    assert response.status_code == 200, response.get_json()
    return {"Authorization": f"Bearer {response.get_json()['token']}"}


def user(app, username: str):
    """Return the user row called `username` (inside an app context)."""
    return web_db.session().scalar(select(User).where(User.username == username))


def add_case(app, username: str = "vol", note: str = NOTE, area: str = "ældre",
             wishes: str | None = None) -> str:
    """Submit a note as `username` through the service layer; return its reference."""
    with app.app_context():
        case = submit_note(web_db.session(), app.extensions["matcher"], user(app, username),
                           note, area, True, wishes)
        return case.public_id
