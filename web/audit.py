"""Audit events: who viewed or changed which case, user or token, and when."""
from __future__ import annotations

from sqlalchemy.orm import Session

from .models import AuditEvent, User


def record(db: Session, user: User | None, action: str, target: str | None = None) -> None:
    """Add an audit event to the session; the caller's commit stores it with the change."""
    db.add(AuditEvent(user_id=user.id if user is not None else None, action=action,
                      target=target))
