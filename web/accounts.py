"""Accounts: argon2id password hashes, users and their organisations, set-password links,
API bearer tokens and revoking access."""
from __future__ import annotations

import hashlib
import re
import secrets
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import Flask, current_app
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from .cases import FINAL
from .db import lock_for_write
from .models import (ROLES, ApiToken, Case, LoginSession, Organisation, PasswordLink, User,
                     utcnow)
from .passwords import password_problem

#: Stored instead of a hash until the user sets a password: argon2 verifies nothing against it.
UNSET_PASSWORD = "!unset"

USERNAME_PATTERN = re.compile(r"^[a-z0-9._@-]{2,80}$")
#: An address a notification can go to: one @, no spaces or controls, a dot in the domain.
EMAIL_PATTERN = re.compile(r"^[^@\s\x00-\x1f]{1,64}@[^@\s\x00-\x1f]+\.[^@\s\x00-\x1f]+$")
#: The longest organisation name (the column's width).
ORGANISATION_MAX = 120
#: Roles that belong to a volunteer organisation.
ORGANISATION_ROLES = ("volunteer", "coordinator")
#: Roles an account can be given: all of them (a leader's home page is the overview, Overblik).
ASSIGNABLE_ROLES = ROLES


class AccountError(ValueError):
    """A user could not be created; `code` names the reason for templates and the CLI."""

    def __init__(self, code: str):
        super().__init__(code)
        self.code = code


def init_app(app: Flask) -> None:
    """Build the app's password hasher from its settings."""
    app.extensions["password_hasher"] = PasswordHasher(
        time_cost=app.config["ARGON2_TIME_COST"], memory_cost=app.config["ARGON2_MEMORY_COST"])


def _hasher() -> PasswordHasher:
    return current_app.extensions["password_hasher"]


def hash_password(password: str) -> str:
    """Return an argon2id hash of `password`."""
    return _hasher().hash(password)


def _dummy_hash() -> str:
    # Verifying against a real hash when the user is unknown keeps the response
    # time the same, so timing does not reveal which usernames exist.
    ext = current_app.extensions
    if "dummy_password_hash" not in ext:
        ext["dummy_password_hash"] = hash_password(secrets.token_hex(16))
    return ext["dummy_password_hash"]


def normalise_username(username: str) -> str:
    """Usernames are case-insensitive: phones capitalise the first letter."""
    return username.strip().lower()


def get_or_create_organisation(db: Session, name: str) -> Organisation:
    """Return the organisation called `name`, creating it when new."""
    name = name.strip()
    organisation = db.scalar(select(Organisation).where(Organisation.name == name))
    if organisation is None:
        organisation = Organisation(name=name)
        db.add(organisation)
        db.flush()
    return organisation


def check_password(password: str, username: str | None = None) -> None:
    """Raise AccountError when `password` does not meet the policy (web and CLI alike)."""
    problem = password_problem(password, current_app.config["PASSWORD_MIN_LENGTH"], username)
    if problem is not None:
        raise AccountError(problem)


def create_user(db: Session, username: str, role: str, password: str | None,
                organisation: str | None = None, email: str | None = None) -> User:
    """Create a user (and its organisation when new); raise AccountError when invalid.

    Without a password the account cannot log in until its set-password link is used.
    """
    username = normalise_username(username)
    if not USERNAME_PATTERN.match(username):
        raise AccountError("bad_username")
    if role not in ASSIGNABLE_ROLES:
        raise AccountError("bad_role")
    organisation = (organisation or "").strip() or None
    if role in ORGANISATION_ROLES and organisation is None:
        raise AccountError("organisation_required")
    # A leader may come from an organisation's side too; the overview is the same for both.
    if role not in (*ORGANISATION_ROLES, "leader") and organisation is not None:
        raise AccountError("organisation_not_allowed")
    email = (email or "").strip() or None
    if email is not None and (len(email) > 254 or not EMAIL_PATTERN.match(email)):
        raise AccountError("bad_email")
    if password is not None:
        check_password(password, username)
    if db.scalar(select(User.id).where(User.username == username)) is not None:
        raise AccountError("username_taken")
    password_hash = UNSET_PASSWORD if password is None else hash_password(password)
    user = User(username=username, role=role, password_hash=password_hash, email=email)
    if organisation is not None:
        user.organisation = get_or_create_organisation(db, organisation)
    db.add(user)
    db.flush()
    return user


def authenticate(db: Session, username: str, password: str) -> User | None:
    """Return the active user with these credentials, or None."""
    user = db.scalar(select(User).where(User.username == normalise_username(username)))
    stored = user.password_hash if user is not None else _dummy_hash()
    try:
        _hasher().verify(stored, password)
    except (VerificationError, InvalidHashError):
        return None
    if user is None or not user.active:
        return None
    if _hasher().check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return user


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(db: Session, user: User) -> tuple[str, datetime]:
    """Create a bearer token for `user`; only its digest is stored. Returns (token, expiry)."""
    token = secrets.token_urlsafe(32)
    expires_at = utcnow() + timedelta(seconds=current_app.config["TOKEN_TTL"])
    db.add(ApiToken(user_id=user.id, token_hash=_digest(token), expires_at=expires_at))
    return token, expires_at


def user_for_token(db: Session, token: str) -> User | None:
    """Return the active user a still valid bearer token belongs to, or None."""
    row = db.scalar(select(ApiToken).where(ApiToken.token_hash == _digest(token)))
    if row is None or row.expires_at <= utcnow() or not row.user.active:
        return None
    return row.user


def revoke_token(db: Session, token: str) -> None:
    """Delete the bearer token `token` (logging out of the API)."""
    db.execute(delete(ApiToken).where(ApiToken.token_hash == _digest(token)))


def revoke_access(db: Session, user: User) -> None:
    """End every browser session and API token of `user`; they never come back."""
    db.execute(delete(LoginSession).where(LoginSession.user_id == user.id))
    db.execute(delete(ApiToken).where(ApiToken.user_id == user.id))


def other_active_admins(db: Session, user: User) -> int:
    """How many active admins there are besides `user`.

    Every active admin's row is locked (PostgreSQL), or the whole database (SQLite's write
    lock), until the caller commits, so two admins demoting each other at once cannot both see
    the other one remain.
    """
    lock_for_write(db)
    admins = db.scalars(select(User.id).where(User.role == "admin", User.active.is_(True))
                        .with_for_update())
    return sum(1 for admin_id in admins if admin_id != user.id)


def set_active(db: Session, user: User, active: bool) -> None:
    """Deactivate (revoking all access) or reactivate a user; never the last active admin."""
    if not active and user.role == "admin" and user.active and other_active_admins(db, user) == 0:
        raise AccountError("last_admin")
    user.active = active
    if not active:
        revoke_access(db, user)


def release_cases(db: Session, user: User) -> list[str]:
    """Put the open cases assigned to `user` back in the queue; return their references.

    Called when the user stops being an active caseworker, so no case waits on someone who can
    no longer open it. Closed and withdrawn cases keep who had them.
    """
    still_open = (Case.assigned_to_id == user.id, Case.status.not_in(FINAL))
    references = list(db.scalars(select(Case.public_id).where(*still_open).order_by(Case.id)))
    if references:
        db.execute(update(Case).where(*still_open).values(assigned_to_id=None, updated_at=utcnow())
                   .execution_options(synchronize_session=False))
    return references


def update_user(db: Session, user: User, role: str, organisation: str | None) -> list[tuple[str, str]]:
    """Give `user` a role and, for a volunteer or coordinator, an organisation.

    Other roles belong to no organisation: theirs is dropped. The last active admin keeps the
    role. Returns what changed, as audit actions and details: [("user.role", "old -> new"), ...].
    """
    if role not in ASSIGNABLE_ROLES:
        raise AccountError("bad_role")
    name = (organisation or "").strip() or None
    if name is not None and len(name) > ORGANISATION_MAX:
        raise AccountError("organisation_too_long")
    if role in ORGANISATION_ROLES and name is None:
        raise AccountError("organisation_required")
    if role not in (*ORGANISATION_ROLES, "leader"):
        # A leader may belong to an organisation (one from its side); caseworkers and admins do not.
        name = None
    if (user.role == "admin" and role != "admin" and user.active
            and other_active_admins(db, user) == 0):
        raise AccountError("last_admin")
    changes = []
    old_org = user.organisation.name if user.organisation is not None else None
    if role != user.role:
        changes.append(("user.role", f"{user.role} -> {role}"))
        user.role = role
    if name != old_org:
        changes.append(("user.organisation", f"{old_org or '-'} -> {name or '-'}"))
        user.organisation = get_or_create_organisation(db, name) if name is not None else None
    return changes


def set_password(db: Session, user: User, password: str) -> None:
    """Check and store a new password; sessions and tokens made before it end."""
    check_password(password, user.username)
    user.password_hash = hash_password(password)
    revoke_access(db, user)


def issue_password_link(db: Session, user: User, created_by: User | None, purpose: str) -> str:
    """Create a one-time set-password token for `user`; earlier unused links stop working."""
    db.execute(delete(PasswordLink).where(PasswordLink.user_id == user.id))
    token = secrets.token_urlsafe(32)
    ttl = timedelta(seconds=current_app.config["PASSWORD_LINK_TTL"])
    db.add(PasswordLink(user_id=user.id, token_hash=_digest(token), purpose=purpose,
                        created_by_id=created_by.id if created_by is not None else None,
                        expires_at=utcnow() + ttl))
    db.flush()
    return token


def password_link(db: Session, token: str) -> PasswordLink | None:
    """Return the unused, unexpired link for `token` whose user is active, or None."""
    link = db.scalar(select(PasswordLink).where(PasswordLink.token_hash == _digest(token)))
    if link is None or link.expires_at <= utcnow() or not link.user.active:
        return None
    return link


def use_password_link(db: Session, link: PasswordLink, password: str) -> User:
    """Set the link's user's password (AccountError when refused) and spend the link."""
    user = link.user
    set_password(db, user, password)
    db.execute(delete(PasswordLink).where(PasswordLink.user_id == user.id))
    return user
