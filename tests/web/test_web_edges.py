"""Web behaviour no other test reached (issue 16, section 2): start pages, the session at login,
headers, refused decisions, audit paging and a failing learn."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from web import admin, audit, cases, db
from web.models import Decision

from webhelpers import add_case, token_for, user

EXPECTED_HOME = {"vol": "/volunteer/notes", "cw": "/caseworker/queue", "adm": "/admin/users"}


def test_the_front_page_sends_everyone_to_their_start(client, auth):
    """Anonymous people go to the login; each role to its own start page."""
    assert client.get("/").headers["Location"].startswith("/login")
    for username, home in EXPECTED_HOME.items():
        login = auth.login(username)
        assert login.status_code == 302 and login.headers["Location"] == home, username
        assert client.get("/").headers["Location"] == home, username
        auth.logout()
        assert client.get("/").headers["Location"].startswith("/login")


def test_login_starts_an_empty_session_that_keeps_the_language(client, auth):
    """Whatever the session held before the login is dropped, except the chosen language."""
    client.post("/language", data={"lang": "en"})
    with client.session_transaction() as sess:
        sess["planted"] = "by an attacker"
    auth.login("vol")
    with client.session_transaction() as sess:
        assert "planted" not in sess and sess.get("lang") == "en"
    assert '<html lang="en">' in client.get("/volunteer/notes").get_data(as_text=True)


def test_case_pages_and_the_api_are_never_cached(app, client, auth, case_id):
    """Pages and API answers with case text carry Cache-Control: no-store."""
    auth.login("cw")
    assert client.get(f"/caseworker/cases/{case_id}").headers["Cache-Control"] == "no-store"
    api = app.test_client()
    answer = api.get(f"/api/v1/cases/{case_id}", headers=token_for(api, "cw"))
    assert answer.status_code == 200 and answer.headers["Cache-Control"] == "no-store"
    auth.logout()
    auth.login("vol")
    assert client.get(f"/volunteer/notes/{case_id}").headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize("path", ["/login", "/api/v1/queue", "/healthz", "/static/css/app.css"])
def test_isolation_and_permissions_headers(client, path):
    """No camera, microphone, location or payment; no cross-origin window or embedding."""
    with client.get(path) as response:
        headers = response.headers
    assert headers["Permissions-Policy"] == "camera=(), microphone=(), geolocation=(), payment=()"
    assert headers["Cross-Origin-Opener-Policy"] == "same-origin"
    assert headers["Cross-Origin-Resource-Policy"] == "same-origin"


def _decisions(app) -> int:
    with app.app_context():
        return db.session().scalar(select(func.count()).select_from(Decision))


def test_a_decision_on_a_closed_case_or_an_unknown_entry_is_refused_with_a_message(app, client, auth):
    """The case page says why; nothing is stored."""
    public_id = add_case(app)
    url = f"/caseworker/cases/{public_id}"
    auth.login("cw")
    unknown = client.post(f"{url}/decisions", data={"entry_id": "sel-9999", "decision": "confirm"},
                          follow_redirects=True)
    assert "Den valgte regel eller det valgte tilbud findes ikke." in unknown.get_data(as_text=True)
    assert _decisions(app) == 0
    assert client.post(f"{url}/close", data={"message": "Færdig.", "confirmed": "yes"}).status_code == 302
    with app.app_context():
        entry = sorted(cases.get_case(db.session(), public_id).suggestions, key=lambda s: s.rank)[0].entry_id
    closed = client.post(f"{url}/decisions", data={"entry_id": entry, "decision": "confirm"},
                         follow_redirects=True)
    assert "Sagen er allerede lukket og kan ikke ændres." in closed.get_data(as_text=True)
    assert _decisions(app) == 0


def test_the_audit_log_pages_newest_first(app, client, auth, monkeypatch):
    """A page holds AUDIT_PAGE_SIZE events; 'older' and 'newer' links walk through the rest."""
    monkeypatch.setattr(admin, "AUDIT_PAGE_SIZE", 3)
    with app.app_context():
        store = db.session()
        for i in range(5):
            audit.record(store, user(app, "cw"), "case.view", f"K-{i}")
        store.commit()
    auth.login("adm")  # the sixth and newest event

    def targets(page):
        html = client.get(f"/admin/audit?page={page}").get_data(as_text=True)
        rows = re.findall(r"<td><code>([^<]*)</code></td>\s*<td>([^<]*)</td>", html)
        return [target or action for action, target in rows], html

    first, html = targets(1)
    assert first == ["login", "K-4", "K-3"]
    assert "page=2" in html and "page=0" not in html
    second, html = targets(2)
    assert second == ["K-2", "K-1", "K-0"] and "page=1" in html and "page=3" not in html
    assert targets(3)[0] == []


def test_a_failing_learn_keeps_the_decision(app, client, auth, matcher, caplog):
    """The engine failing to learn is logged; the caseworker's decision stays stored."""
    class Failing:
        def __getattr__(self, name):
            return getattr(matcher, name)

        def learn(self, examples):
            raise RuntimeError("the engine is busy")

    public_id = add_case(app)
    app.extensions["matcher"] = Failing()
    app.config["LEARN_FROM_DECISIONS"] = True
    with app.app_context():
        entry = sorted(cases.get_case(db.session(), public_id).suggestions, key=lambda s: s.rank)[0].entry_id
    auth.login("cw")
    response = client.post(f"/caseworker/cases/{public_id}/decisions",
                           data={"entry_id": entry, "decision": "confirm"})
    assert response.status_code == 302
    assert _decisions(app) == 1
    with app.app_context():
        assert cases.get_case(db.session(), public_id).status == "in_review"
    assert "could not learn" in caplog.text
