"""Redaction on the way in: CPR numbers, phone numbers and e-mails never reach the disk."""
from __future__ import annotations

import logging
from pathlib import Path

from sqlalchemy import select

from web import cases, db
from web.models import AuditEvent, Case, Decision, Suggestion

from webhelpers import AuthActions, token_for, user

SECRETS = ("010190-1234", "22 33 44 55", "anna.jensen@example.dk")
RAW = ("Borgeren har CPR 010190-1234 og kan ringes op på 22 33 44 55 eller skrives til på "
       "anna.jensen@example.dk. Hun kan ikke selv komme i bad og har ingen penge til mad.")


def _stored_text(app) -> str:
    """Every free-text value in the store, joined."""
    with app.app_context():
        store = db.session()
        parts = []
        for case in store.scalars(select(Case)):
            parts += [case.text, case.organisation_wishes or "", case.message or ""]
        for suggestion in store.scalars(select(Suggestion)):
            parts += list(suggestion.evidence)
        parts += [d.reason or "" for d in store.scalars(select(Decision))]
        parts += [e.target or "" for e in store.scalars(select(AuditEvent))]
        return "\n".join(parts)


def _database_bytes(tmp_path: Path) -> bytes:
    """The SQLite file and its write-ahead log, as bytes on disk."""
    return b"".join(p.read_bytes() for p in tmp_path.glob("app.db*"))


def test_web_form_redacts_everything_it_stores(app, tmp_path, caplog):
    """Note, wishes, reasons and the closing message are stored redacted."""
    caplog.set_level(logging.DEBUG)
    volunteer, caseworker = app.test_client(), app.test_client()
    AuthActions(volunteer).login("vol")
    response = volunteer.post("/volunteer/notes/new", data={
        "text": RAW, "area": "ældre", "consent": "y",
        "wishes": "Ring til formanden på 22 33 44 55."})
    public_id = response.headers["Location"].split("/")[-2]
    AuthActions(caseworker).login("cw")
    page = caseworker.get(f"/caseworker/cases/{public_id}").get_data(as_text=True)
    assert "[CPR]" in page and "[TELEFON]" in page and "[EMAIL]" in page
    with app.app_context():
        entry = cases.get_case(db.session(), public_id).suggestions[0].entry_id
    caseworker.post(f"/caseworker/cases/{public_id}/decisions", data={
        "entry_id": entry, "decision": "confirm", "reason": "Talte med hende på 22 33 44 55"})
    caseworker.post(f"/caseworker/cases/{public_id}/close",
                    data={"message": "Hun har CPR 010190-1234, vi ringer.", "confirmed": "yes"})

    stored = _stored_text(app)
    assert "[CPR]" in stored and "[TELEFON]" in stored and "[EMAIL]" in stored
    on_disk = _database_bytes(tmp_path)
    for secret in SECRETS:
        assert secret not in stored
        assert secret.encode() not in on_disk
        assert secret not in caplog.text


def test_api_redacts_on_the_way_in(app):
    """The API stores and returns the redacted text only."""
    client = app.test_client()
    headers = token_for(client, "vol")
    response = client.post("/api/v1/notes", headers=headers,
                           json={"text": RAW, "consent": True, "organisation_wishes": RAW})
    assert response.status_code == 201
    note = client.get(f"/api/v1/notes/{response.get_json()['id']}", headers=headers).get_json()
    # The note is kept, with each identifier replaced by its placeholder (not dropped).
    for field in ("text", "organisation_wishes"):
        assert "[CPR]" in note[field] and "[TELEFON]" in note[field] and "[EMAIL]" in note[field]
        assert "Borgeren har CPR [CPR]" in note[field] and "ingen penge til mad." in note[field]
    for secret in SECRETS:
        assert secret not in note["text"] and secret not in note["organisation_wishes"]
        assert secret not in _stored_text(app)


def test_evidence_is_redacted_even_if_the_engine_quotes_raw_text(app):
    """Evidence from the engine passes through redact() before it is stored."""
    class Quoting:
        version = "quoting-1"

        def match(self, text, top=10):
            from types import SimpleNamespace
            return [SimpleNamespace(id="x-1", kind="rule", law="SEL", section="§ 1", title="T",
                                    rank=1, score=0.5, evidence=[RAW], legal_basis=[],
                                    source_url=None)]

    with app.app_context():
        case = cases.submit_note(db.session(), Quoting(), user(app, "vol"), RAW, "andet", True)
        for secret in SECRETS:
            assert secret not in case.suggestions[0].evidence[0]


def test_a_failing_engine_keeps_the_note_and_logs_no_text(app, caplog):
    """If matching fails, the case is still stored (redacted) and the log quotes nothing."""
    class Broken:
        version = "broken-1"

        def match(self, text, top=10):
            raise RuntimeError(f"could not embed {text}")

    caplog.set_level(logging.DEBUG)
    with app.app_context():
        case = cases.submit_note(db.session(), Broken(), user(app, "vol"), RAW, "andet", True)
        assert case.suggestions == [] and case.status == "pending"
    assert "matching failed" in caplog.text
    for secret in SECRETS:
        assert secret not in caplog.text
    assert "ikke selv komme i bad" not in caplog.text
