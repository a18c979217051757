"""Cases: submitting a note, the caseworker's queue, decisions and closing.

The web views, the JSON API and the demo loader all go through these functions.
"""
from __future__ import annotations

import logging

from flask import current_app, has_app_context
from sqlalchemy import case as case_
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from . import audit, deadlines, learning, notify
from .engine import has_words, redact
from .models import (AREAS, CLOSE_REASONS, DECISIONS, STATUSES, Case, Decision, Suggestion,
                     User, utcnow)

log = logging.getLogger(__name__)

TEXT_MIN, TEXT_MAX = 20, 5000
WISHES_MAX = 2000
REASON_MAX = 1000
MESSAGE_MAX = 5000
#: Queue filters: "open" is everything not yet closed.
QUEUE_STATUSES = {"open": ("pending", "in_review", "waiting"), "pending": ("pending",),
                  "in_review": ("in_review",), "waiting": ("waiting",), "closed": ("closed",),
                  "withdrawn": ("withdrawn",), "all": STATUSES}
#: A decision or a close is refused in these statuses.
FINAL = ("closed", "withdrawn")
_AREA_ALIASES = {"aeldre": "ældre", "aldre": "ældre"}


class CaseError(ValueError):
    """Input or state that a case operation refuses; `code` names the reason."""

    def __init__(self, code: str):
        super().__init__(code)
        self.code = code


def normalise_area(area: str | None) -> str:
    """Return the stored form of an area; ASCII 'aeldre' is accepted for ældre."""
    area = (area or "andet").strip().lower()
    return _AREA_ALIASES.get(area, area)


def check_note(text: str | None, area: str, consent: bool, wishes: str | None) -> None:
    """Raise CaseError when a note cannot be accepted."""
    text = (text or "").strip()
    if consent is not True:
        raise CaseError("consent_required")
    if not text:
        raise CaseError("text_missing")
    if len(text) < TEXT_MIN:
        raise CaseError("text_too_short")
    if len(text) > TEXT_MAX:
        raise CaseError("text_too_long")
    if not has_words(text):  # invisible characters or combining marks only, or no words at all
        raise CaseError("text_no_words")
    if area not in AREAS:
        raise CaseError("bad_area")
    if wishes is not None and len(wishes) > WISHES_MAX:
        raise CaseError("wishes_too_long")


def _suggestion(item, version: str, origin: str = "engine") -> Suggestion:
    # Works for the engine's Suggestion and for a corpus Entry added by hand.
    return Suggestion(
        entry_id=item.id, kind=item.kind, law=item.law, section=item.section,
        title=item.title, rank=getattr(item, "rank", None), score=getattr(item, "score", None),
        evidence=[redact(e) for e in getattr(item, "evidence", None) or []],
        legal_basis=list(getattr(item, "legal_basis", None) or []),
        source_url=getattr(item, "source_url", None) or getattr(item, "url", None),
        engine_version=version, origin=origin)


def _match(matcher, text: str, top: int) -> tuple[list[Suggestion], float | None, bool | None]:
    """The stored suggestions and the engine's verdict on them (confidence, no_good_match)."""
    try:
        found = matcher.match(text, top=top)
    except Exception:  # noqa: BLE001 - a failing engine must not lose the volunteer's note
        # The exception type only: its message could quote the note.
        log.error("matching failed; the case is stored without suggestions", exc_info=False)
        return [], None, None
    return ([_suggestion(s, matcher.version) for s in found],
            getattr(found, "confidence", None), getattr(found, "no_good_match", None))


def submit_note(db: Session, matcher, user: User, text: str, area: str | None,
                consent: bool, wishes: str | None = None, top: int = 10,
                idempotency_key: str | None = None) -> Case:
    """Redact, match and store a volunteer's note; return the new case."""
    area = normalise_area(area)
    wishes = (wishes or "").strip() or None
    check_note(text, area, consent, wishes)
    redacted = redact(text.strip())
    # Matched before the insert so a slow engine never holds a database write lock.
    suggestions, confidence, no_good_match = _match(matcher, redacted, top)
    now = utcnow()
    days = current_app.config["CASE_DEADLINES"] if has_app_context() else deadlines.DEFAULT_DAYS
    case = Case(organisation_id=user.organisation_id, created_by_id=user.id, text=redacted,
                area=area, organisation_wishes=redact(wishes) if wishes else None,
                consent=True, consent_at=now, created_at=now, updated_at=now,
                due_at=deadlines.due_at(now, area, days),
                suggestions=suggestions, confidence=confidence, no_good_match=no_good_match,
                idempotency_key=idempotency_key, engine_version=matcher.version,
                top5_shown=sum(s.rank <= 5 for s in suggestions))
    db.add(case)
    db.flush()
    audit.record(db, user, "note.submit", case.public_id)
    db.commit()
    return case


def submit_note_once(db: Session, matcher, user: User, key: str, text: str, area: str | None,
                     consent: bool, wishes: str | None = None, top: int = 10) -> tuple[Case, bool]:
    """Submit a note under the client's Idempotency-Key: a retry gets the first case back.

    Returns:
        (the case, True if it was created now, False if an earlier request with the key made it).
    Raises:
        CaseError: as submit_note, or "idempotency_key_reused" when the key's case holds another note.
    """
    area = normalise_area(area)
    check_note(text, area, consent, (wishes or "").strip() or None)
    first = _keyed_case(db, user, key)
    if first is None:
        try:
            return submit_note(db, matcher, user, text, area, consent, wishes, top, idempotency_key=key), True
        except IntegrityError:
            # A concurrent retry with the same key stored its case first.
            db.rollback()
            first = _keyed_case(db, user, key)
            if first is None:
                raise
    wishes = (wishes or "").strip() or None
    if (first.text, first.area, first.organisation_wishes) != (
            redact(text.strip()), area, redact(wishes) if wishes else None):
        raise CaseError("idempotency_key_reused")
    audit.record(db, user, "note.replay", first.public_id)
    db.commit()
    return first, False


def _keyed_case(db: Session, user: User, key: str) -> Case | None:
    return db.scalar(select(Case).where(Case.created_by_id == user.id, Case.idempotency_key == key))


def get_case(db: Session, public_id: str) -> Case | None:
    """Return the case with this reference (letters in any case), or None."""
    ref = public_id.strip().upper()
    return db.scalar(select(Case).where(Case.public_id == ref))


def _readable_by(user: User):
    """Which cases a volunteer-side user may read: a volunteer their own, a coordinator the
    organisation's (data minimisation: volunteers do not read colleagues' notes)."""
    if user.role == "coordinator":
        return Case.organisation_id == user.organisation_id
    return Case.created_by_id == user.id


def readable_case(db: Session, user: User, public_id: str) -> Case | None:
    """Return the case if the volunteer wrote it, or it is the coordinator's organisation's."""
    ref = public_id.strip().upper()
    return db.scalar(select(Case).where(Case.public_id == ref, _readable_by(user)))


def readable_cases(db: Session, user: User) -> list[Case]:
    """Return the cases `readable_case` admits for the user, newest first ("Mine sager")."""
    query = (select(Case).where(_readable_by(user))
             .order_by(Case.created_at.desc(), Case.id.desc())
             .options(selectinload(Case.suggestions), selectinload(Case.decisions)))
    return list(db.scalars(query))


def queue_filter(area: str | None, status: str | None) -> tuple[str | None, str]:
    """Check the queue's filters as the page and the API receive them (?area=, ?status=).

    Returns:
        (area in its stored form or None for every area, status; "open" when none is given).
    Raises:
        CaseError: "bad_area" or "bad_status".
    """
    area = normalise_area(area) if area else None
    status = status or "open"
    if area is not None and area not in AREAS:
        raise CaseError("bad_area")
    if status not in QUEUE_STATUSES:
        raise CaseError("bad_status")
    return area, status


def top_suggestion(case: Case) -> Suggestion | None:
    """Return the engine's best suggestion for the case, if any."""
    ranked = [s for s in case.suggestions if s.rank is not None]
    return min(ranked, key=lambda s: s.rank) if ranked else None


def latest_decisions(case: Case) -> dict[int, Decision]:
    """Map suggestion id to its latest decision (later decisions replace earlier ones)."""
    return {d.suggestion_id: d for d in sorted(case.decisions, key=lambda d: d.id)}


def ranked(suggestions) -> list[Suggestion]:
    """Suggestions in the engine's order; entries a caseworker added (no rank) last."""
    return sorted(suggestions, key=lambda s: (s.rank is None, s.rank or 0, s.id))


def outcome(case: Case) -> list[Suggestion]:
    """Return the suggestions confirmed at closing; empty until the case is closed."""
    if case.status != "closed":
        return []
    latest = latest_decisions(case)
    confirmed = [s for s in case.suggestions
                 if s.id in latest and latest[s.id].decision == "confirm"]
    return ranked(confirmed)


def decide(db: Session, matcher, case: Case, user: User, entry_id: str, decision: str,
           reason: str | None = None) -> Decision:
    """Confirm or reject a suggestion; an entry the engine missed is added from the corpus.

    Atomic against a concurrent close: the case row is claimed first with a conditional UPDATE
    (status not closed), which waits for a close in progress and fails once one has committed.
    """
    if decision not in DECISIONS:
        raise CaseError("bad_decision")
    if case.status in FINAL:
        raise CaseError("case_closed")
    reason = (reason or "").strip() or None
    if reason is not None and len(reason) > REASON_MAX:
        raise CaseError("reason_too_long")
    entry = None
    if not any(s.entry_id == entry_id for s in case.suggestions):
        entry = matcher.corpus.get(entry_id) if entry_id else None
        if entry is None:
            raise CaseError("unknown_entry")
        if not entry.in_force(utcnow().date()):  # a repealed provision is never added
            raise CaseError("entry_not_in_force")
    # The first decision and first answer feed the overview without a scan of the decisions.
    now = utcnow()
    _claim(db, case, status=_status_after_decision(),
           first_decision_at=func.coalesce(Case.first_decision_at, now),
           first_answer_at=func.coalesce(Case.first_answer_at, now))
    # Read again under the claim: a concurrent decision may have added the same entry.
    suggestion = db.scalar(select(Suggestion).where(Suggestion.case_id == case.id,
                                                    Suggestion.entry_id == entry_id))
    if suggestion is None:
        entry = entry or matcher.corpus.get(entry_id)
        suggestion = _suggestion(entry, matcher.version, origin="caseworker")
        suggestion.case_id = case.id
        db.add(suggestion)
        db.flush()
    row = Decision(case_id=case.id, suggestion_id=suggestion.id, decision=decision,
                   reason=redact(reason) if reason else None, user_id=user.id)
    # The latest decision, kept on the suggestion for the overview's aggregates.
    suggestion.decision = decision
    tally_engine(case)
    db.add(row)
    audit.record(db, user, f"case.{decision}", f"{case.public_id} {entry_id}")
    learning.changed(db)  # the other workers relearn when they next look
    db.commit()
    db.expire(case)  # status, suggestions and decisions as stored
    learning.learn(matcher, case, entry_id, decision, db)
    return row


def tally_engine(case: Case) -> None:
    """Keep the case's top-1 and top-5 confirmations (the overview's precision) in step with
    the latest decision on each of its engine suggestions."""
    top = [s for s in case.suggestions if s.origin == "engine" and s.rank <= 5]
    case.top1_confirmed = any(s.rank == 1 and s.decision == "confirm" for s in top)
    case.top5_confirmed = sum(s.decision == "confirm" for s in top)


def _status_after_decision():
    """SQL for the status a decision leaves: in review, from pending or in review."""
    return case_((Case.status == "pending", "in_review"), else_=Case.status)


def _claim(db: Session, case: Case, **values) -> None:
    """Update the case row only if it is not closed or withdrawn; raise CaseError("case_closed") otherwise.

    One statement does the check and the write, so two requests cannot both see "open":
    PostgreSQL makes the second wait on the row lock and re-check, SQLite takes its write lock.
    """
    result = db.execute(
        update(Case).where(Case.id == case.id, Case.status.not_in(FINAL))
        .values(updated_at=utcnow(), **values)
        .execution_options(synchronize_session=False))
    if result.rowcount != 1:
        db.rollback()
        db.expire(case)
        raise CaseError("case_closed")


def check_closing(message: str | None, reason: str | None,
                  reason_text: str | None) -> tuple[str | None, str | None, str | None]:
    """Check what a close carries: a message to the volunteer, a reason for no action, or both.

    Returns:
        (message, reason, reason_text), blanks as None.
    Raises:
        CaseError: close_needs_message_or_reason, bad_close_reason, referral_needs_place,
        message_too_long or reason_too_long.
    """
    message = (message or "").strip() or None
    reason = (reason or "").strip() or None
    reason_text = (reason_text or "").strip() or None
    if message is None and reason is None:
        raise CaseError("close_needs_message_or_reason")
    if reason is not None and reason not in CLOSE_REASONS:
        raise CaseError("bad_close_reason")
    if reason == "referred" and reason_text is None:
        raise CaseError("referral_needs_place")
    if reason != "referred":
        reason_text = None
    if message is not None and len(message) > MESSAGE_MAX:
        raise CaseError("message_too_long")
    if reason_text is not None and len(reason_text) > REASON_MAX:
        raise CaseError("reason_too_long")
    return message, reason, reason_text


def close(db: Session, case: Case, user: User, message: str | None = None,
          reason: str | None = None, reason_text: str | None = None) -> Case:
    """Close the case with a message to the volunteer and/or a reason; exactly one close succeeds."""
    if case.status in FINAL:
        raise CaseError("case_closed")
    message, reason, reason_text = check_closing(message, reason, reason_text)
    now = utcnow()
    _claim(db, case, status="closed", closed_at=now, closed_by_id=user.id,
           message=redact(message) if message else None, close_reason=reason,
           close_reason_text=redact(reason_text) if reason_text else None,
           first_answer_at=func.coalesce(Case.first_answer_at, now))
    notify.news(db, case, "closed")
    audit.record(db, user, "case.close", case.public_id)
    db.commit()
    db.expire(case)
    notify.send_soon()
    return case


def reopen(db: Session, case: Case, user: User, reason: str | None) -> Case:
    """Open a closed case again, with a reason; its answer is withdrawn until it closes again."""
    reason = (reason or "").strip()
    if not reason:
        raise CaseError("reopen_needs_reason")
    if len(reason) > REASON_MAX:
        raise CaseError("reason_too_long")
    now = utcnow()
    # One statement checks and writes, as _claim does: of two reopens, one finds it closed.
    result = db.execute(
        update(Case).where(Case.id == case.id, Case.status == "closed")
        .values(status="in_review", closed_at=None, closed_by_id=None, message=None,
                close_reason=None, close_reason_text=None, reopened_at=now,
                reopened_by_id=user.id, reopen_reason=redact(reason), updated_at=now)
        .execution_options(synchronize_session=False))
    if result.rowcount != 1:
        db.rollback()
        db.expire(case)
        raise CaseError("case_not_closed")
    db.expire(case)
    notify.news(db, case, "reopened")
    audit.record(db, user, "case.reopen", case.public_id)
    db.commit()
    db.expire(case)
    notify.send_soon()
    return case


def assign(db: Session, case: Case, user: User, to: str | None) -> Case:
    """Give the case to a caseworker by username (oneself: "Tag sagen"), or back to the queue (None)."""
    assignee = None
    if to:
        assignee = db.scalar(select(User).where(User.username == to.strip().lower(),
                                                User.role == "caseworker", User.active.is_(True)))
        if assignee is None:
            raise CaseError("unknown_assignee")
    _claim(db, case, assigned_to_id=assignee.id if assignee else None)
    audit.record(db, user, "case.assign",
                 f"{case.public_id} {assignee.username if assignee else '-'}")
    db.commit()
    db.expire(case)
    return case


def progress(case: Case) -> tuple[int, int]:
    """(suggestions decided, suggestions in all): the case page's "3 af 10 forslag afgjort"."""
    latest = latest_decisions(case)
    return sum(1 for s in case.suggestions if s.id in latest), len(case.suggestions)


def record_view(db: Session, user: User, action: str, case: Case) -> None:
    """Store the audit event of someone reading a case, once a minute: a reload adds none."""
    if not audit.recently_read(db, user, action, [case.public_id]):
        audit.record(db, user, action, case.public_id)
        db.commit()
