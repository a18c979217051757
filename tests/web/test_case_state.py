"""Case state under concurrency: one close wins, nothing is decided on a closed case (issue 11, § 4)."""
from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request

import pytest
import waitress
from sqlalchemy import select, text, update
from sqlalchemy.exc import IntegrityError

from web import db as web_db
from web.models import AuditEvent, Case, Decision

from webhelpers import add_case, token_for

TRIALS = 8


def _post(base: str, path: str, body: dict, headers: dict) -> tuple[int, dict | None]:
    request = urllib.request.Request(base + path, method="POST", data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json", **headers})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"null")


def _race(base: str, headers: dict, ref: str, entries: list[str]) -> list[tuple[str, int, dict | None]]:
    """Three closes and a decision per entry, started together from their own threads."""
    barrier = threading.Barrier(3 + len(entries))
    answers: list[tuple[str, int, dict | None]] = []

    def act(kind: str, body: dict):
        barrier.wait()
        path = f"/api/v1/cases/{ref}/{'close' if kind == 'close' else 'decisions'}"
        answers.append((kind, *_post(base, path, body, headers)))

    threads = [threading.Thread(target=act, args=("close", {"message": "Tak."})) for _ in range(3)]
    threads += [threading.Thread(target=act, args=("decide", {"entry_id": e, "decision": "confirm"}))
                for e in entries]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return answers


@pytest.fixture
def server(store_app):
    """The app served by waitress with 8 threads, each request on its own connection."""
    srv = waitress.create_server(store_app, host="127.0.0.1", port=0, threads=8)
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{srv.effective_port}"
    srv.close()
    thread.join(5)


def test_concurrent_closes_and_decisions(store_app, server):
    """Three closes and three decisions at once: one close wins, the rest 409, no decision after it."""
    headers = token_for(store_app.test_client(), "cw")
    for _ in range(TRIALS):
        ref = add_case(store_app)
        with store_app.app_context():
            case = web_db.session().scalar(select(Case).where(Case.public_id == ref))
            entries = [s.entry_id for s in case.suggestions][:3]
        assert len(entries) == 3
        answers = _race(server, headers, ref, entries)

        closes = sorted(status for kind, status, _ in answers if kind == "close")
        assert closes == [200, 409, 409], answers
        for kind, status, data in answers:
            assert status in ((200, 409) if kind == "close" else (201, 409)), answers
            if status == 409:
                assert data == {"error": "the case is closed or withdrawn"}
        with store_app.app_context():
            store = web_db.session()
            case = store.scalar(select(Case).where(Case.public_id == ref))
            assert case.status == "closed" and case.closed_at is not None
            stored = list(store.scalars(select(Decision).where(Decision.case_id == case.id)))
            accepted = sum(1 for kind, status, _ in answers if kind == "decide" and status == 201)
            assert len(stored) == accepted
            # Each change writes its audit event under its claim on the case: their order is the
            # order the changes took effect, and no decision comes after the close.
            actions = list(store.scalars(select(AuditEvent.action).where(AuditEvent.target.startswith(ref))
                                         .order_by(AuditEvent.id)))
            assert actions.count("case.close") == 1
            assert "case.confirm" not in actions[actions.index("case.close"):]


def test_decision_on_a_closed_case_is_refused(store_app):
    """A decision or a second close on a closed case: 409 with a message, and nothing stored."""
    client = store_app.test_client()
    headers = token_for(client, "cw")
    ref = add_case(store_app)
    assert client.post(f"/api/v1/cases/{ref}/close", json={"message": "Tak."}, headers=headers).status_code == 200
    entry = client.get(f"/api/v1/cases/{ref}", headers=headers).get_json()["suggestions"][0]["id"]
    response = client.post(f"/api/v1/cases/{ref}/decisions", json={"entry_id": entry, "decision": "confirm"},
                           headers=headers)
    assert response.status_code == 409 and response.get_json() == {"error": "the case is closed or withdrawn"}
    again = client.post(f"/api/v1/cases/{ref}/close", json={"message": "igen"}, headers=headers)
    assert again.status_code == 409 and again.get_json() == {"error": "the case is closed or withdrawn"}
    case = client.get(f"/api/v1/cases/{ref}", headers=headers).get_json()
    assert case["decisions"] == [] and case["status"] == "closed" and case["message"] == "Tak."


def test_a_decision_on_a_case_closed_meanwhile_is_refused(app, matcher):
    """The case object a request loaded says open, but another request closed it since: 409."""
    from web import cases
    from webhelpers import user

    ref = add_case(app)
    with app.app_context():
        store = web_db.session()
        case = cases.get_case(store, ref)
        entry = case.suggestions[0].entry_id
        with app.app_context():  # another request, its own session and connection
            other = web_db.session()
            cases.close(other, cases.get_case(other, ref), user(app, "cw"), "Tak.")
        assert case.status == "pending"  # stale in this session
        with pytest.raises(cases.CaseError) as exc:
            cases.decide(store, matcher, case, user(app, "cw"), entry, "confirm")
        assert exc.value.code == "case_closed"
        with pytest.raises(cases.CaseError):
            cases.close(store, cases.get_case(store, ref), user(app, "cw"), "Tak.")
        assert store.scalar(select(Decision.id).where(Decision.case_id == case.id)) is None


def test_status_and_closed_at_cannot_disagree(store_app):
    """The store itself refuses an open case with a closing time, and a closed one without."""
    ref = add_case(store_app)
    with store_app.app_context():
        store = web_db.session()
        with pytest.raises(IntegrityError):
            store.execute(update(Case).where(Case.public_id == ref).values(status="closed"))
        store.rollback()
        with pytest.raises(IntegrityError):
            store.execute(update(Case).where(Case.public_id == ref)
                          .values(status="in_review", closed_at=text("CURRENT_TIMESTAMP")))
        store.rollback()


def test_the_migration_keeps_dependants_and_repairs_state(tmp_path, matcher):
    """Upgrading a 0001 SQLite store keeps suggestions and decisions (the table is rebuilt) and
    closes a case that a late decision had put back in review."""
    engine = web_db.make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    web_db.upgrade(engine, "0001")
    with engine.begin() as c:
        c.execute(text("INSERT INTO organisations (id, name, created_at) VALUES (1, 'o', '2026-01-01')"))
        c.execute(text("INSERT INTO users (id, username, password_hash, role, organisation_id, active, "
                       "created_at) VALUES (1, 'u', 'x', 'volunteer', 1, 1, '2026-01-01')"))
        c.execute(text("INSERT INTO cases (id, public_id, organisation_id, created_by_id, text, area, consent, "
                       "consent_at, status, created_at, updated_at, closed_at) VALUES (1, 'A', 1, 1, 't', "
                       "'andet', 1, '2026-01-01', 'in_review', '2026-01-01', '2026-01-02', '2026-01-02')"))
        c.execute(text("INSERT INTO suggestions (id, case_id, entry_id, kind, title, evidence, legal_basis, "
                       "engine_version, origin, created_at) VALUES (1, 1, 'sel-83', 'rule', 't', '[]', '[]', "
                       "'v', 'engine', '2026-01-01')"))
        c.execute(text("INSERT INTO decisions (id, case_id, suggestion_id, decision, user_id, created_at) "
                       "VALUES (1, 1, 1, 'confirm', 1, '2026-01-01')"))
    web_db.upgrade(engine)
    with engine.connect() as c:
        assert c.execute(text("SELECT count(*) FROM suggestions")).scalar() == 1
        assert c.execute(text("SELECT count(*) FROM decisions")).scalar() == 1
        assert c.execute(text("SELECT status FROM cases")).scalar() == "closed"
        assert c.execute(text("PRAGMA foreign_keys")).scalar() == 1
    web_db.downgrade(engine, "0001")
    with engine.connect() as c:
        assert c.execute(text("SELECT count(*) FROM decisions")).scalar() == 1
    engine.dispose()
