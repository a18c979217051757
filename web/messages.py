"""Questions and answers on a case, the volunteer's added information and withdrawal.

A caseworker's question puts the case in 'waiting' until the case's volunteer answers; the time
spent waiting is kept (`waiting_seconds`) so a deadline can pause while the municipality waits
(the setting DEADLINE_PAUSES_WHILE_WAITING). Every message is redacted like the note before it
is stored.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import exists, select, update
from sqlalchemy.orm import Session

from . import audit, notify
from .cases import MESSAGE_MAX, REASON_MAX, CaseError
from .engine import has_words, redact
from .models import Case, Decision, Message, User, utcnow

#: A case is open to questions, answers and added information in these statuses.
OPEN = ("pending", "in_review", "waiting")


def waiting_seconds(case: Case, now: datetime | None = None) -> int:
    """Return the seconds the case has spent waiting for the volunteer's answers.

    The finished waits plus the current one, which runs until now (or until the case was
    closed or withdrawn while it waited). The deadline adds this when the setting
    DEADLINE_PAUSES_WHILE_WAITING is on.
    """
    total = case.waited_seconds or 0
    if case.waiting_since is not None:
        end = case.closed_at or case.withdrawn_at or now or utcnow()
        total += max(0, int((end - case.waiting_since).total_seconds()))
    return total


def can_post(case: Case, user: User) -> bool:
    """Say whether `user` may write on the case's thread now (pages show the form by it)."""
    if case.status not in OPEN:
        return False
    if user.role == "caseworker":
        return True
    return user.role == "volunteer" and case.created_by_id == user.id


def can_withdraw(case: Case, user: User) -> bool:
    """Say whether the case's volunteer may still withdraw it: open and nothing decided yet."""
    return (user.role == "volunteer" and case.created_by_id == user.id
            and case.status in OPEN and not case.decisions)


def _check_text(text: str | None, limit: int = MESSAGE_MAX) -> str:
    text = (text or "").strip()
    if not text:
        raise CaseError("message_missing")
    if len(text) > limit:
        raise CaseError("message_too_long")
    if not has_words(text, words=1):  # "Ja" is an answer; invisible characters are not
        raise CaseError("message_no_words")
    return text


def post(db: Session, case: Case, user: User, text: str | None) -> Message:
    """Add a message from `user` to the case's thread and return it.

    A caseworker's message is a question: the case waits for the answer and its volunteer is
    told (unread marker, and an e-mail sent after the commit). The case's own volunteer answers a waiting case,
    which goes back to review, or adds information to an open one.

    Raises:
        CaseError: "forbidden" (not the caseworker or the case's volunteer), "case_closed",
            or a text error ("message_missing", "message_too_long", "message_no_words").
    """
    if user.role != "caseworker" and not (user.role == "volunteer" and case.created_by_id == user.id):
        raise CaseError("forbidden")
    text = redact(_check_text(text))
    now = utcnow()
    if user.role == "caseworker":
        kind = "question"
        # One statement checks and writes, as cases._claim: a close in progress wins or waits.
        result = db.execute(
            update(Case).where(Case.id == case.id, Case.status.in_(OPEN))
            .values(status="waiting", updated_at=now,
                    waiting_since=case.waiting_since or now)
            .execution_options(synchronize_session=False))
    else:
        kind = "answer" if case.status == "waiting" else "information"
        if kind == "answer":
            waited = int((now - case.waiting_since).total_seconds()) if case.waiting_since else 0
            back = "in_review" if case.decisions else "pending"
            values = {}
            if current_app.config["DEADLINE_PAUSES_WHILE_WAITING"] and case.due_at is not None:
                # The wait is over: the deadline moves on by it, so the queue sorts by the real one.
                values["due_at"] = case.due_at + timedelta(seconds=max(0, waited))
            # Only the answer that ends this very wait folds it in (two answers at once: one).
            result = db.execute(
                update(Case).where(Case.id == case.id, Case.status == "waiting",
                                   Case.waiting_since == case.waiting_since)
                .values(status=back, updated_at=now, waiting_since=None,
                        waited_seconds=Case.waited_seconds + max(0, waited), **values)
                .execution_options(synchronize_session=False))
            if result.rowcount != 1:  # answered by a concurrent request: this one adds to it
                db.rollback()
                db.expire(case)
                kind = "information"
        if kind == "information":
            result = db.execute(
                update(Case).where(Case.id == case.id, Case.status.in_(OPEN))
                .values(updated_at=now).execution_options(synchronize_session=False))
    if result.rowcount != 1:
        db.rollback()
        db.expire(case)
        raise CaseError("case_closed")
    message = Message(case_id=case.id, user_id=user.id, from_role=user.role, kind=kind,
                      text=text, created_at=now)
    db.add(message)
    if kind == "question":
        notify.news(db, case, "question")
    audit.record(db, user, f"message.{kind}", case.public_id)
    db.commit()
    db.expire(case)
    notify.send_soon()
    return message


def withdraw(db: Session, case: Case, user: User, reason: str | None) -> Case:
    """Withdraw the volunteer's own case, with a reason, while nothing has been decided on it.

    Raises:
        CaseError: "forbidden", "reason_missing", "reason_too_long", "message_no_words",
            "case_closed" (closed or withdrawn) or "case_decided" (a suggestion is decided).
    """
    if user.role != "volunteer" or case.created_by_id != user.id:
        raise CaseError("forbidden")
    try:
        reason = redact(_check_text(reason, REASON_MAX))
    except CaseError as exc:
        raise CaseError({"message_missing": "reason_missing",
                         "message_too_long": "reason_too_long"}.get(exc.code, exc.code)) from None
    if case.status not in OPEN:
        raise CaseError("case_closed")
    now = utcnow()
    decided = exists().where(Decision.case_id == Case.id)
    result = db.execute(
        update(Case).where(Case.id == case.id, Case.status.in_(OPEN), ~decided)
        .values(status="withdrawn", withdrawn_at=now, withdrawal_reason=reason, updated_at=now)
        .execution_options(synchronize_session=False))
    if result.rowcount != 1:
        db.rollback()
        db.expire(case)
        raise CaseError("case_closed" if case.status not in OPEN else "case_decided")
    audit.record(db, user, "case.withdraw", case.public_id)
    db.commit()
    db.expire(case)
    return case


def thread(db: Session, case: Case) -> list[Message]:
    """Return the case's messages, oldest first."""
    return list(db.scalars(select(Message).where(Message.case_id == case.id).order_by(Message.id)))
