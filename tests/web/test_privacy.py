"""A controller's duties: retention, export and erasure, on SQLite and PostgreSQL."""
from __future__ import annotations

import json
import stat
from datetime import timedelta

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from web import cases, cli, db, messages, privacy
from web.models import AuditEvent, Case, Decision, Suggestion, utcnow

from webhelpers import add_case, user

WISHES = "Vi mangler et lokale til lektiecafeen."


@pytest.fixture
def app(store_app):
    """Every test here runs on each available backend."""
    return store_app


@pytest.fixture
def commands(app, monkeypatch):
    """Make the CLI commands run on this test's app (and backend)."""
    monkeypatch.setattr(cli, "create_app", lambda: app)
    return CliRunner()


def closed_case(app, days_ago: float, message: str = "Kontakt Ældre Sagen.") -> str:
    """Submit a note, confirm its top suggestion with a reason, close it `days_ago` days back."""
    public_id = add_case(app, wishes=WISHES)
    with app.app_context():
        store, caseworker = db.session(), user(app, "cw")
        case = cases.get_case(store, public_id)
        top = cases.top_suggestion(case)
        cases.decide(store, app.extensions["matcher"], case, caseworker, top.entry_id,
                     "confirm", "passer til hjemmehjælp")
        cases.record_view(store, caseworker, "case.view", case)
        cases.close(store, case, caseworker, message)
        case.closed_at = utcnow() - timedelta(days=days_ago)
        store.commit()
    return public_id


def rows_of(app, public_id: str) -> dict:
    """Count what the store holds for a case reference (by its id, once it is gone too)."""
    with app.app_context():
        store = db.session()
        case_id = store.scalar(select(Case.id).where(Case.public_id == public_id))
        count = lambda model: store.scalar(  # noqa: E731
            select(func.count()).select_from(model).where(model.case_id == case_id))
        targets = list(store.scalars(select(AuditEvent.target)
                                     .where(AuditEvent.target.startswith(public_id))))
        return {"case": case_id is not None, "suggestions": count(Suggestion),
                "decisions": count(Decision), "audit_targets": targets}


def test_retention_deletes_cases_closed_before_the_period(app):
    """Only cases closed longer ago than the period go; open and recent ones stay."""
    old = closed_case(app, days_ago=400)
    recent = closed_case(app, days_ago=10)
    open_old = add_case(app)
    with app.app_context():
        store = db.session()
        cases.get_case(store, open_old).created_at = utcnow() - timedelta(days=800)
        store.commit()
    assert rows_of(app, old)["decisions"] == 1 and rows_of(app, old)["suggestions"] > 0
    with app.app_context():
        report = privacy.run_retention(db.session(), 365)
    assert [c.reference for c in report.cases] == [old]
    assert report.cases[0].decisions == 1 and report.cases[0].audit_events_reduced == 1
    gone = rows_of(app, old)
    assert not gone["case"] and gone["suggestions"] == 0 and gone["decisions"] == 0
    for kept in (recent, open_old):
        assert rows_of(app, kept)["case"]
    with app.app_context():
        assert cases.get_case(db.session(), recent).message == "Kontakt Ældre Sagen."


def test_audit_events_of_a_deleted_case_keep_only_its_reference(app):
    """Who touched the case, and when, stays; the entry a decision named does not."""
    old = closed_case(app, days_ago=400)
    assert any(t != old for t in rows_of(app, old)["audit_targets"])  # "REF entry_id"
    with app.app_context():
        privacy.run_retention(db.session(), 365)
        events = db.session().scalars(select(AuditEvent).where(
            AuditEvent.target.startswith(old)).order_by(AuditEvent.id)).all()
        trail = [(e.user.username if e.user else None, e.action) for e in events]
        targets = {e.target for e in events}
    assert targets == {old}
    assert trail == [("vol", "note.submit"), ("cw", "case.confirm"), ("cw", "case.view"),
                     ("cw", "case.close"), (None, "case.expire")]


def test_a_dry_run_lists_and_keeps(app):
    """--dry-run says what would go and removes nothing."""
    old = closed_case(app, days_ago=40)
    with app.app_context():
        report = privacy.run_retention(db.session(), 30, dry_run=True)
    assert [(c.reference, c.audit_events_reduced) for c in report.cases] == [(old, 1)]
    assert rows_of(app, old)["case"] and rows_of(app, old)["decisions"] == 1


def test_retention_refuses_a_period_under_one_day(app):
    """A zero or negative period would delete every closed case: refused."""
    with app.app_context(), pytest.raises(ValueError):
        privacy.run_retention(db.session(), 0)


def test_export_holds_everything_stored_about_the_case(app):
    """Text, wishes, suggestions, decisions, message and audit events, the export included."""
    public_id = closed_case(app, days_ago=1, message="Ring til visitationen.")
    other = add_case(app, note="En anden borger har brug for hjælp til at læse breve fra kommunen.")
    with app.app_context():
        store = db.session()
        record = privacy.export_case(store, user(app, "adm"), public_id.lower())
        case = cases.get_case(store, public_id)
        assert record["case"]["text"] == case.text and record["case"]["reference"] == public_id
        assert len(record["suggestions"]) == len(case.suggestions)
    json.dumps(record)  # serialisable as it is
    assert record["case"]["organisation_wishes"] == WISHES
    assert record["case"]["message"] == "Ring til visitationen."
    assert record["case"]["submitted_by"] == "vol" and record["case"]["closed_by"] == "cw"
    assert [(d["decision"], d["reason"], d["by"]) for d in record["decisions"]] == [
        ("confirm", "passer til hjemmehjælp", "cw")]
    assert all("evidence" in s and s["engine_version"] for s in record["suggestions"])
    actions = [(e["user"], e["action"]) for e in record["audit_events"]]
    assert actions[0] == ("vol", "note.submit") and actions[-1] == ("adm", "case.export")
    assert ("cw", "case.close") in actions
    assert other not in json.dumps(record)


def test_delete_on_request_removes_the_case_and_says_so(app):
    """An erasure removes the case's rows and leaves a case.delete event by the admin."""
    public_id = closed_case(app, days_ago=1)
    other = add_case(app)
    with app.app_context():
        removed = privacy.delete_case(db.session(), user(app, "adm"), public_id)
        event = db.session().scalars(select(AuditEvent).order_by(AuditEvent.id.desc())).first()
        assert (event.action, event.target, event.user.username) == (
            "case.delete", public_id, "adm")
    assert removed.reference == public_id and removed.decisions == 1
    assert not rows_of(app, public_id)["case"] and rows_of(app, public_id)["suggestions"] == 0
    assert rows_of(app, other)["case"]


def test_unknown_references_are_not_found(app):
    """Export and deletion of an unknown reference raise CaseNotFound and change nothing."""
    with app.app_context():
        store = db.session()
        before = store.scalar(select(func.count()).select_from(AuditEvent))
        for action in (privacy.export_case, privacy.delete_case):
            with pytest.raises(privacy.CaseNotFound):
                action(store, None, "AAAA-BBBB-CCCC-DDDD")
        assert store.scalar(select(func.count()).select_from(AuditEvent)) == before


def test_retention_command_prints_what_it_removed(app, commands):
    """`matcher retention run` deletes the expired case and names it."""
    old = closed_case(app, days_ago=400)
    recent = closed_case(app, days_ago=5)
    dry = commands.invoke(cli.retention, ["run", "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert dry.output.startswith("Would delete 1 case(s)") and rows_of(app, old)["case"]
    result = commands.invoke(cli.retention, ["run"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("Deleted 1 case(s) closed before") and old in result.output
    assert "1 decision(s)" in result.output and recent not in result.output
    assert not rows_of(app, old)["case"] and rows_of(app, recent)["case"]
    again = commands.invoke(cli.retention, ["run", "--days", "3"])
    assert again.output.startswith("Deleted 1 case(s)") and recent in again.output


def test_retention_command_reads_the_setting_and_refuses_nonsense(app, commands):
    """RETENTION_DAYS is the default period; --days 0 ends with exit code 1 and a sentence."""
    public_id = closed_case(app, days_ago=40)
    app.config["RETENTION_DAYS"] = 60
    assert "Deleted 0 case(s)" in commands.invoke(cli.retention, ["run"]).output
    app.config["RETENTION_DAYS"] = 30
    assert public_id in commands.invoke(cli.retention, ["run"]).output
    refused = commands.invoke(cli.retention, ["run", "--days", "0"])
    assert refused.exit_code == 1 and "at least 1 day" in refused.output


def test_case_export_command_writes_json(app, commands, tmp_path):
    """`matcher case export REF` prints the JSON, or writes it to a private file."""
    public_id = closed_case(app, days_ago=1)
    printed = commands.invoke(cli.case, ["export", public_id])
    assert printed.exit_code == 0, printed.output
    assert json.loads(printed.stdout)["case"]["reference"] == public_id
    target = tmp_path / "export.json"
    target.write_text("old")
    target.chmod(0o644)
    written = commands.invoke(cli.case, ["export", public_id, "-o", str(target)])
    assert written.exit_code == 0, written.output
    record = json.loads(target.read_text(encoding="utf-8"))
    assert record["case"]["text"] and stat.S_IMODE(target.stat().st_mode) == 0o600
    assert [e["action"] for e in record["audit_events"]].count("case.export") == 2


def test_case_delete_command_asks_first(app, commands):
    """Without --yes the command asks; 'n' keeps the case, --yes deletes it."""
    public_id = closed_case(app, days_ago=1)
    kept = commands.invoke(cli.case, ["delete", public_id], input="n\n")
    assert kept.exit_code == 1 and rows_of(app, public_id)["case"]
    deleted = commands.invoke(cli.case, ["delete", public_id.lower()], input="y\n")
    assert deleted.exit_code == 0, deleted.output
    assert f"Deleted case {public_id}" in deleted.output and not rows_of(app, public_id)["case"]
    with app.app_context():
        actions = list(db.session().scalars(select(AuditEvent.action)
                                            .where(AuditEvent.target == public_id)))
    assert actions[-1] == "case.delete"


@pytest.mark.parametrize("args", [["export", "AAAA-BBBB-CCCC-DDDD"],
                                  ["delete", "AAAA-BBBB-CCCC-DDDD", "--yes"]])
def test_case_commands_explain_an_unknown_reference(app, commands, args):
    """An unknown reference ends with exit code 1 and one sentence naming it."""
    result = commands.invoke(cli.case, args)
    assert result.exit_code == 1
    assert "no case has the reference 'AAAA-BBBB-CCCC-DDDD'" in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_withdrawn_cases_expire_and_the_export_holds_the_thread(app):
    """A case withdrawn longer ago than the period goes too; an export lists its messages."""
    old, recent = add_case(app), add_case(app)
    with app.app_context():
        store = db.session()
        messages.post(store, cases.get_case(store, old), user(app, "cw"), "Bor hun alene?")
        messages.post(store, cases.get_case(store, old), user(app, "vol"), "Ja, hun bor alene.")
        for ref in (old, recent):
            messages.withdraw(store, cases.get_case(store, ref), user(app, "vol"), "Flyttet")
        record = privacy.export_case(store, user(app, "adm"), old)
        assert [(m["from_role"], m["kind"], m["by"]) for m in record["messages"]] == [
            ("caseworker", "question", "cw"), ("volunteer", "answer", "vol")]
        assert record["case"]["withdrawal_reason"] == "Flyttet"
        cases.get_case(store, old).withdrawn_at = utcnow() - timedelta(days=400)
        store.commit()
        report = privacy.run_retention(store, 365)
    assert [c.reference for c in report.cases] == [old]
    assert not rows_of(app, old)["case"] and rows_of(app, recent)["case"]
