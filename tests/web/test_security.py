"""Security: CSRF, headers, cookies, login rate limit, redirects, no inline script."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

import web
from web.security import CONTENT_SECURITY_POLICY

from webhelpers import NOTE, PASSWORD, base_config, build_app, token_for

TEMPLATES = Path(web.__file__).parent / "templates"


def _token(client, path: str) -> str:
    page = client.get(path).get_data(as_text=True)
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def test_login_without_csrf_token_is_rejected(csrf_app):
    """A login form posted without its token is refused with 400."""
    client = csrf_app.test_client()
    response = client.post("/login", data={"username": "vol", "password": PASSWORD})
    assert response.status_code == 400
    assert "Formularen var udløbet" in response.get_data(as_text=True)
    good = client.post("/login", data={"username": "vol", "password": PASSWORD,
                                       "csrf_token": _token(client, "/login")})
    assert good.status_code == 302


@pytest.mark.parametrize("path,data", [
    ("/volunteer/notes/new", {"text": NOTE, "area": "andet", "consent": "y"}),
    ("/logout", {}),
    ("/language", {"lang": "en"}),
])
def test_forms_without_csrf_token_are_rejected(csrf_app, path, data):
    """Every state-changing form needs the token, also when logged in."""
    client = csrf_app.test_client()
    client.post("/login", data={"username": "vol", "password": PASSWORD,
                                "csrf_token": _token(client, "/login")})
    assert client.post(path, data=data).status_code == 400
    assert client.post(path, data={**data, "csrf_token": "forged"}).status_code == 400
    token = _token(client, "/volunteer/notes/new")
    assert client.post(path, data={**data, "csrf_token": token}).status_code == 302


def test_caseworker_forms_need_csrf(csrf_app):
    """Decisions and closing are refused without the token."""
    client = csrf_app.test_client()
    client.post("/login", data={"username": "cw", "password": PASSWORD,
                                "csrf_token": _token(client, "/login")})
    api = csrf_app.test_client()
    headers = token_for(api, "vol")
    note = api.post("/api/v1/notes", json={"text": NOTE, "consent": True}, headers=headers)
    assert note.status_code == 201, "the bearer-token API needs no CSRF token"
    case = note.get_json()["id"]
    assert client.post(f"/caseworker/cases/{case}/close", data={"message": "x"}).status_code == 400
    decision = client.post(f"/caseworker/cases/{case}/decisions",
                           data={"entry_id": "sel-83", "decision": "confirm"})
    assert decision.status_code == 400


def test_security_headers(client):
    """Every response carries a strict CSP and the other security headers."""
    for path in ("/login", "/healthz", "/static/css/app.css", "/nowhere"):
        with client.get(path) as response:  # closes the static file
            headers = response.headers
        assert headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["X-Frame-Options"] == "DENY"
        assert headers["Referrer-Policy"] == "same-origin"
    assert "unsafe-inline" not in CONTENT_SECURITY_POLICY
    assert "script-src 'self'" in CONTENT_SECURITY_POLICY
    assert client.get("/login").headers["Cache-Control"] == "no-store"


def test_session_cookie_is_httponly_and_samesite(client, auth):
    """The session cookie cannot be read by scripts and is not sent cross-site."""
    cookie = auth.login("vol").headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_secure_cookies_and_hsts_when_configured(tmp_path, matcher):
    """Behind TLS, cookies are Secure and HSTS is sent."""
    config = base_config(tmp_path, f"sqlite:///{tmp_path / 's.db'}", matcher)
    app = build_app({**config, "SESSION_COOKIE_SECURE": True})
    response = app.test_client().post("/login", data={"username": "vol", "password": PASSWORD})
    assert "Secure" in response.headers["Set-Cookie"]
    assert "max-age" in response.headers["Strict-Transport-Security"]
    app.extensions["db_engine"].dispose()


def test_login_is_rate_limited(tmp_path, matcher):
    """Too many login attempts from one address get 429: the form and the API share one count."""
    config = base_config(tmp_path, f"sqlite:///{tmp_path / 'r.db'}", matcher)
    app = build_app({**config, "LOGIN_RATE_LIMIT": "4 per minute"})
    client = app.test_client()
    codes = [client.post("/login", data={"username": "vol", "password": "wrong"}).status_code
             for _ in range(2)]
    api = [client.post("/api/v1/auth/token", json={"username": "cw", "password": "x"})
           for _ in range(2)]
    assert codes + [r.status_code for r in api] == [401, 401, 401, 401]
    assert client.post("/api/v1/auth/token", json={"username": "adm", "password": PASSWORD}
                       ).status_code == 429
    refused = client.post("/login", data={})
    assert refused.status_code == 429 and "For mange forsøg" in refused.get_data(as_text=True)
    assert set(client.post("/api/v1/auth/token", json={}).get_json()) == {"error"}
    assert client.get("/login").status_code == 200, "only POSTs count"
    other = app.test_client().post("/login", data={"username": "vol", "password": PASSWORD},
                                   environ_base={"REMOTE_ADDR": "192.0.2.7"})
    assert other.status_code == 302, "another address is not refused"
    app.extensions["db_engine"].dispose()


def test_rate_limits_are_per_app(tmp_path, matcher):
    """Two apps in one process keep separate counters (no shared global limiter)."""
    config = base_config(tmp_path, f"sqlite:///{tmp_path / 'p.db'}", matcher)
    first = build_app({**config, "LOGIN_RATE_LIMIT": "1 per minute"})
    first.test_client().post("/login", data={"username": "vol", "password": "x"})
    config["DATABASE_URL"] = f"sqlite:///{tmp_path / 'q.db'}"
    second = build_app({**config, "LOGIN_RATE_LIMIT": "1 per minute"})
    response = second.test_client().post("/login", data={"username": "vol", "password": "x"})
    assert response.status_code == 401
    for app in (first, second):
        app.extensions["db_engine"].dispose()


@pytest.mark.parametrize("target,expected", [
    ("/caseworker/queue", "/caseworker/queue"),
    ("https://evil.example/", "/volunteer/notes"),
    ("//evil.example/", "/volunteer/notes"),
    ("javascript:alert(1)", "/volunteer/notes"),
    ("/\\evil.example/", "/volunteer/notes"),
    ("/caseworker/queue\r\nSet-Cookie: session=forged", "/volunteer/notes"),
    ("/volunteer/notes\n", "/volunteer/notes"),
])
def test_login_redirects_only_within_the_site(client, target, expected):
    """The ?next= target after login must be a local path."""
    response = client.post("/login", data={"username": "vol", "password": PASSWORD,
                                           "next": target})
    assert response.headers["Location"] == expected


def test_a_nul_byte_in_next_is_refused_and_logs_no_one_in(client):
    """NUL is refused in every form field (issue 11 §5): 400, and the user is not logged in."""
    response = client.post("/login", data={"username": "vol", "password": PASSWORD, "next": "/\x00"})
    assert response.status_code == 400
    assert client.get("/volunteer/notes").status_code == 302


def test_control_characters_in_next_are_dropped_from_the_form(client):
    """A ?next= with CR/LF is not echoed into the form; the page still answers 200."""
    page = client.get("/login?next=/caseworker/queue%0D%0ASet-Cookie:%20x=1")
    assert page.status_code == 200
    field = re.search(r'<input[^>]*id="next"[^>]*>', page.get_data(as_text=True)).group(0)
    assert "queue" not in field
    assert client.get("/login?next=%0D%0A").status_code == 200


def test_login_failure_is_generic(client):
    """A wrong password and an unknown user look the same."""
    wrong = client.post("/login", data={"username": "vol", "password": "wrong"})
    unknown = client.post("/login", data={"username": "nobody", "password": "wrong"})
    assert wrong.status_code == unknown.status_code == 401
    def page(response, username):
        # Only the username typed back and the (time-stamped) form token may differ.
        text = response.get_data(as_text=True).replace(f'value="{username}"', "")
        return re.sub(r'name="csrf_token" value="[^"]*"', "", text)

    assert page(wrong, "vol") == page(unknown, "nobody")


def test_logout_ends_the_session(client, auth):
    """After logging out the pages ask for a login again."""
    auth.login("vol")
    assert client.get("/volunteer/notes").status_code == 200
    auth.logout()
    assert client.get("/volunteer/notes").status_code == 302


def test_deactivated_users_are_logged_out(app, client, auth):
    """A user deactivated by an admin loses access at the next request."""
    from web import db

    from webhelpers import user
    auth.login("vol")
    with app.app_context():
        user(app, "vol").active = False
        db.session().commit()
    assert client.get("/volunteer/notes").status_code == 302


@pytest.mark.parametrize("template", sorted(TEMPLATES.rglob("*.html")), ids=lambda p: p.name)
def test_templates_have_no_inline_script_or_style(template):
    """The CSP forbids inline code, so the templates must not contain any."""
    source = template.read_text(encoding="utf-8")
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", source), "inline <script>"
    assert not re.search(r"\son[a-z]+\s*=", source), "inline event handler"
    assert not re.search(r"\sstyle\s*=", source) and "<style" not in source, "inline style"
    assert "http://" not in source and "//cdn" not in source, "external asset"
