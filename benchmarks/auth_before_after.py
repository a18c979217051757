"""Issue 11, sections 1-3: show what a deployment meets, on any checkout.

    PYTHONPATH=<checkout> python benchmarks/auth_before_after.py

Run it with PYTHONPATH at an older checkout and at this one to see the before and after
of each item: the client address behind a proxy (through a real waitress process), the
per-account limit, one count for the form and the API, an unreachable Redis, the
password policy, logout of cookies and tokens, deactivation, the cookie's expiry,
CR/LF in next= and whether an admin chooses a new user's password. No engine is loaded.
"""
from __future__ import annotations

import http.client
import json
import logging
import os
import socket
import subprocess
import sys
import tempfile
import time
from itertools import count
from pathlib import Path

ROOT = Path(os.environ.get("PYTHONPATH", Path(__file__).resolve().parents[1]).split(os.pathsep)[0])
sys.path.insert(0, str(ROOT / "tests" / "web"))

from sqlalchemy import select  # noqa: E402
from webhelpers import PASSWORD, base_config, build_app  # noqa: E402

from web import db  # noqa: E402
from web.accounts import AccountError, create_user  # noqa: E402
from web.models import User  # noqa: E402

TMP = Path(tempfile.mkdtemp())
_numbers = count()
SERVER = """
import sys, waitress
import web.cli as cli
from web import create_app
app = create_app()
port = int(sys.argv[1])
if hasattr(cli, "waitress_options"):
    options = cli.waitress_options(app, "127.0.0.1", port, 2)
else:
    options = dict(host="127.0.0.1", port=port, threads=2, ident="brobygger")
waitress.serve(app, **options)
"""


def new_app(**settings):
    """An app on a fresh SQLite database with the test users."""
    config = base_config(TMP, f"sqlite:///{TMP / f'db{next(_numbers)}.db'}", None)
    return build_app({**config, **settings})


def login(app, username, password=PASSWORD, **kw):
    """POST the login form; return the response."""
    return app.test_client().post("/login", data={"username": username, "password": password}, **kw)


def proxy() -> str:
    """Ten failed logins from client A behind one proxy, then client B with the right password."""
    url = f"sqlite:///{TMP / 'proxy.db'}"
    build_app(base_config(TMP, url, None)).extensions["db_engine"].dispose()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {"PATH": os.environ["PATH"], "PYTHONPATH": str(ROOT), "DATABASE_URL": url,
           "SECRET_KEY": "x", "INSTANCE_DIR": str(TMP / "instance"), "PROXY_COUNT": "1"}
    server = subprocess.Popen([sys.executable, "-c", SERVER, str(port)], env=env,
                              stderr=subprocess.DEVNULL)
    for _ in range(300):
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            break
        except OSError:
            time.sleep(0.1)

    def post(username, password, client):
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        connection.request("POST", "/api/v1/auth/token",
                           json.dumps({"username": username, "password": password}),
                           {"Content-Type": "application/json", "X-Forwarded-For": client})
        status = connection.getresponse().status
        connection.close()
        return status

    try:
        first = [post("vol", "bad", "203.0.113.5") for _ in range(11)]
        other = post("cw", PASSWORD, "203.0.113.6")
    finally:
        server.terminate()
        server.wait()
    return f"client A 11 failures -> last {first[-1]}; client B, right password -> {other}"


def per_account() -> str:
    """Twelve failed logins on one username, each from another address."""
    app = new_app()
    codes = [login(app, "vol", "bad", environ_base={"REMOTE_ADDR": f"192.0.2.{n}"}).status_code
             for n in range(1, 13)]
    return str(codes)


def one_bucket() -> str:
    """Ten failed form logins, then the token endpoint, from one address."""
    client = new_app().test_client()
    for _ in range(10):
        client.post("/login", data={"username": "vol", "password": "bad"})
    status = client.post("/api/v1/auth/token", json={"username": "vol", "password": "bad"}).status_code
    return f"token endpoint after 10 form failures -> {status}"


def redis_down() -> str:
    """RATELIMIT_STORAGE_URI points at a Redis that does not answer."""
    try:
        app = new_app(RATELIMIT_STORAGE_URI="redis://127.0.0.1:1")
        client = app.test_client()
        status = client.post("/login", data={"username": "vol", "password": PASSWORD}).status_code
        health = client.get("/healthz")
    except Exception as exc:  # noqa: BLE001 - the old code raises here
        return f"login raises {type(exc).__name__} (a 500 in a server)"
    return f"login -> {status}; /healthz -> {health.status_code} {health.get_json()}"


def passwords() -> str:
    """Passwords the policy should refuse, given to create_user (the web's and the CLI's path)."""
    app, outcome = new_app(), {}
    with app.app_context():
        for n, password in enumerate([" " * 12, "a" * 12, "password1234", "qwertyuiop12",
                                      "elleve-tegn"]):
            try:
                create_user(db.session(), f"u{n}", "admin", password)
                outcome[password] = "accepted"
            except AccountError as exc:
                outcome[password] = exc.code
    return str(outcome)


def sessions() -> list[str]:
    """Logout, API logout, deactivation, cookie expiry, CR/LF in next=, new accounts."""
    app = new_app()
    owner, thief = app.test_client(), app.test_client()
    owner.post("/login", data={"username": "vol", "password": PASSWORD})
    cookie = owner.get_cookie("session")
    thief.set_cookie("session", cookie.value, domain=cookie.domain)
    owner.post("/logout")
    lines = [f"2a copied cookie after logout: GET /volunteer/notes -> "
             f"{thief.get('/volunteer/notes').status_code}"]

    token = owner.post("/api/v1/auth/token", json={"username": "cw", "password": PASSWORD})
    headers = {"Authorization": f"Bearer {token.get_json()['token']}"}
    out = owner.post("/api/v1/auth/logout", headers=headers).status_code
    lines.append(f"2b POST /api/v1/auth/logout -> {out}; the token afterwards -> "
                 f"{owner.get('/api/v1/queue', headers=headers).status_code}")

    victim = app.test_client()
    victim.post("/login", data={"username": "vol", "password": PASSWORD})
    token = victim.post("/api/v1/auth/token", json={"username": "vol", "password": PASSWORD})
    headers = {"Authorization": f"Bearer {token.get_json()['token']}"}
    admin = app.test_client()
    admin.post("/login", data={"username": "adm", "password": PASSWORD})
    with app.app_context():
        vol_id = db.session().scalar(select(User.id).where(User.username == "vol"))
    admin.post(f"/admin/users/{vol_id}/active")
    admin.post(f"/admin/users/{vol_id}/active")
    lines.append(f"2c deactivated and reactivated: old cookie -> "
                 f"{victim.get('/volunteer/notes').status_code}; old token -> "
                 f"{victim.get('/api/v1/notes/AAAA', headers=headers).status_code}")

    set_cookie = login(app, "cw").headers.get("Set-Cookie", "")
    lines.append(f"2d the session cookie outlives the browser (has Expires): {'Expires' in set_cookie}")
    try:
        response = app.test_client().post("/login", data={
            "username": "vol", "password": PASSWORD, "next": "/x\r\nSet-Cookie: a=b"})
        lines.append(f"2e CR/LF in next= -> {response.status_code} {response.headers.get('Location')}")
    except Exception as exc:  # noqa: BLE001 - the old code raises here
        lines.append(f"2e CR/LF in next= -> {type(exc).__name__} (a 500 in a server)")

    created = admin.post("/admin/users", data={"username": "nyt", "role": "caseworker",
                                               "password": "et-langt-kodeord-her"})
    lines.append(f"3 admin creates a user -> {created.status_code}; the admin's typed password "
                 f"logs in as it -> {login(app, 'nyt', 'et-langt-kodeord-her').status_code}")
    return lines


def main() -> None:
    """Print one line per item."""
    logging.disable(logging.CRITICAL)
    print(f"checkout: {ROOT}")
    print(f"1a proxy, PROXY_COUNT=1, real waitress: {proxy()}")
    print(f"1b per account, 12 addresses: {per_account()}")
    print(f"1c form and API: {one_bucket()}")
    print(f"1d Redis unreachable: {redis_down()}")
    print(f"1e password policy: {passwords()}")
    for line in sessions():
        print(line)


if __name__ == "__main__":
    main()
