"""Telling a volunteer that a case has news: the unread marker and an e-mail through an outbox.

The news (a question, the closing) and its e-mail are written in the same transaction as the
change itself, so a mail server that is down never loses a decision. After the commit a
short-lived thread sends what is waiting in the outbox (`send_soon`), so the request never waits
for SMTP; a failed send stays in the outbox and is retried by the next one, or by
`matcher notifications send` from cron. The mail says only that there is news and links to the
case: never the note, the question or the message.
"""
from __future__ import annotations

import logging
import smtplib
import ssl
import threading
from datetime import timedelta
from email.message import EmailMessage

from flask import current_app, has_request_context, render_template, url_for
from flask_babel import force_locale
from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from .models import Case, CaseRead, Notification, User, utcnow

log = logging.getLogger(__name__)
#: A send is tried this many times before the outbox gives it up (each failure is logged).
MAX_ATTEMPTS = 8
#: A claim older than this belongs to a process that died while sending: try again.
STALE_CLAIM = timedelta(minutes=10)


def case_link(case: Case) -> str:
    """Return the address of the volunteer's page of the case (PUBLIC_URL or the request's)."""
    path = url_for("volunteer.show_note", public_id=case.public_id)
    base = current_app.config.get("PUBLIC_URL", "").rstrip("/")
    if base:
        return base + path
    if has_request_context():
        return url_for("volunteer.show_note", public_id=case.public_id, _external=True)
    return path


def news(db: Session, case: Case, event: str) -> None:
    """Mark news on the case for its volunteer and put an e-mail in the outbox (not committed).

    The caller commits with its own change, then calls `send_soon`.
    """
    now = utcnow()
    db.execute(update(Case).where(Case.id == case.id).values(news_at=now)
               .execution_options(synchronize_session=False))
    volunteer = db.get(User, case.created_by_id)
    if volunteer is None or not volunteer.active or not volunteer.email:
        return
    # The volunteer's language is not stored; the site's default is the one they registered in.
    with force_locale(current_app.config["BABEL_DEFAULT_LOCALE"]):
        subject = render_template("mail/news_subject.txt", case=case, event=event).strip()
        body = render_template("mail/news.txt", case=case, event=event, link=case_link(case),
                               name=volunteer.username)
    db.add(Notification(case_id=case.id, user_id=volunteer.id, event=event, subject=subject,
                        body=body, created_at=now))


def unread(db: Session, user: User, cases: list[Case]) -> set[int]:
    """Return the ids of those cases with news the user has not opened since."""
    with_news = [c for c in cases if c.news_at is not None]
    if not with_news:
        return set()
    seen = dict(db.execute(select(CaseRead.case_id, CaseRead.seen_at).where(
        CaseRead.user_id == user.id, CaseRead.case_id.in_([c.id for c in with_news]))).all())
    return {c.id for c in with_news if c.id not in seen or seen[c.id] < c.news_at}


def mark_read(db: Session, user: User, case: Case) -> None:
    """Record that the user has opened the case now (its news is read)."""
    now = utcnow()
    row = db.get(CaseRead, (user.id, case.id))
    if row is not None:
        row.seen_at = now
        db.commit()
        return
    db.add(CaseRead(user_id=user.id, case_id=case.id, seen_at=now))
    try:
        db.commit()
    except IntegrityError:  # the same user's other tab stored it first
        db.rollback()
        db.execute(update(CaseRead).where(CaseRead.user_id == user.id, CaseRead.case_id == case.id)
                   .values(seen_at=now))
        db.commit()


def _claim(db: Session, note: Notification) -> bool:
    now = utcnow()
    result = db.execute(
        update(Notification).where(
            Notification.id == note.id, Notification.sent_at.is_(None),
            or_(Notification.claimed_at.is_(None), Notification.claimed_at < now - STALE_CLAIM))
        .values(claimed_at=now).execution_options(synchronize_session=False))
    db.commit()
    return result.rowcount == 1


def _send(config, to: str, subject: str, body: str) -> None:
    mail = EmailMessage()
    mail["From"], mail["To"], mail["Subject"] = config["SMTP_FROM"], to, subject
    mail.set_content(body)
    with smtplib.SMTP(config["SMTP_HOST"], config["SMTP_PORT"],
                      timeout=config["SMTP_TIMEOUT"]) as smtp:
        if config["SMTP_STARTTLS"]:
            smtp.starttls(context=ssl.create_default_context())
        if config["SMTP_USERNAME"]:
            smtp.login(config["SMTP_USERNAME"], config["SMTP_PASSWORD"])
        smtp.send_message(mail)


def send_pending(db: Session, config) -> tuple[int, int]:
    """Send every e-mail waiting in the outbox; return (sent, failed).

    Each row is claimed first (one conditional UPDATE), so processes sending at once never
    send the same mail twice; a failure frees the claim and counts an attempt.
    """
    if not config.get("SMTP_HOST"):
        return 0, 0
    waiting = list(db.scalars(select(Notification).where(
        Notification.sent_at.is_(None), Notification.attempts < MAX_ATTEMPTS)
        .order_by(Notification.id)))
    sent = failed = 0
    for note in waiting:
        if not _claim(db, note):
            continue
        to = note.user.email if note.user.active else None
        try:
            if not to:
                raise ValueError("the volunteer has no e-mail address or is deactivated")
            _send(config, to, note.subject, note.body)
        except (OSError, smtplib.SMTPException, ValueError) as exc:
            failed += 1
            # The exception's type only: an SMTP error can echo the address back.
            log.warning("notification %d not sent (%s); it stays in the outbox", note.id,
                        type(exc).__name__)
            db.execute(update(Notification).where(Notification.id == note.id).values(
                claimed_at=None, attempts=Notification.attempts + 1,
                last_error=type(exc).__name__[:200]))
        else:
            sent += 1
            db.execute(update(Notification).where(Notification.id == note.id).values(
                sent_at=utcnow(), attempts=Notification.attempts + 1, last_error=None))
        db.commit()
    return sent, failed


def send_soon() -> None:
    """Send the outbox in a thread of its own, so the request does not wait for the mail server."""
    app = current_app._get_current_object()
    if not app.config.get("SMTP_HOST"):
        return

    def run() -> None:
        from . import db

        with app.app_context():
            try:
                send_pending(db.session(), app.config)
            except Exception:  # noqa: BLE001 - logged; the outbox keeps the mail for the next try
                log.exception("sending notifications failed")

    threading.Thread(target=run, name="notify", daemon=True).start()
