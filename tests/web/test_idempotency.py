"""POST /api/v1/notes with an Idempotency-Key: a client that timed out and retries gets the first case."""
from __future__ import annotations

import json
import threading
import urllib.request

import pytest
import waitress
from sqlalchemy import func, select

from web import db as web_db
from web.models import Case

from webhelpers import NOTE, token_for

BODY = {"text": NOTE, "area": "ældre", "consent": True, "organisation_wishes": "Besøgsven"}


def _cases(app) -> int:
    with app.app_context():
        return web_db.session().scalar(select(func.count()).select_from(Case))


def test_a_retry_with_the_same_key_returns_the_first_case(store_app):
    client = store_app.test_client()
    headers = {**token_for(client, "vol"), "Idempotency-Key": "6f1c2b1e-2d7a-4f0e-9a57-0c3b5d1e8a42"}
    first = client.post("/api/v1/notes", json=BODY, headers=headers)
    again = client.post("/api/v1/notes", json=BODY, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.get_json() == first.get_json()
    assert "Idempotent-Replayed" not in first.headers and again.headers["Idempotent-Replayed"] == "true"
    assert _cases(store_app) == 1
    # The case moves on; a late retry still answers as the first request did, and adds nothing.
    cw = token_for(client, "cw")
    closed = client.post(f"/api/v1/cases/{first.get_json()['id']}/close", json={"message": "Tak."}, headers=cw)
    assert closed.status_code == 200
    late = client.post("/api/v1/notes", json=BODY, headers=headers)
    assert late.status_code == 201 and late.get_json() == first.get_json()
    assert _cases(store_app) == 1


def test_keys_are_per_user_and_absent_keys_change_nothing(store_app):
    client = store_app.test_client()
    key = {"Idempotency-Key": "same-key"}
    one = client.post("/api/v1/notes", json=BODY, headers={**token_for(client, "vol"), **key})
    two = client.post("/api/v1/notes", json=BODY, headers={**token_for(client, "vol2"), **key})
    assert one.status_code == two.status_code == 201 and one.get_json()["id"] != two.get_json()["id"]
    plain = token_for(client, "vol")
    client.post("/api/v1/notes", json=BODY, headers=plain)
    client.post("/api/v1/notes", json=BODY, headers=plain)
    assert _cases(store_app) == 4


def test_the_same_key_for_another_note_is_refused(store_app):
    client = store_app.test_client()
    headers = {**token_for(client, "vol"), "Idempotency-Key": "k-1"}
    assert client.post("/api/v1/notes", json=BODY, headers=headers).status_code == 201
    for change in ({"text": NOTE + " Hun er også ensom."}, {"area": "andet"}, {"organisation_wishes": None}):
        response = client.post("/api/v1/notes", json={**BODY, **change}, headers=headers)
        assert response.status_code == 422 and "Idempotency-Key" in response.get_json()["error"]
    assert _cases(store_app) == 1


@pytest.mark.parametrize("key", ["", "x" * 256, "tab\there", "ctl\x01"])
def test_a_malformed_key_is_refused(app, client, key):
    response = client.post("/api/v1/notes", json=BODY, headers={**token_for(client, "vol"), "Idempotency-Key": key})
    assert response.status_code == 400 and "Idempotency-Key" in response.get_json()["error"]
    assert _cases(app) == 0


def test_concurrent_retries_store_one_case(store_app):
    """Retries that arrive while the first is still being matched: one case, the same answer to all."""
    headers = {**token_for(store_app.test_client(), "vol"), "Idempotency-Key": "concurrent",
               "Content-Type": "application/json"}
    server = waitress.create_server(store_app, host="127.0.0.1", port=0, threads=6)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    barrier, answers = threading.Barrier(5), []

    def submit():
        request = urllib.request.Request(f"http://127.0.0.1:{server.effective_port}/api/v1/notes", method="POST",
                                         data=json.dumps(BODY).encode(), headers=headers)
        barrier.wait()
        with urllib.request.urlopen(request, timeout=30) as response:
            answers.append((response.status, json.loads(response.read())))

    workers = [threading.Thread(target=submit) for _ in range(5)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    server.close()
    thread.join(5)
    assert len(answers) == 5 and {status for status, _ in answers} == {201}
    assert len({body["id"] for _, body in answers}) == 1
    assert _cases(store_app) == 1
