"""The JSON API contract of issue 3, section 6."""
from __future__ import annotations

import pytest

from webhelpers import NOTE, PASSWORD, post_note


@pytest.fixture
def app(store_app):
    """The API contract holds on each available backend."""
    return store_app


def test_token(client):
    """Good credentials give a token and the role; bad ones 401 with a JSON error."""
    response = client.post("/api/v1/auth/token", json={"username": "cw", "password": PASSWORD})
    assert response.status_code == 200
    body = response.get_json()
    assert body["role"] == "caseworker" and len(body["token"]) >= 40 and body["expires_at"]
    bad = client.post("/api/v1/auth/token", json={"username": "cw", "password": "nope"})
    assert bad.status_code == 401 and "error" in bad.get_json()
    assert bad.headers["WWW-Authenticate"] == "Bearer"
    assert client.post("/api/v1/auth/token", data="x").status_code == 400
    assert client.post("/api/v1/auth/token", json={"username": 1}).status_code == 400


@pytest.mark.parametrize("body,needle", [
    ({"text": NOTE}, "consent"),
    ({"text": NOTE, "consent": False}, "consent"),
    ({"text": NOTE, "consent": "yes"}, "consent"),
    ({"text": "", "consent": True}, "text"),
    ({"text": "   ", "consent": True}, "text"),
    ({"consent": True}, "text"),
    ({"text": "for kort", "consent": True}, "at least 20"),
    ({"text": "x" * 5001, "consent": True}, "at most 5000"),
    ({"text": 42, "consent": True}, "text"),
    ({"text": NOTE, "consent": True, "area": "mars"}, "area"),
    ({"text": NOTE, "consent": True, "organisation_wishes": 3}, "organisation_wishes"),
    ([NOTE], "JSON object"),
])
def test_bad_notes_get_400_with_a_clear_message(client, vol, body, needle):
    """Missing consent, empty, short or long text, bad types: 400 {error}."""
    response = client.post("/api/v1/notes", json=body, headers=vol)
    assert response.status_code == 400
    assert set(response.get_json()) == {"error"} and needle in response.get_json()["error"]


def test_note_lifecycle(client, vol, cw):
    """Submit, queue, case, decide, close; the volunteer then sees the outcome only."""
    text = NOTE + " Hun bor alene på tredje sal uden elevator og kommer sjældent ud."
    assert len(text) > 160
    created = post_note(client, vol, text=text, area="ældre", organisation_wishes="Et lokale, tak.")
    assert created.status_code == 201
    note_id = created.get_json()["id"]
    assert created.get_json()["status"] == "pending"

    note = client.get(f"/api/v1/notes/{note_id}", headers=vol).get_json()
    assert note["status"] == "pending" and note["outcome"] == [] and note["message"] is None
    assert note["text"] == text and "suggestions" not in note

    queue = client.get("/api/v1/queue", headers=cw).get_json()["items"]
    row = next(item for item in queue if item["id"] == note_id)
    assert set(row) >= {"id", "created_at", "area", "excerpt", "top"}
    assert row["area"] == "ældre" and row["excerpt"].endswith(" …")
    cut = row["excerpt"].removesuffix(" …")
    # cut at the last whole word within 160 characters, never mid-word
    assert text.startswith(cut + " ") and 100 < len(cut) <= 160 and len(text) > len(cut)
    next_word = text[len(cut) + 1:].split(" ", 1)[0]
    assert len(cut) + 1 + len(next_word) > 160, "the excerpt stops a whole word early"
    assert set(row["top"]) >= {"id", "kind", "law", "section", "title", "score"}

    case = client.get(f"/api/v1/cases/{note_id}", headers=cw).get_json()
    assert case["text"] == text and case["organisation_wishes"] == "Et lokale, tak."
    assert case["status"] == "pending" and case["decisions"] == []
    first, second = case["suggestions"][:2]
    assert set(first) >= {"id", "kind", "law", "section", "title", "score", "evidence"}
    assert first["id"] == row["top"]["id"]

    confirm = client.post(f"/api/v1/cases/{note_id}/decisions", headers=cw,
                          json={"entry_id": first["id"], "decision": "confirm",
                                "reason": "Passer godt"})
    assert confirm.status_code == 201 and confirm.get_json()["status"] == "in_review"
    reject = client.post(f"/api/v1/cases/{note_id}/decisions", headers=cw,
                         json={"entry_id": second["id"], "decision": "reject"})
    assert reject.status_code == 201

    case = client.get(f"/api/v1/cases/{note_id}", headers=cw).get_json()
    assert [(d["entry_id"], d["decision"], d["by"]) for d in case["decisions"]] == [
        (first["id"], "confirm", "cw"), (second["id"], "reject", "cw")]
    assert case["decisions"][0]["reason"] == "Passer godt"

    closed = client.post(f"/api/v1/cases/{note_id}/close", headers=cw,
                         json={"message": "Visitationen ringer til hende."})
    assert closed.status_code == 200 and closed.get_json()["status"] == "closed"

    note = client.get(f"/api/v1/notes/{note_id}", headers=vol).get_json()
    assert note["status"] == "closed"
    assert note["message"] == "Visitationen ringer til hende."
    assert note["outcome"] == [{"id": first["id"], "kind": first["kind"], "law": first["law"],
                                "section": first["section"], "title": first["title"]}]


def test_decision_values_are_checked(client, vol, cw):
    """Only confirm and reject are decisions; entry ids must exist; closed cases answer 409."""
    note_id = post_note(client, vol).get_json()["id"]
    entry = client.get(f"/api/v1/cases/{note_id}", headers=cw).get_json()["suggestions"][0]["id"]
    url = f"/api/v1/cases/{note_id}/decisions"
    for body in ({"entry_id": entry, "decision": "maybe"}, {"entry_id": entry},
                 {"decision": "confirm"}, {"entry_id": "no-such-entry", "decision": "confirm"},
                 {"entry_id": entry, "decision": "confirm", "reason": 5}):
        response = client.post(url, json=body, headers=cw)
        assert response.status_code == 400, body
        assert "error" in response.get_json()
    assert client.post(f"/api/v1/cases/{note_id}/close", json={"message": "Tak."}, headers=cw).status_code == 200
    again = client.post(url, json={"entry_id": entry, "decision": "confirm"}, headers=cw)
    assert again.status_code == 409 and again.get_json() == {"error": "the case is closed or withdrawn"}
    assert client.post(f"/api/v1/cases/{note_id}/close", json={"message": "Tak."}, headers=cw).status_code == 409


def test_queue_filters(client, vol, cw):
    """?area= and ?status= filter the queue; unknown values are 400."""
    elderly = post_note(client, vol, area="ældre").get_json()["id"]
    refugee = post_note(client, vol, area="flygtning").get_json()["id"]
    ids = [i["id"] for i in client.get("/api/v1/queue", headers=cw).get_json()["items"]]
    assert ids == [elderly, refugee]
    only = client.get("/api/v1/queue?area=flygtning", headers=cw).get_json()["items"]
    assert [i["id"] for i in only] == [refugee]
    ascii_area = client.get("/api/v1/queue?area=aeldre", headers=cw).get_json()["items"]
    assert [i["id"] for i in ascii_area] == [elderly]
    client.post(f"/api/v1/cases/{elderly}/close", json={"reason": "not_municipal"}, headers=cw)
    closed = client.get("/api/v1/queue?status=closed", headers=cw).get_json()["items"]
    assert [i["id"] for i in closed] == [elderly]
    lost = client.get("/api/v1/queue?status=lost", headers=cw)
    assert lost.status_code == 400 and "status must be one of: open" in lost.get_json()["error"]
    mars = client.get("/api/v1/queue?area=mars", headers=cw)
    assert mars.status_code == 400 and "area must be one of" in mars.get_json()["error"]


def test_rules_search(client, cw, matcher):
    """GET /api/v1/rules?q= searches the corpus; q is required."""
    word = matcher.corpus.entries[0].title.split()[0]
    items = client.get(f"/api/v1/rules?q={word}", headers=cw).get_json()["items"]
    assert items and set(items[0]) >= {"id", "kind", "law", "section", "title", "source_url"}
    two = client.get("/api/v1/rules?q=hj%C3%A6lp&limit=2", headers=cw).get_json()["items"]
    assert len(two) == 2
    assert client.get("/api/v1/rules", headers=cw).status_code == 400
    assert client.get("/api/v1/rules?q=a&limit=0", headers=cw).status_code == 400


def test_tokens_are_checked(client):
    """Malformed, unknown or non-bearer credentials are 401 with a JSON error."""
    for header in ("", "Bearer", "Bearer nonsense", "Basic dm9sOnB3"):
        response = client.get("/api/v1/queue", headers={"Authorization": header})
        assert response.status_code == 401 and "error" in response.get_json()


def test_every_api_error_is_json(client, cw):
    """An unknown API path is 404, a wrong method on a known one 405, both with JSON {error}."""
    for response, status in ((client.get("/api/v1/nothing-here", headers=cw), 404),
                             (client.delete("/api/v1/queue", headers=cw), 405)):
        assert response.status_code == status
        assert set(response.get_json()) == {"error"}


def test_healthz(client):
    """/healthz answers 200 without authentication."""
    response = client.get("/healthz")
    assert response.status_code == 200 and response.get_json()["status"] == "ok"
