"""Audit events: who viewed or changed which case, user or token, and when.

Every read of a case's text, or of an excerpt of it, leaves one event per case, so
an access request can be answered with who saw the case and when (web/privacy.py).
"""
from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from .models import AuditEvent, User, utcnow

#: A reload within this time leaves no second read event of the same case by the same user.
READ_EVENT_WINDOW = timedelta(minutes=1)


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
