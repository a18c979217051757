"""Helpers shared by the web tests (imported by conftest.py and the test modules)."""
from __future__ import annotations

import os
import socket
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from email import message_from_bytes, policy

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
    "lead": ("leader", None),
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


def post_note(client, headers: dict, **fields):
    """POST NOTE with consent to /api/v1/notes; `fields` add to or replace the body's."""
    return client.post("/api/v1/notes", json={"text": NOTE, "consent": True, **fields}, headers=headers)


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


class MailBox:
    """The mails a real SMTP server (aiosmtpd) started by the test received."""

    def __init__(self):
        self.mails: list = []
        self._arrived = threading.Condition()

    async def handle_DATA(self, server, session, envelope):
        """aiosmtpd's hook: keep the parsed mail and its envelope recipients."""
        mail = message_from_bytes(envelope.content, policy=policy.default)
        with self._arrived:
            self.mails.append((list(envelope.rcpt_tos), mail))
            self._arrived.notify_all()
        return "250 OK"

    def wait_for(self, count: int, timeout: float = 10.0) -> list:
        """Wait until `count` mails have arrived (the app sends in a thread); return them all."""
        with self._arrived:
            self._arrived.wait_for(lambda: len(self.mails) >= count, timeout=timeout)
            return list(self.mails)


def wait_for_senders(timeout: float = 20.0) -> None:
    """Wait for the app's notification threads (web.notify.send_soon) to finish their try."""
    for thread in threading.enumerate():
        if thread.name == "notify":
            thread.join(timeout)


def free_port() -> int:
    """A local port nothing listens on (the SMTP server's, or one that refuses connections)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def smtp_server(port: int | None = None) -> Iterator[tuple[int, MailBox]]:
    """Run an aiosmtpd SMTP server on 127.0.0.1 for the block; yield its port and mailbox."""
    from aiosmtpd.controller import Controller

    box = MailBox()
    controller = Controller(box, hostname="127.0.0.1", port=port or free_port())
    controller.start()
    try:
        yield controller.port, box
    finally:
        controller.stop()


def smtp_config(port: int) -> dict:
    """Settings that send notification e-mails to the test's SMTP server (no TLS on localhost)."""
    return {"SMTP_HOST": "127.0.0.1", "SMTP_PORT": port, "SMTP_STARTTLS": False,
            "SMTP_FROM": "brobygger@test.invalid", "SMTP_TIMEOUT": 5,
            "PUBLIC_URL": "https://brobygger.test"}


@contextmanager
def served(app, threads: int = 4) -> Iterator:
    """Serve `app` with waitress on a free local port in a thread; yields the server.

    Closing waitress from another thread while its loop polls the sockets can raise in the
    loop (a closed descriptor); once we are stopping that is expected and is swallowed, so it
    never surfaces as an unhandled thread exception in a later test.
    """
    import waitress

    server = waitress.create_server(app, host="127.0.0.1", port=0, threads=threads)
    stopping = threading.Event()

    def run() -> None:
        try:
            server.run()
        except (OSError, ValueError):
            if not stopping.is_set():
                raise

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        stopping.set()
        server.close()
        server.task_dispatcher.shutdown()
        thread.join(10)
