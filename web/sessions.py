"""Browser login sessions held on the server: logging out, deactivation or idleness ends them.

The signed cookie carries only a random session id; the row it names must exist, be
younger than SESSION_LIFETIME and have been used within SESSION_IDLE_TIMEOUT, on
every request. A copied cookie is therefore worth nothing once its row is gone.
"""
from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from flask import Flask, current_app, request, session
from flask_login import current_user
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from .models import LoginSession, User, utcnow

SESSION_KEY = "sid"


def init_app(app: Flask) -> None:
    """Check the login before any view runs (so the check may write, with nothing pending)."""
    app.before_request(_check_login)


def _check_login() -> None:
    if not request.path.startswith("/static/"):
        _ = current_user.is_authenticated  # runs the user loader, hence user_for()


def _digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def start(db: Session, user: User) -> str:
    """Open a session for `user` and return its id, for the cookie only.

    The user's sessions that have already ended (browsers closed or left idle) are
    deleted here, so rows do not pile up.
    """
    config, now = current_app.config, utcnow()
    db.execute(delete(LoginSession).where(
        LoginSession.user_id == user.id,
        (LoginSession.last_seen_at < now - timedelta(seconds=config["SESSION_IDLE_TIMEOUT"]))
        | (LoginSession.created_at < now - timedelta(seconds=config["SESSION_LIFETIME"]))))
    raw = secrets.token_urlsafe(32)
    db.add(LoginSession(user_id=user.id, session_hash=_digest(raw)))
    return raw


def end(db: Session, raw: str | None) -> None:
    """Delete the session `raw` (logging out)."""
    if raw:
        db.execute(delete(LoginSession).where(LoginSession.session_hash == _digest(raw)))


def user_for(db: Session, raw: str | None, user_id: int) -> User | None:
    """Return the active user of a live session `raw`, noting its use; None otherwise."""
    if not raw:
        return None
    row = db.scalar(select(LoginSession).where(LoginSession.session_hash == _digest(raw)))
    if row is None or row.user_id != user_id:
        return None
    config, now = current_app.config, utcnow()
    idle = timedelta(seconds=config["SESSION_IDLE_TIMEOUT"])
    if now - row.last_seen_at > idle or now - row.created_at > timedelta(
            seconds=config["SESSION_LIFETIME"]):
        db.delete(row)
        db.commit()
        return None
    if not row.user.active:
        return None
    # Noted at most every tenth of the idle time (and each minute at most), not per request.
    if now - row.last_seen_at > min(idle / 10, timedelta(minutes=1)):
        row.last_seen_at = now
        db.commit()
    return row.user


def session_id() -> str | None:
    """Return the session id of this request's cookie."""
    return session.get(SESSION_KEY)
