"""JSON shapes of the API: notes for volunteers, cases and queue rows for caseworkers."""
from __future__ import annotations

from .cases import latest_decisions, ranked
from .deadlines import days_left
from .models import Case, Decision, Message, Suggestion

EXCERPT_LENGTH = 160


def _citation(s: Suggestion) -> dict:
    return {"id": s.entry_id, "kind": s.kind, "law": s.law, "section": s.section,
            "title": s.title}


def message_json(m: Message) -> dict:
    """One message of a case's thread, as stored (redacted); who wrote it only by role."""
    return {"from_role": m.from_role, "kind": m.kind, "text": m.text,
            "created_at": m.created_at.isoformat()}


def note_json(case: Case, outcome: list[Suggestion]) -> dict:
    """What a volunteer sees: the note, its status, the thread and, once closed, the outcome."""
    return {"id": case.public_id, "status": case.status, "area": case.area, "text": case.text,
            "organisation_wishes": case.organisation_wishes,
            "created_at": case.created_at.isoformat(),
            "outcome": [_citation(s) for s in outcome],
            "message": case.message if case.status == "closed" else None,
            "messages": [message_json(m) for m in case.messages],
            "withdrawn_at": case.withdrawn_at.isoformat() if case.withdrawn_at else None,
            "reopened_at": case.reopened_at.isoformat() if case.reopened_at else None}


def note_item_json(case: Case, unread: bool) -> dict:
    """A row of the volunteer's list: reference, status, area, when, and whether it has news."""
    return {"id": case.public_id, "status": case.status, "area": case.area,
            "created_at": case.created_at.isoformat(), "unread": unread}


def suggestion_json(s: Suggestion, decision: Decision | None) -> dict:
    """A suggestion as the caseworker sees it; `id` is the corpus entry id."""
    return {**_citation(s), "rank": s.rank, "score": s.score, "evidence": s.evidence,
            "legal_basis": s.legal_basis, "source_url": s.source_url, "origin": s.origin,
            "engine_version": s.engine_version,
            "decision": decision.decision if decision is not None else None}


def decision_json(d: Decision) -> dict:
    """One decision with who made it and when."""
    return {"entry_id": d.suggestion.entry_id, "decision": d.decision, "reason": d.reason,
            "by": d.user.username, "at": d.created_at.isoformat()}


def case_json(case: Case) -> dict:
    """A case for the caseworker: note, wishes, suggestions and decisions."""
    latest = latest_decisions(case)
    ordered = ranked(case.suggestions)
    return {"id": case.public_id, "text": case.text, "area": case.area,
            "organisation": case.organisation.name,
            "organisation_wishes": case.organisation_wishes, "status": case.status,
            "created_at": case.created_at.isoformat(),
            "closed_at": case.closed_at.isoformat() if case.closed_at else None,
            "message": case.message, "close_reason": case.close_reason,
            "close_reason_text": case.close_reason_text,
            "reopened_at": case.reopened_at.isoformat() if case.reopened_at else None,
            "reopen_reason": case.reopen_reason, **_deadline(case),
            **verdict_json(case),
            "suggestions": [suggestion_json(s, latest.get(s.id)) for s in ordered],
            "decisions": [decision_json(d) for d in case.decisions],
            "messages": [message_json(m) for m in case.messages],
            "withdrawn_at": case.withdrawn_at.isoformat() if case.withdrawn_at else None,
            "withdrawal_reason": case.withdrawal_reason}


def queue_item_json(case: Case, top: Suggestion | None) -> dict:
    """A queue row: reference, age, area, excerpt and the top suggestion."""
    excerpt = case.text if len(case.text) <= EXCERPT_LENGTH else (
        case.text[:EXCERPT_LENGTH].rsplit(" ", 1)[0] + " …")
    return {"id": case.public_id, "created_at": case.created_at.isoformat(),
            "area": case.area, "status": case.status, "excerpt": excerpt, **_deadline(case),
            "top": None if top is None else {**_citation(top), "score": top.score}, **verdict_json(case)}


def verdict_json(case: Case) -> dict:
    """The engine's verdict on the case's suggestions (null for cases matched without one)."""
    return {"confidence": case.confidence, "no_good_match": case.no_good_match}


def _deadline(case: Case) -> dict:
    """Who has the case, its deadline and the whole days left (negative when overdue)."""
    return {"assigned_to": case.assigned_to.username if case.assigned_to else None,
            "deadline": case.due_at.isoformat(), "days_left": days_left(case)}


def entry_json(entry) -> dict:
    """A corpus entry (rule or service) found by search."""
    return {"id": entry.id, "kind": entry.kind, "law": entry.law, "section": entry.section,
            "title": entry.title, "summary": entry.summary,
            "source_url": entry.source_url, "url": getattr(entry, "url", None),
            "legal_basis": list(getattr(entry, "legal_basis", None) or []),
            "provider": getattr(entry, "provider", None)}

