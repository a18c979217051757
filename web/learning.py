"""Caseworkers' decisions fed back to the engine: live, replayed at start, shared by every worker.

Each process holds its own engine. A decision teaches the process that made it at once and
raises the change counter (`learning_state.version`) in the same transaction; every process
looks at the counter at most every LEARNING_REFRESH_SECONDS when it is asked for its engine, and
when it moved, relearns the store's decisions in one swap. A note's vector is stored with its
case (`note_vectors`, with the encoder's name), so neither a restart nor a refresh encodes it again.
"""
from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
from flask import Flask, current_app
from sqlalchemy import and_, func, select, update
from sqlalchemy.orm import Session

from .models import Case, Decision, LearningState, NoteVector, Suggestion

log = logging.getLogger(__name__)
#: Decisions replayed when a process starts or refreshes; the engine keeps the newest confirmed
#: ones as examples (MATCHER_FEEDBACK_EXAMPLES), the rest count in its prior.
REPLAY_LIMIT = 5000
_STATE_ID = 1


def _example(text: str, entry_id: str, decision: str, vector: np.ndarray | None = None):
    from matcher.feedback import Example  # the engine's import chain is heavy; load on use

    return Example(text=text, entry_id=entry_id, confirmed=decision == "confirm", vector=vector)


def _encoder_name(matcher) -> str | None:
    encoder = getattr(matcher, "encoder", None)
    return getattr(encoder, "name", None)


def stored_examples(db: Session, limit: int = REPLAY_LIMIT, encoder: str | None = None) -> list:
    """Return the latest decision on each suggestion as engine examples (redacted note text), newest first.

    With `encoder`, an example carries its note's stored vector when that encoder made it.
    """
    return [example for _, example in _stored(db, limit, encoder)]


def _stored(db: Session, limit: int, encoder: str | None) -> list[tuple[int, object]]:
    """(case id, example) of the latest decision on each suggestion, newest first."""
    latest = select(func.max(Decision.id)).group_by(Decision.suggestion_id)
    rows = db.execute(
        select(Case.id, Case.text, Suggestion.entry_id, Decision.decision, NoteVector.vector)
        .join(Suggestion, Decision.suggestion_id == Suggestion.id)
        .join(Case, Decision.case_id == Case.id)
        .outerjoin(NoteVector, and_(NoteVector.case_id == Case.id, NoteVector.encoder == (encoder or "")))
        .where(Decision.id.in_(latest)).order_by(Decision.id.desc()).limit(limit))
    return [(case_id, _example(text, entry_id, decision, _vector(blob)))
            for case_id, text, entry_id, decision, blob in rows]


def _vector(blob: bytes | None) -> np.ndarray | None:
    return None if blob is None else np.frombuffer(blob, dtype="<f4").astype(np.float32)


def note_vector(db: Session, matcher, case: Case) -> np.ndarray | None:
    """The engine's vector of the case's redacted note: read from the store, or made and stored now.

    Returns None for an engine that cannot make one (a stand-in without an encoder).
    """
    encoder = _encoder_name(matcher)
    if encoder is None or not hasattr(matcher, "example_vectors"):
        return None
    row = db.get(NoteVector, case.id)
    if row is not None and row.encoder == encoder:
        return _vector(row.vector)
    [vector] = _store_vectors(db, matcher, [case])
    db.commit()
    return vector


def _store_vectors(db: Session, matcher, cases_: list[Case]) -> np.ndarray:
    """Embed the cases' redacted notes in one batch and store each vector under the engine's encoder
    (replacing one another encoder made: of no use to this one); the caller commits."""
    encoder = _encoder_name(matcher)
    vectors = np.asarray(matcher.example_vectors([c.text for c in cases_]), dtype="<f4")
    for case, vector in zip(cases_, vectors, strict=True):
        row = db.get(NoteVector, case.id)
        if row is None:
            db.add(NoteVector(case_id=case.id, encoder=encoder, vector=vector.tobytes()))
        else:
            row.encoder, row.vector = encoder, vector.tobytes()
    return vectors.astype(np.float32)


def changed(db: Session) -> None:
    """Raise the change counter, inside the caller's transaction (a decision, an erasure)."""
    result = db.execute(update(LearningState).where(LearningState.id == _STATE_ID)
                        .values(version=LearningState.version + 1)
                        .execution_options(synchronize_session=False))
    if not result.rowcount:  # a store made without the migration's row
        db.add(LearningState(id=_STATE_ID, version=1))


def version(db: Session) -> int:
    """The change counter as stored now (0 before any decision)."""
    return db.scalar(select(LearningState.version).where(LearningState.id == _STATE_ID)) or 0


def _relearn(matcher, db: Session) -> int:
    """Replace what the engine learned with the store's decisions; store vectors it had to make."""
    encoder = _encoder_name(matcher)
    stored = _stored(db, REPLAY_LIMIT, encoder)
    if _store_missing_vectors(matcher, db, stored):
        stored = _stored(db, REPLAY_LIMIT, encoder)
    # Oldest first, so the engine keeps the newest as examples when it caps them.
    return matcher.relearn([example for _, example in reversed(stored)])


def _store_missing_vectors(matcher, db: Session, stored: list) -> int:
    """Embed and store, once, the notes of the newest confirmed examples the engine keeps that have
    no vector of its encoder (decided before vectors were stored, or under another encoder)."""
    keep = getattr(getattr(matcher, "settings", None), "feedback_examples", 0)
    if not keep or not hasattr(matcher, "example_vectors") or _encoder_name(matcher) is None:
        return 0
    confirmed = [(case_id, e) for case_id, e in stored if e.confirmed][:keep]
    missing = sorted({case_id for case_id, e in confirmed if e.vector is None})
    for start in range(0, len(missing), 64):
        _store_vectors(db, matcher, [db.get(Case, case_id) for case_id in missing[start:start + 64]])
    if missing:
        db.commit()
    return len(missing)


def replay(matcher, db: Session, app: Flask | None = None) -> int:
    """Teach a freshly loaded engine the decisions already in the store; return how many."""
    app = app or current_app._get_current_object()
    if not app.config["LEARN_FROM_DECISIONS"] or not hasattr(matcher, "relearn"):
        return 0
    seen = version(db)
    learned = _relearn(matcher, db)
    _state(app).update(version=seen, checked=time.monotonic())
    return learned


def learn(matcher, case: Case, entry_id: str, decision: str, db: Session | None = None) -> None:
    """Teach this process's engine one new decision; a failure never undoes the decision."""
    if not current_app.config["LEARN_FROM_DECISIONS"] or not hasattr(matcher, "learn"):
        return
    try:
        vector = note_vector(db, matcher, case) if db is not None else None
        matcher.learn([_example(case.text, entry_id, decision, vector)])
    except Exception:  # noqa: BLE001 - the decision is stored; learning is a bonus
        if db is not None:
            db.rollback()
        log.error("the engine could not learn from a decision", exc_info=False)


def _state(app: Flask) -> dict:
    return app.extensions.setdefault("learning", {"version": None, "checked": 0.0, "lock": threading.Lock()})


@contextmanager
def paused(app: Flask) -> Iterator[None]:
    """Hold off `refresh` (it skips while this runs), e.g. while a new engine is replayed and swapped in."""
    with _state(app)["lock"]:
        yield


def refresh(app: Flask, matcher, db: Session) -> bool:
    """Relearn the store's decisions when another process (or this one) changed them; cheap otherwise.

    Looks at the change counter at most every LEARNING_REFRESH_SECONDS; one thread relearns while
    the others match with what the engine knew. Returns whether the engine relearned.
    """
    if not app.config["LEARN_FROM_DECISIONS"] or not hasattr(matcher, "relearn"):
        return False
    state = _state(app)
    now = time.monotonic()
    if now - state["checked"] < app.config["LEARNING_REFRESH_SECONDS"] or not state["lock"].acquire(False):
        return False
    try:
        state["checked"] = now
        seen = version(db)
        if seen == state["version"]:
            return False
        learned = _relearn(matcher, db)
        state["version"] = seen
        log.info("the engine relearned %d stored decisions (change %d)", learned, seen)
        return True
    except Exception:  # noqa: BLE001 - matching goes on with what the engine knew; the next look retries
        db.rollback()
        log.error("the engine could not relearn the stored decisions", exc_info=False)
        return False
    finally:
        state["lock"].release()
