"""Caseworkers' decisions fed back to the engine: live as they are made, replayed at start."""
from __future__ import annotations

import logging

from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from .models import Case, Decision, Suggestion

log = logging.getLogger(__name__)
#: Decisions replayed when a process starts; the engine encodes only the newest confirmed ones
#: (MATCHER_FEEDBACK_EXAMPLES), the rest count in its prior.
REPLAY_LIMIT = 5000


def _example(text: str, entry_id: str, decision: str):
    from matcher.feedback import Example  # the engine's import chain is heavy; load on use

    return Example(text=text, entry_id=entry_id, confirmed=decision == "confirm")


def stored_examples(db: Session, limit: int = REPLAY_LIMIT) -> list:
    """Return the latest decision on each suggestion as engine examples (redacted note text)."""
    latest = select(func.max(Decision.id)).group_by(Decision.suggestion_id)
    rows = db.execute(
        select(Case.text, Suggestion.entry_id, Decision.decision)
        .join(Suggestion, Decision.suggestion_id == Suggestion.id)
        .join(Case, Decision.case_id == Case.id)
        .where(Decision.id.in_(latest)).order_by(Decision.id.desc()).limit(limit))
    return [_example(text, entry_id, decision) for text, entry_id, decision in rows]


def replay(matcher, db: Session) -> int:
    """Teach a freshly loaded engine the decisions already in the store; return how many."""
    if not current_app.config["LEARN_FROM_DECISIONS"] or not hasattr(matcher, "learn"):
        return 0
    # Oldest first, so the engine keeps the newest as examples when it caps them.
    return matcher.learn(reversed(stored_examples(db)))


def learn(matcher, case: Case, entry_id: str, decision: str) -> None:
    """Teach this process's engine one new decision; a failure never undoes the decision."""
    if not current_app.config["LEARN_FROM_DECISIONS"] or not hasattr(matcher, "learn"):
        return
    try:
        matcher.learn([_example(case.text, entry_id, decision)])
    except Exception:  # noqa: BLE001 - the decision is stored; learning is a bonus
        log.error("the engine could not learn from a decision", exc_info=False)
