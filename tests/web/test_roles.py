"""Role checks: a table of role x endpoint x expected status."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from web import db
from web.models import Suggestion

from webhelpers import AuthActions, token_for, user

ROLES = ("anon", "vol", "vol2", "other", "coord", "cw", "adm")
LOGIN = "login"  # a redirect to the login page
NOTE_FORM = {"text": "Hun kan ikke selv komme i bad og har brug for hjælp.", "area": "ældre",
             "consent": "y"}
NOTE_JSON = {"text": NOTE_FORM["text"], "consent": True}

# (method, path, body, endpoint, {role: status}); "vol" wrote the case, "vol2" is a colleague
# in the same organisation (who must not read it), "other" a volunteer of another organisation,
# "coord" the coordinator of the case's organisation (reads it, does not write on it).
PAGES = [
    ("GET", "/volunteer/notes/new", None, "volunteer.new_note",
     dict(anon=LOGIN, vol=200, vol2=200, other=200, coord=403, cw=403, adm=403)),
    ("POST", "/volunteer/notes/new", NOTE_FORM, "volunteer.new_note",
     dict(anon=LOGIN, vol=302, vol2=302, other=302, coord=403, cw=403, adm=403)),
    ("GET", "/volunteer/notes", None, "volunteer.my_cases",
     dict(anon=LOGIN, vol=200, vol2=200, other=200, coord=200, cw=403, adm=403)),
    ("GET", "/volunteer/notes/{case}", None, "volunteer.show_note",
     dict(anon=LOGIN, vol=200, vol2=404, other=404, coord=200, cw=403, adm=403)),
    ("GET", "/volunteer/notes/{case}/receipt", None, "volunteer.receipt",
     dict(anon=LOGIN, vol=200, vol2=404, other=404, coord=200, cw=403, adm=403)),
    ("POST", "/volunteer/notes/{case}/messages", {"text": "Hun bor alene."}, "volunteer.post_message",
     dict(anon=LOGIN, vol=302, vol2=404, other=404, coord=403, cw=403, adm=403)),
    ("POST", "/volunteer/notes/{case}/withdraw", {"reason": "Borgeren ønsker ikke hjælp."},
     "volunteer.withdraw", dict(anon=LOGIN, vol=302, vol2=404, other=404, coord=403, cw=403, adm=403)),
    ("GET", "/caseworker/queue", None, "caseworker.queue",
     dict(anon=LOGIN, vol=403, vol2=403, other=403, coord=403, cw=200, adm=403)),
    ("GET", "/caseworker/cases/{case}", None, "caseworker.show_case",
     dict(anon=LOGIN, vol=403, vol2=403, other=403, coord=403, cw=200, adm=403)),
    ("POST", "/caseworker/cases/{case}/decisions", {"entry_id": "{entry}", "decision": "confirm"},
     "caseworker.decide", dict(anon=LOGIN, vol=403, vol2=403, other=403, coord=403, cw=302, adm=403)),
    ("POST", "/caseworker/cases/{case}/close", {"message": "Tak", "confirmed": "yes"}, "caseworker.close",
     dict(anon=LOGIN, vol=403, vol2=403, other=403, coord=403, cw=302, adm=403)),
    ("POST", "/caseworker/cases/{case}/messages", {"text": "Bor hun alene?"}, "caseworker.ask",
     dict(anon=LOGIN, vol=403, vol2=403, other=403, coord=403, cw=302, adm=403)),
    ("POST", "/caseworker/cases/{case}/assign", {"to": "cw"}, "caseworker.assign",
     dict(anon=LOGIN, vol=403, vol2=403, other=403, coord=403, cw=302, adm=403)),
    # The case is open: the caseworker is let in and told it is not closed (flash, back to the case).
    ("POST", "/caseworker/cases/{case}/reopen", {"reason": "Ny oplysning"}, "caseworker.reopen",
     dict(anon=LOGIN, vol=403, vol2=403, other=403, coord=403, cw=302, adm=403)),
    ("GET", "/admin/", None, "admin.index",
     dict(anon=LOGIN, vol=403, vol2=403, other=403, coord=403, cw=403, adm=302)),
    ("GET", "/admin/users", None, "admin.users",
     dict(anon=LOGIN, vol=403, vol2=403, other=403, coord=403, cw=403, adm=200)),
    ("POST", "/admin/users/{vol2_id}/active", {}, "admin.toggle_active",
     dict(anon=LOGIN, vol=403, vol2=403, other=403, coord=403, cw=403, adm=302)),
    ("POST", "/admin/users/{vol2_id}/reset", {}, "admin.reset_password",
     dict(anon=LOGIN, vol=403, vol2=403, other=403, coord=403, cw=403, adm=201)),
    ("POST", "/admin/users/{cw2_id}/role", {"role": "admin"}, "admin.set_role",
     dict(anon=LOGIN, vol=403, vol2=403, other=403, coord=403, cw=403, adm=302)),
    ("GET", "/admin/audit", None, "admin.audit_log",
     dict(anon=LOGIN, vol=403, vol2=403, other=403, coord=403, cw=403, adm=200)),
    ("GET", "/admin/cases?ref={case}", None, "admin.cases",
     dict(anon=LOGIN, vol=403, vol2=403, other=403, coord=403, cw=403, adm=200)),
    ("POST", "/admin/cases/{case}/export", {}, "admin.export_case",
     dict(anon=LOGIN, vol=403, vol2=403, other=403, coord=403, cw=403, adm=200)),
    ("POST", "/admin/cases/{case}/delete", {"confirm": "{case}"}, "admin.delete_case",
     dict(anon=LOGIN, vol=403, vol2=403, other=403, coord=403, cw=403, adm=302)),
]
API = [
    ("POST", "/api/v1/auth/logout", None, "api.logout",
     dict(anon=401, vol=204, vol2=204, other=204, coord=204, cw=204, adm=204)),
    ("POST", "/api/v1/notes", NOTE_JSON, "api.create_note",
     dict(anon=401, vol=201, vol2=201, other=201, coord=403, cw=403, adm=403)),
    ("GET", "/api/v1/notes", None, "api.list_notes",
     dict(anon=401, vol=200, vol2=200, other=200, coord=200, cw=403, adm=403)),
    ("POST", "/api/v1/notes/{case}/withdraw", {"reason": "Borgeren ønsker ikke hjælp."}, "api.withdraw_note",
     dict(anon=401, vol=200, vol2=404, other=404, coord=403, cw=403, adm=403)),
    ("POST", "/api/v1/cases/{case}/messages", {"text": "Bor hun alene?"}, "api.post_message",
     dict(anon=401, vol=201, vol2=404, other=404, coord=403, cw=201, adm=403)),
    ("GET", "/api/v1/notes/{case}", None, "api.get_note",
     dict(anon=401, vol=200, vol2=404, other=404, coord=200, cw=403, adm=403)),
    ("GET", "/api/v1/queue", None, "api.queue",
     dict(anon=401, vol=403, vol2=403, other=403, coord=403, cw=200, adm=403)),
    ("GET", "/api/v1/cases/{case}", None, "api.get_case",
     dict(anon=401, vol=403, vol2=403, other=403, coord=403, cw=200, adm=403)),
    ("POST", "/api/v1/cases/{case}/decisions", {"entry_id": "{entry}", "decision": "reject"},
     "api.decide", dict(anon=401, vol=403, vol2=403, other=403, coord=403, cw=201, adm=403)),
    ("POST", "/api/v1/cases/{case}/close", {"message": "Tak"}, "api.close",
     dict(anon=401, vol=403, vol2=403, other=403, coord=403, cw=200, adm=403)),
    ("POST", "/api/v1/cases/{case}/assign", {"to": "cw"}, "api.assign",
     dict(anon=401, vol=403, vol2=403, other=403, coord=403, cw=200, adm=403)),
    # The case is open: 409 shows the caseworker got past the role check.
    ("POST", "/api/v1/cases/{case}/reopen", {"reason": "Ny oplysning"}, "api.reopen",
     dict(anon=401, vol=403, vol2=403, other=403, coord=403, cw=409, adm=403)),
    ("GET", "/api/v1/rules?q=hj%C3%A6lp", None, "api.rules",
     dict(anon=401, vol=403, vol2=403, other=403, coord=403, cw=200, adm=403)),
    ("GET", "/healthz", None, "api.healthz", dict.fromkeys(ROLES, 200)),
    ("GET", "/openapi.json", None, "api.openapi", dict.fromkeys(ROLES, 200)),
]
# Open to everyone by design: the login flow itself (a set-password link is its own key).
PUBLIC = {"static", "auth.index", "auth.login", "auth.logout", "auth.language", "api.token",
          "auth.set_password"}


def _fill(value, names: dict):
    if isinstance(value, str):
        return value.format(**names)
    if isinstance(value, dict):
        return {k: _fill(v, names) for k, v in value.items()}
    return value


@pytest.fixture
def names(app, case_id) -> dict:
    """Values for the placeholders in the table."""
    with app.app_context():
        entry = db.session().scalar(select(Suggestion.entry_id).limit(1))
        return {"case": case_id, "entry": entry, "vol2_id": user(app, "vol2").id,
                "cw2_id": user(app, "cw2").id}


def _case(row, role):
    method, path, body, endpoint, expected = row
    return pytest.param(method, path, body, expected[role], role, id=f"{role}-{method}-{path}")


@pytest.mark.parametrize("method,path,body,expected,role",
                         [_case(row, role) for row in PAGES for role in ROLES])
def test_page_roles(app, names, method, path, body, expected, role):
    """Each page admits only its role; others get 403, anonymous users the login page."""
    client = app.test_client()
    if role != "anon":
        assert AuthActions(client).login(role).status_code == 302
    response = client.open(_fill(path, names), method=method, data=_fill(body, names))
    if expected == LOGIN:
        assert response.status_code == 302
        assert response.headers["Location"].startswith("/login")
    else:
        assert response.status_code == expected
        if expected == 302:
            assert not response.headers["Location"].startswith("/login")


@pytest.mark.parametrize("method,path,body,expected,role",
                         [_case(row, role) for row in API for role in ROLES])
def test_api_roles(app, names, method, path, body, expected, role):
    """API endpoints answer 401 without a token, 403/404 to the wrong role or organisation."""
    client = app.test_client()
    headers = {} if role == "anon" else token_for(client, role)
    response = client.open(_fill(path, names), method=method, json=_fill(body, names),
                           headers=headers)
    assert response.status_code == expected
    if expected >= 400:
        assert response.is_json and set(response.get_json()) == {"error"}


def test_every_endpoint_is_in_the_table(app):
    """A new endpoint cannot be added without deciding who may use it."""
    covered = {row[3] for row in PAGES + API}
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    assert endpoints - PUBLIC == covered


@pytest.mark.parametrize("role,path,expected", [
    ("cw", "/caseworker/cases/AAAA-BBBB-CCCC-DDDD", 404),
    ("vol", "/volunteer/notes/AAAA-BBBB-CCCC-DDDD", 404),
])
def test_unknown_case_pages_are_404(app, role, path, expected):
    """Unknown references are simply not found."""
    client = app.test_client()
    AuthActions(client).login(role)
    assert client.get(path).status_code == expected


@pytest.mark.parametrize("role,path", [
    ("cw", "/api/v1/cases/AAAA-BBBB-CCCC-DDDD"),
    ("vol", "/api/v1/notes/AAAA-BBBB-CCCC-DDDD"),
])
def test_unknown_ids_in_the_api_are_404(app, role, path):
    """Unknown ids answer 404 with a JSON error."""
    client = app.test_client()
    response = client.get(path, headers=token_for(client, role))
    assert response.status_code == 404
    assert "error" in response.get_json()
