"""A controller's duties: retention of closed cases, access (export) and erasure on request.

The CLI (`matcher retention run`, `matcher case export|delete`) and the admin pages call
these functions. Deleting a case removes its row, suggestions and decisions; its audit
events stay (who read or changed it, and when) but keep only the bare case reference.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.orm import Session

from . import audit, learning
from .cases import get_case
from .models import AuditEvent, Case, User, utcnow

#: Format of an export, written into it so a reader can tell later versions apart.
EXPORT_FORMAT = "brobygger-case-export/1"


class CaseNotFound(LookupError):
    """No case has the reference given."""

    def __init__(self, reference: str):
        super().__init__(reference)
        self.reference = reference


@dataclass(frozen=True)
class Deleted:
    """What deleting one case removed."""

    reference: str
    suggestions: int
    decisions: int
    audit_events_reduced: int


@dataclass
class RetentionReport:
    """What a retention run removed (or, dry, would remove)."""

    cutoff: datetime
    dry_run: bool
    cases: list[Deleted] = field(default_factory=list)


def find_case(db: Session, reference: str) -> Case:
    """Return the case with this reference or raise CaseNotFound."""
    case = get_case(db, reference or "")
    if case is None:
        raise CaseNotFound((reference or "").strip())
    return case


def _of_case(reference: str):
    return audit.of_case(reference)


def audit_events(db: Session, case: Case) -> list[AuditEvent]:
    """Return the audit events about a case, oldest first."""
    return list(db.scalars(select(AuditEvent).where(_of_case(case.public_id))
                           .order_by(AuditEvent.id)))


def _when(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _username(user) -> str | None:
    return user.username if user is not None else None


def case_record(db: Session, case: Case) -> dict:
    """Everything stored about one case, as JSON-ready data (text included)."""
    submitted_by = db.get(User, case.created_by_id)
    closed_by = db.get(User, case.closed_by_id) if case.closed_by_id else None
    return {
        "format": EXPORT_FORMAT,
        "exported_at": utcnow().isoformat(),
        "case": {
            "reference": case.public_id, "organisation": case.organisation.name,
            "submitted_by": _username(submitted_by), "area": case.area, "text": case.text,
            "organisation_wishes": case.organisation_wishes, "consent": case.consent,
            "consent_at": _when(case.consent_at), "status": case.status,
            "created_at": _when(case.created_at), "updated_at": _when(case.updated_at),
            "closed_at": _when(case.closed_at), "closed_by": _username(closed_by),
            "message": case.message, "withdrawn_at": _when(case.withdrawn_at),
            "withdrawal_reason": case.withdrawal_reason, "waited_seconds": case.waited_seconds,
        },
        "messages": [{
            "from_role": m.from_role, "kind": m.kind, "text": m.text, "by": _username(m.user),
            "at": _when(m.created_at)} for m in case.messages],
        "suggestions": [{
            "entry_id": s.entry_id, "kind": s.kind, "law": s.law, "section": s.section,
            "title": s.title, "rank": s.rank, "score": s.score, "evidence": s.evidence,
            "legal_basis": s.legal_basis, "source_url": s.source_url,
            "engine_version": s.engine_version, "origin": s.origin,
            "created_at": _when(s.created_at)} for s in case.suggestions],
        "decisions": [{
            "entry_id": d.suggestion.entry_id, "decision": d.decision, "reason": d.reason,
            "by": _username(d.user), "at": _when(d.created_at)} for d in case.decisions],
        "audit_events": [{
            "action": e.action, "user": _username(e.user), "target": e.target,
            "at": _when(e.created_at)} for e in audit_events(db, case)],
    }


def export_case(db: Session, user, reference: str) -> dict:
    """Record the export in the audit log and return everything stored about the case.

    `user` is the admin who asked, or None at the command line. The export lists its
    own audit event, so the data subject sees that the export was made.
    """
    case = find_case(db, reference)
    audit.record(db, user, "case.export", case.public_id)
    db.commit()
    return case_record(db, case)


def case_summary(db: Session, case: Case) -> dict:
    """What an admin may see of a case before exporting or deleting it: no text."""
    events = db.scalar(select(func.count()).select_from(AuditEvent)
                       .where(_of_case(case.public_id)))
    return {"reference": case.public_id, "organisation": case.organisation.name,
            "area": case.area, "status": case.status, "created_at": case.created_at,
            "closed_at": case.closed_at, "suggestions": len(case.suggestions),
            "decisions": len(case.decisions), "audit_events": events}


def _erase(db: Session, case: Case) -> Deleted:
    """Delete a case with its suggestions and decisions; strip its audit events to the reference."""
    reference = case.public_id
    removed = Deleted(reference, len(case.suggestions), len(case.decisions),
                      _reduce_audit_events(db, reference))
    db.delete(case)  # the relationships cascade to suggestions and decisions, the store to its vector
    learning.changed(db)  # its decisions no longer count in any worker
    db.flush()
    return removed


def _reduce_audit_events(db: Session, reference: str) -> int:
    # A decision's event names the entry confirmed or rejected ("REF entry_id"), which says
    # what the case was about; once the case is gone only who touched it, and when, remains.
    result = db.execute(update(AuditEvent)
                        .where(audit.of_case(reference, exact=False))
                        .values(target=reference).execution_options(synchronize_session=False))
    return result.rowcount or 0


def delete_case(db: Session, user, reference: str) -> Deleted:
    """Erase one case on request and record that in the audit log (`user` None: the CLI)."""
    case = find_case(db, reference)
    removed = _erase(db, case)
    audit.record(db, user, "case.delete", removed.reference)
    db.commit()
    return removed


def expired_cases(db: Session, days: int, now: datetime | None = None) -> tuple[datetime, list[Case]]:
    """Return the cutoff and the cases closed or withdrawn before it (`days` before `now`)."""
    if days < 1:
        raise ValueError("the retention period must be at least one day")
    cutoff = (now or utcnow()) - timedelta(days=days)
    ended = or_(and_(Case.status == "closed", Case.closed_at < cutoff),
                and_(Case.status == "withdrawn", Case.withdrawn_at < cutoff))
    rows = db.scalars(select(Case).where(ended)
                      .order_by(func.coalesce(Case.closed_at, Case.withdrawn_at), Case.id))
    return cutoff, list(rows)


def run_retention(db: Session, days: int, now: datetime | None = None,
                  dry_run: bool = False) -> RetentionReport:
    """Delete every case closed more than `days` ago; a dry run only lists them.

    Returns:
        The cutoff and, per case, what was (or would be) removed.
    """
    cutoff, due = expired_cases(db, days, now)
    report = RetentionReport(cutoff=cutoff, dry_run=dry_run)
    for case in due:
        if dry_run:
            reducible = db.scalar(select(func.count()).select_from(AuditEvent).where(
                audit.of_case(case.public_id, exact=False)))
            report.cases.append(Deleted(case.public_id, len(case.suggestions),
                                        len(case.decisions), reducible))
            continue
        removed = _erase(db, case)
        audit.record(db, None, "case.expire", removed.reference)
        report.cases.append(removed)
    db.commit()
    return report
