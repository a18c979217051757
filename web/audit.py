"""Audit events: who viewed or changed which case, user or token, and when.

Every read of a case's text, or of an excerpt of it, leaves one event per case, so
an access request can be answered with who saw the case and when (web/privacy.py).
"""
from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy.orm import Session

from .models import AuditEvent, User


def record(db: Session, user: User | None, action: str, target: str | None = None) -> None:
    """Add an audit event to the session; the caller's commit stores it with the change."""
    db.add(AuditEvent(user_id=user.id if user is not None else None, action=action,
                      target=target))


def record_reads(db: Session, user: User | None, action: str, cases: Iterable) -> None:
    """Store one event per case shown in a list (queue rows, "Mine sager" excerpts)."""
    user_id = user.id if user is not None else None
    db.add_all([AuditEvent(user_id=user_id, action=action, target=case.public_id)
                for case in cases])
    db.commit()
