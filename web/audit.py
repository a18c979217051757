"""Audit events: who viewed or changed which case, user or token, and when.

Every read of a case's text, or of an excerpt of it, leaves one event per case, so
an access request can be answered with who saw the case and when (web/privacy.py).
"""
from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from .models import REFERENCE_LENGTH, AuditEvent, User, case_prefix, utcnow

#: A reload within this time leaves no second read event of the same case by the same user.
READ_EVENT_WINDOW = timedelta(minutes=1)


def of_case(reference: str, exact: bool = True):
    """The events about a case: targets are its reference alone or "REF detail" (a decision's
    entry, an assignee). `exact=False`: only the detailed ones.

    A full reference also matches the indexed prefix (ix_audit_events_case_time), so a case's
    events are found without reading the whole table.
    """
    detailed = AuditEvent.target.startswith(f"{reference} ", autoescape=True)
    which = or_(AuditEvent.target == reference, detailed) if exact else detailed
    if len(reference) == REFERENCE_LENGTH:
        return and_(case_prefix(AuditEvent.target) == reference, which)
    return which


#: A whole reference's shape as a LIKE pattern: one "_" per character, the dashes kept.
_REFERENCE_SHAPE = "____-____-____-____"


def of_case_beginning(prefix: str, dialect: str):
    """The events about every case whose reference begins with `prefix` (the stored form, from
    models.reference_prefix, shorter than a whole reference), `dialect` being the database's.

    Audit targets name a case only by its reference, as text: there is no key to the cases
    table, and a deleted case's events outlive it, so the events are matched themselves, not
    through cases. The pattern has a whole reference's shape (7KQ2-X__-____-____), so a target
    that merely begins alike (a wish's number) is not taken for a case. PostgreSQL reads the
    LIKE's fixed beginning from ix_audit_events_case_time (text_pattern_ops); SQLite uses no
    index for a LIKE on an expression and compares case-insensitively, so it also gets the
    range of strings that begin with `prefix` (BINARY order), which it reads from that index.
    """
    shape = prefix + _REFERENCE_SHAPE[len(prefix):]
    reference = case_prefix(AuditEvent.target)
    clause = and_(reference.like(shape),
                  or_(AuditEvent.target == reference, AuditEvent.target.like(f"{shape} %")))
    if dialect == "sqlite":
        following = prefix[:-1] + chr(ord(prefix[-1]) + 1)
        clause = and_(reference >= prefix, reference < following, clause)
    return clause


def record(db: Session, user: User | None, action: str, target: str | None = None) -> None:
    """Add an audit event to the session; the caller's commit stores it with the change."""
    db.add(AuditEvent(user_id=user.id if user is not None else None, action=action,
                      target=target))


def recently_read(db: Session, user: User | None, action: str, targets: list[str]) -> set[str]:
    """The targets `user` already has an `action` event for within READ_EVENT_WINDOW."""
    if user is None or not targets:
        return set()
    return set(db.scalars(select(AuditEvent.target).where(
        AuditEvent.user_id == user.id, AuditEvent.action == action,
        AuditEvent.target.in_(targets), AuditEvent.created_at > utcnow() - READ_EVENT_WINDOW)))


def record_reads(db: Session, user: User | None, action: str, cases: Iterable) -> None:
    """Store one event per case shown in a list (queue rows, "Mine sager" excerpts), except
    for cases the same user was shown within the last minute: a reload is not a second read."""
    user_id = user.id if user is not None else None
    targets = [case.public_id for case in cases]
    seen = recently_read(db, user, action, targets)
    db.add_all([AuditEvent(user_id=user_id, action=action, target=t)
                for t in targets if t not in seen])
    db.commit()
