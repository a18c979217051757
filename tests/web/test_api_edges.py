"""API behaviour the contract tests in test_api.py do not reach (issue 16, section 2)."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from web import cases, db
from web.models import AuditEvent

from webhelpers import PASSWORD, post_note, token_for, user


def _events(app) -> list[tuple[str | None, str, str | None]]:
    """Every audit event as (username, action, target), oldest first."""
    with app.app_context():
        rows = db.session().scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
        return [(r.user.username if r.user else None, r.action, r.target) for r in rows]


def test_a_deactivated_users_token_stops_working(app, client, vol):
    """A token issued before the account was deactivated is refused with 401 JSON."""
    assert post_note(client, vol).status_code == 201
    with app.app_context():
        user(app, "vol").active = False
        db.session().commit()
    refused = post_note(client, vol)
    assert refused.status_code == 401 and set(refused.get_json()) == {"error"}
    assert client.post("/api/v1/auth/token",
                       json={"username": "vol", "password": PASSWORD}).status_code == 401


def test_a_body_above_the_limit_is_413_json(app, client, vol):
    """Above MAX_CONTENT_LENGTH the API answers 413 with a JSON error, and stores nothing."""
    huge = post_note(client, vol, text="ord " * 100_000)
    assert huge.status_code == 413 and set(huge.get_json()) == {"error"}
    with app.app_context():
        assert cases.readable_cases(db.session(), user(app, "vol")) == []


@pytest.mark.parametrize("field,size,needle", [
    ("organisation_wishes", cases.WISHES_MAX, "organisation_wishes must be at most 2000"),
])
def test_too_long_wishes_are_400(client, vol, field, size, needle):
    """Wishes one character above the limit are refused; at the limit they are kept."""
    assert post_note(client, vol, **{field: "x" * size}).status_code == 201
    refused = post_note(client, vol, **{field: "x" * (size + 1)})
    assert refused.status_code == 400 and needle in refused.get_json()["error"]


def test_too_long_reason_and_message_are_400_and_change_nothing(client, vol, cw):
    """A reason or closing message above its limit is refused; the case stays as it was."""
    note_id = post_note(client, vol).get_json()["id"]
    entry = client.get(f"/api/v1/cases/{note_id}", headers=cw).get_json()["suggestions"][0]["id"]
    long_reason = client.post(f"/api/v1/cases/{note_id}/decisions", headers=cw, json={
        "entry_id": entry, "decision": "reject", "reason": "x" * (cases.REASON_MAX + 1)})
    assert long_reason.status_code == 400
    assert long_reason.get_json() == {"error": f"reason must be at most {cases.REASON_MAX} characters"}
    long_message = client.post(f"/api/v1/cases/{note_id}/close", headers=cw,
                               json={"message": "x" * (cases.MESSAGE_MAX + 1)})
    assert long_message.status_code == 400
    assert long_message.get_json() == {"error": f"message must be at most {cases.MESSAGE_MAX} characters"}
    case = client.get(f"/api/v1/cases/{note_id}", headers=cw).get_json()
    assert case["status"] == "pending" and case["decisions"] == [] and case["message"] is None


def test_the_decision_answer_names_the_decision_and_the_case_status(client, vol, cw):
    """201 with the decision's id, the entry, the verdict and the case's new status."""
    note_id = post_note(client, vol).get_json()["id"]
    entry = client.get(f"/api/v1/cases/{note_id}", headers=cw).get_json()["suggestions"][0]["id"]
    response = client.post(f"/api/v1/cases/{note_id}/decisions", headers=cw,
                           json={"entry_id": entry, "decision": "reject"})
    assert response.status_code == 201
    body = response.get_json()
    assert set(body) == {"id", "entry_id", "decision", "status"} and isinstance(body["id"], int)
    assert (body["entry_id"], body["decision"], body["status"]) == (entry, "reject", "in_review")


def test_match_top_sets_how_many_suggestions_a_note_keeps(app, client, vol, cw):
    """MATCH_TOP suggestions are stored per note."""
    app.config["MATCH_TOP"] = 3
    note_id = post_note(client, vol).get_json()["id"]
    suggestions = client.get(f"/api/v1/cases/{note_id}", headers=cw).get_json()["suggestions"]
    assert [s["rank"] for s in suggestions] == [1, 2, 3]


def test_an_entry_added_by_hand_is_marked_as_the_caseworkers(client, vol, cw, matcher):
    """An entry the engine missed, confirmed by a caseworker, shows origin 'caseworker', no rank."""
    note_id = post_note(client, vol).get_json()["id"]
    case = client.get(f"/api/v1/cases/{note_id}", headers=cw).get_json()
    assert {s["origin"] for s in case["suggestions"]} == {"engine"}
    listed = {s["id"] for s in case["suggestions"]}
    missed = next(e.id for e in matcher.corpus.entries if e.id not in listed)
    added = client.post(f"/api/v1/cases/{note_id}/decisions", headers=cw,
                        json={"entry_id": missed, "decision": "confirm"})
    assert added.status_code == 201
    row = next(s for s in client.get(f"/api/v1/cases/{note_id}", headers=cw).get_json()["suggestions"]
               if s["id"] == missed)
    assert row["origin"] == "caseworker" and row["rank"] is None and row["decision"] == "confirm"


@pytest.mark.parametrize("limit", ["abc", "1.5", "-1", "0", "101", ""])
def test_a_limit_that_is_not_a_whole_number_in_range_is_400(client, cw, limit):
    """?limit=abc is an error, not a silent default of 20."""
    response = client.get(f"/api/v1/rules?q=hj%C3%A6lp&limit={limit}", headers=cw)
    assert response.status_code == 400 and "limit" in response.get_json()["error"]


def test_a_limit_in_range_is_kept(client, cw):
    """limit=5 gives five entries, and no limit the default 20."""
    assert len(client.get("/api/v1/rules?q=hj%C3%A6lp&limit=5", headers=cw).get_json()["items"]) == 5
    assert len(client.get("/api/v1/rules?q=hj%C3%A6lp", headers=cw).get_json()["items"]) == 20


def test_tokens_failed_logins_and_reads_are_audited(app, client):
    """token.issue names the user; login.failed stores no username; note.view names the case."""
    headers = token_for(client, "vol")
    bad = client.post("/api/v1/auth/token", json={"username": "vol-typo", "password": "hunter2-secret"})
    assert bad.status_code == 401
    note_id = post_note(client, headers).get_json()["id"]
    assert client.get(f"/api/v1/notes/{note_id}", headers=headers).status_code == 200
    events = _events(app)
    assert ("vol", "token.issue", None) in events
    assert (None, "login.failed", None) in events
    assert ("vol", "note.view", note_id) in events
    assert not any("vol-typo" in str(e) or "hunter2" in str(e) for e in events)


def test_healthz_is_503_while_the_engine_loads_and_starts_the_load(tmp_path, sqlite_template):
    """A process whose engine is not loaded is not ready: 503, and the check starts the load."""
    import shutil
    import time

    from web import create_app
    from tests.conftest import write_rules
    from webhelpers import base_config

    target = tmp_path / "app.db"
    shutil.copyfile(sqlite_template, target)
    config = base_config(tmp_path, f"sqlite:///{target}", None)
    config["MATCHER_SETTINGS"] = {"rules_dir": write_rules(tmp_path / "rules"), "index_dir": tmp_path / "idx",
                                  "encoder": "hashing"}
    app = create_app(config)
    client = app.test_client()
    first = client.get("/healthz")
    assert first.status_code == 503
    assert "loading" in first.get_json()["error"]
    for _ in range(600):  # the load runs in its own thread; wait for it without timing it
        if "matcher" in app.extensions:
            break
        time.sleep(0.05)
    ready = client.get("/healthz")
    assert ready.status_code == 200 and ready.get_json()["engine_loaded"] is True
    app.extensions["db_engine"].dispose()
