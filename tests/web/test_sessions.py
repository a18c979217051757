"""Sessions and tokens end when they should: logout, idleness, lifetime, the browser closing."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from web import db
from web.models import LoginSession, utcnow

from webhelpers import AuthActions, base_config, build_app, token_for


def _copy_cookie(source, target) -> None:
    cookie = source.get_cookie("session")
    target.set_cookie("session", cookie.value, domain=cookie.domain)


def test_a_copied_cookie_stops_working_at_logout(app, client, auth):
    """Logging out ends the session on the server, not only in this browser."""
    auth.login("vol")
    thief = app.test_client()
    _copy_cookie(client, thief)
    assert thief.get("/volunteer/notes").status_code == 200, "the copy works while logged in"
    auth.logout()
    assert thief.get("/volunteer/notes").status_code == 302
    assert client.get("/volunteer/notes").status_code == 302
    with app.app_context():
        assert db.session().scalars(select(LoginSession)).all() == []


def test_logging_out_one_browser_leaves_the_others(app, client, auth):
    """Each login is its own session: a shared computer's logout does not end the phone's."""
    auth.login("vol")
    phone = app.test_client()
    AuthActions(phone).login("vol")
    auth.logout()
    assert phone.get("/volunteer/notes").status_code == 200


def test_the_cookie_dies_with_the_browser_unless_configured(tmp_path, matcher, app, auth):
    """By default the session cookie has no expiry; SESSION_PERSISTENT gives it one."""
    cookie = auth.login("vol").headers["Set-Cookie"]
    assert "Expires" not in cookie and "Max-Age" not in cookie
    config = base_config(tmp_path, f"sqlite:///{tmp_path / 'p.db'}", matcher)
    persistent = build_app({**config, "SESSION_PERSISTENT": True})
    cookie = AuthActions(persistent.test_client()).login("vol").headers["Set-Cookie"]
    assert "Expires" in cookie
    persistent.extensions["db_engine"].dispose()


def _age_session(app, **ago) -> None:
    with app.app_context():
        store = db.session()
        store.execute(update(LoginSession).values(**{
            column: utcnow() - timedelta(seconds=seconds) for column, seconds in ago.items()}))
        store.commit()


def test_sessions_end_after_30_idle_minutes(app, client, auth):
    """SESSION_IDLE_TIMEOUT (default 30 minutes) without a request ends the session."""
    assert app.config["SESSION_IDLE_TIMEOUT"] == 30 * 60
    auth.login("vol")
    _age_session(app, last_seen_at=29 * 60)
    assert client.get("/volunteer/notes").status_code == 200, "29 minutes is not too long"
    with app.app_context():
        seen = db.session().scalar(select(LoginSession.last_seen_at))
        assert utcnow() - seen < timedelta(seconds=5), "a request counts as activity"
    _age_session(app, last_seen_at=31 * 60)
    response = client.get("/volunteer/notes")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")


def test_sessions_end_after_their_lifetime_however_busy(app, client, auth):
    """SESSION_LIFETIME caps a session even when it is used all the time."""
    auth.login("cw")
    _age_session(app, created_at=app.config["SESSION_LIFETIME"] + 1)
    assert client.get("/caseworker/queue").status_code == 302


def test_api_logout_revokes_the_token_presented(client):
    """POST /api/v1/auth/logout ends that token at once, and only that one."""
    first, second = token_for(client, "cw"), token_for(client, "cw")
    response = client.post("/api/v1/auth/logout", headers=first)
    assert response.status_code == 204 and response.data == b""
    again = client.get("/api/v1/queue", headers=first)
    assert again.status_code == 401 and again.get_json()["error"]
    assert client.post("/api/v1/auth/logout", headers=first).status_code == 401
    assert client.get("/api/v1/queue", headers=second).status_code == 200


@pytest.mark.parametrize("host,secure", [("127.0.0.1", False), ("localhost", False),
                                         ("0.0.0.0", True), ("192.0.2.10", True)])
def test_serve_makes_cookies_secure_off_localhost(tmp_path, matcher, monkeypatch, host, secure):
    """`matcher serve` on any address but localhost sends cookies over HTTPS only."""
    import waitress

    from web import cli, create_app

    apps = []
    config = base_config(tmp_path, f"sqlite:///{tmp_path / 'serve.db'}", matcher)
    monkeypatch.setattr(cli, "create_app", lambda: apps.append(create_app(config)) or apps[-1])
    monkeypatch.setattr(waitress, "serve", lambda app, **kw: None)
    from click.testing import CliRunner

    result = CliRunner().invoke(cli.serve, ["--host", host])
    assert result.exit_code == 0, result.output
    [app] = apps
    # The cookie flag itself follows the setting: test_security.py checks that.
    assert app.config["SESSION_COOKIE_SECURE"] is secure
    app.extensions["db_engine"].dispose()


def test_ended_sessions_do_not_pile_up(app, client, auth):
    """Logging in again replaces this browser's session and clears the user's dead ones."""
    auth.login("vol")
    auth.login("vol")
    with app.app_context():
        assert len(db.session().scalars(select(LoginSession)).all()) == 1
    other = app.test_client()
    AuthActions(other).login("vol")
    _age_session(app, last_seen_at=31 * 60)  # both left idle
    AuthActions(app.test_client()).login("vol")
    with app.app_context():
        assert len(db.session().scalars(select(LoginSession)).all()) == 1
