"""Login throttling in a real deployment: per account, shared by workers, a store that fails,
and the client's address behind a proxy through a real waitress process."""
from __future__ import annotations

import http.client
import json
import logging
import os
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from webhelpers import PASSWORD, base_config, build_app

REDIS_URI = "redis://127.0.0.1:6379"
UNREACHABLE_URI = "redis://127.0.0.1:1"  # nothing listens on port 1
ROOT = Path(__file__).resolve().parents[2]


def _redis_up() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=0.5):
            return True
    except OSError:
        return False


needs_redis = pytest.mark.skipif(not _redis_up(), reason="no Redis on 127.0.0.1:6379")


@pytest.fixture
def make_app(tmp_path, matcher):
    """Build apps on one database (like several worker processes of one site)."""
    apps = []
    url = f"sqlite:///{tmp_path / 'throttle.db'}"

    def make(**settings):
        config = {**base_config(tmp_path, url, matcher), **settings}
        if not apps:
            apps.append(build_app(config))
        else:
            from web import create_app
            apps.append(create_app(config))
        return apps[-1]

    yield make
    for app in apps:
        app.extensions["db_engine"].dispose()


def _address() -> str:
    """A client address no other test (or earlier run against the same Redis) used."""
    raw = uuid.uuid4().bytes
    return f"10.{raw[0]}.{raw[1]}.{raw[2] or 1}"


def _login(app, username, password="wrong", address="192.0.2.1", api=False):
    client = app.test_client()
    environ = {"REMOTE_ADDR": address}
    if api:
        return client.post("/api/v1/auth/token", json={"username": username, "password": password},
                           environ_base=environ).status_code
    return client.post("/login", data={"username": username, "password": password},
                       environ_base=environ).status_code


def test_failed_logins_on_one_account_from_many_addresses_are_throttled(make_app):
    """Guessing one user's password from many addresses is refused after the account limit."""
    app = make_app(LOGIN_ACCOUNT_RATE_LIMIT="3 per minute")
    codes = [_login(app, "vol", address=f"192.0.2.{n}", api=n % 2 == 0) for n in range(1, 4)]
    assert codes == [401, 401, 401]
    assert _login(app, "VOL", PASSWORD, address="198.51.100.1") == 429, "even the right password"
    assert _login(app, "vol", PASSWORD, address="198.51.100.2", api=True) == 429
    assert _login(app, "cw", PASSWORD, address="192.0.2.1") == 302, "other accounts log in"


def test_successful_logins_do_not_count_against_the_account(make_app):
    """Only failures count per account: a user who logs in often is never locked out."""
    app = make_app(LOGIN_ACCOUNT_RATE_LIMIT="2 per minute")
    assert [_login(app, "cw", PASSWORD, address=f"192.0.2.{n}") for n in range(1, 6)] == [302] * 5


@needs_redis
def test_counts_are_shared_by_all_workers_through_redis(make_app):
    """With Redis, two processes of one site count one client's attempts together."""
    first = make_app(RATELIMIT_STORAGE_URI=REDIS_URI, LOGIN_RATE_LIMIT="3 per minute")
    second = make_app(RATELIMIT_STORAGE_URI=REDIS_URI, LOGIN_RATE_LIMIT="3 per minute")
    address = _address()
    assert _login(first, "vol", address=address) == 401
    assert _login(second, "vol", address=address, api=True) == 401
    assert _login(first, "cw", address=address) == 401
    assert _login(second, "adm", PASSWORD, address=address) == 429
    assert second.test_client().get("/healthz").get_json()["rate_limit_store"] == "ok"


@needs_redis
def test_account_counts_are_shared_through_redis(make_app):
    """The per-account count is shared too: one worker's failures lock the account on the other."""
    first = make_app(RATELIMIT_STORAGE_URI=REDIS_URI, LOGIN_ACCOUNT_RATE_LIMIT="2 per minute")
    second = make_app(RATELIMIT_STORAGE_URI=REDIS_URI, LOGIN_ACCOUNT_RATE_LIMIT="2 per minute")
    name = f"u{uuid.uuid4().hex[:12]}"  # unknown users are counted like known ones
    assert _login(first, name, address=_address()) == 401
    assert _login(second, name, address=_address()) == 401
    assert _login(first, name, address=_address(), api=True) == 429


def test_an_unreachable_store_degrades_to_per_process_limits(make_app, caplog):
    """Redis down: logins still work, a warning is logged, /healthz says degraded."""
    app = make_app(RATELIMIT_STORAGE_URI=UNREACHABLE_URI, LOGIN_RATE_LIMIT="3 per minute")
    client = app.test_client()
    with caplog.at_level(logging.WARNING, logger="web.throttle"):
        assert client.post("/login", data={"username": "vol", "password": PASSWORD}).status_code == 302
        token = client.post("/api/v1/auth/token", json={"username": "cw", "password": PASSWORD})
    assert token.status_code == 200
    warnings = [r for r in caplog.records if r.name == "web.throttle"]
    assert len(warnings) == 1 and "unreachable" in warnings[0].getMessage()
    health = client.get("/healthz")
    assert health.status_code == 200
    assert health.get_json()["status"] == "degraded"
    assert health.get_json()["rate_limit_store"] == "degraded"
    # Still limited, per process: the third attempt from 127.0.0.1 is the last one allowed.
    assert [_login(app, "vol", address="127.0.0.1") for _ in range(2)] == [401, 429]


def test_healthz_names_the_rate_limit_store(client):
    """memory:// is reported as per-process, and the service as ok."""
    body = client.get("/healthz").get_json()
    assert body["status"] == "ok" and body["rate_limit_store"] == "per-process"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _post(port: int, path: str, body: dict, headers: dict) -> int:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    connection.request("POST", path, body=json.dumps(body),
                       headers={"Content-Type": "application/json", **headers})
    status = connection.getresponse().status
    connection.close()
    return status


SERVER = """
import sys, waitress
from web import create_app
from web.cli import waitress_options
app = create_app()
waitress.serve(app, **waitress_options(app, "127.0.0.1", int(sys.argv[1]), 2))
"""


def test_forwarded_addresses_count_through_a_real_waitress_process(tmp_path, matcher):
    """Behind one proxy (PROXY_COUNT=1), each client is counted on its own address."""
    url = f"sqlite:///{tmp_path / 'proxy.db'}"
    build_app(base_config(tmp_path, url, matcher)).extensions["db_engine"].dispose()
    port = _free_port()
    env = {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(ROOT), "DATABASE_URL": url,
           "SECRET_KEY": "proxy-test", "INSTANCE_DIR": str(tmp_path / "instance"),
           "PROXY_COUNT": "1", "LOGIN_RATE_LIMIT": "2 per minute",
           "LOGIN_ACCOUNT_RATE_LIMIT": "100 per minute"}
    server = subprocess.Popen([sys.executable, "-c", SERVER, str(port)], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                assert server.poll() is None, server.stderr.read().decode()
                assert time.monotonic() < deadline, "the server did not start"
                time.sleep(0.2)
        bad = {"username": "vol", "password": "wrong"}
        path = "/api/v1/auth/token"
        one = {"X-Forwarded-For": "203.0.113.5"}
        assert [_post(port, path, bad, one) for _ in range(3)] == [401, 401, 429]
        # Another client behind the same proxy is not locked out by the first one.
        assert _post(port, path, bad, {"X-Forwarded-For": "203.0.113.6"}) == 401
        # Only the hop the proxy added is trusted: a forged left part changes nothing.
        forged = {"X-Forwarded-For": "198.51.100.9, 203.0.113.5"}
        assert _post(port, path, bad, forged) == 429
    finally:
        server.terminate()
        server.wait(timeout=10)
        server.stderr.close()
