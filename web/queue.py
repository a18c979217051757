"""The caseworker's queue: filters that combine, search, four orders and keyset pages.

A page is read from an index at any depth: the next page starts after the last row's sort key
(`page` is that key, encoded), so page 2,000 costs what page 1 costs, where OFFSET would read
and drop every row before it (benchmarks/queue_at_scale.py, docs/EVAL.md).
"""
from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, func, literal, literal_column, or_, select, tuple_
from sqlalchemy.orm import Session, selectinload

from .cases import QUEUE_STATUSES, CaseError, queue_filter
from .models import (REFERENCE_PREFIX_MIN, Case, User, reference_characters,
                     reference_prefix)

#: ?sort= -> the columns a page is ordered by (the id last, so every key is unique).
SORTS = {
    "deadline": (Case.due_at, Case.id),
    "received": (Case.created_at, Case.id),
    "area": (Case.area, Case.due_at, Case.id),
    "status": (Case.status, Case.due_at, Case.id),
}
ASSIGNED_SPECIAL = ("me", "none")
QUERY_MAX = 200
_WORD = re.compile(r"\w+")


@dataclass(frozen=True)
class QueueQuery:
    """What the caseworker asked for, checked (`parse` builds it from ?q=&area=&... values)."""

    q: str = ""
    area: str | None = None
    status: str = "open"
    assigned: str | None = None
    sort: str = "deadline"
    page: str | None = None


@dataclass(frozen=True)
class QueuePage:
    """One page of cases and the `page` value of the next one (None on the last)."""

    items: list[Case]
    next: str | None


def parse(q: str | None = None, area: str | None = None, status: str | None = None,
          assigned: str | None = None, sort: str | None = None, page: str | None = None) -> QueueQuery:
    """Check the queue's parameters as the page and the API receive them.

    Raises:
        CaseError: bad_area, bad_status, bad_sort, bad_page or query_too_long.
    """
    area, status = queue_filter(area or None, status or None)
    q = (q or "").strip()
    if len(q) > QUERY_MAX:
        raise CaseError("query_too_long")
    sort = sort or "deadline"
    if sort not in SORTS:
        raise CaseError("bad_sort")
    if page:
        _decode(page, sort)  # refused here, before any query runs
    assigned = (assigned or "").strip().lower() or None
    return QueueQuery(q=q, area=area, status=status, assigned=assigned, sort=sort, page=page or None)


def find(db: Session, user: User, query: QueueQuery, size: int) -> QueuePage:
    """Return one page of the queue for `user` (whose "me" is meant by assigned=me).

    Raises:
        CaseError: "unknown_assignee" when assigned= names no caseworker.
    """
    keys = SORTS[query.sort]
    stmt = (select(Case).where(Case.status.in_(QUEUE_STATUSES[query.status]))
            .order_by(*keys).limit(size + 1)
            .options(selectinload(Case.suggestions)))
    if query.area:
        stmt = stmt.where(Case.area == query.area)
    if query.assigned == "me":
        stmt = stmt.where(Case.assigned_to_id == user.id)
    elif query.assigned == "none":
        stmt = stmt.where(Case.assigned_to_id.is_(None))
    elif query.assigned:
        assignee = db.scalar(select(User.id).where(User.username == query.assigned,
                                                   User.role == "caseworker"))
        if assignee is None:
            raise CaseError("unknown_assignee")
        stmt = stmt.where(Case.assigned_to_id == assignee)
    if query.q:
        stmt = stmt.where(_search(db, query.q))
    if query.page:
        after = _decode(query.page, query.sort)
        stmt = stmt.where(tuple_(*keys) > tuple_(*(literal(v, k.type) for v, k in zip(after, keys, strict=True))))
    rows = list(db.scalars(stmt).unique())
    more = len(rows) > size
    rows = rows[:size]
    return QueuePage(rows, _encode(rows[-1], keys) if more else None)


def _search(db: Session, q: str):
    """The condition for ?q=: a reference (or its beginning), else every word in the text."""
    prefix = reference_prefix(q)
    # Either may be meant ("KDVB" is the beginning of a reference, or a word): search both.
    if prefix is not None and reference_characters(prefix) >= REFERENCE_PREFIX_MIN:
        by_reference = Case.public_id.startswith(prefix, autoescape=True)
    else:
        by_reference = None
    if db.get_bind().dialect.name == "postgresql":
        # The same expression as the GIN index ix_cases_text_search (migration 0005), so it is used.
        words = func.to_tsvector(literal_column("'danish'"), Case.text).op("@@")(
            func.plainto_tsquery(literal_column("'danish'"), q))
    else:
        terms = _WORD.findall(q.lower())
        words = (literal(True) if not terms else
                 and_(*(func.lower(Case.text).contains(t, autoescape=True) for t in terms)))
    return words if by_reference is None else or_(by_reference, words)


def _encode(case: Case, keys) -> str:
    values = [getattr(case, k.key) for k in keys]
    raw = json.dumps([v.isoformat() if isinstance(v, datetime) else v for v in values])
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _decode(page: str, sort: str) -> list:
    """The sort key a page starts after; CaseError("bad_page") for anything we did not hand out."""
    keys = SORTS[sort]
    try:
        values = json.loads(base64.urlsafe_b64decode(page + "=" * (-len(page) % 4)))
        if not isinstance(values, list) or len(values) != len(keys):
            raise ValueError
        out = []
        for value, key in zip(values, keys, strict=True):
            if key.key in ("due_at", "created_at"):
                moment = datetime.fromisoformat(value)
                if moment.tzinfo is None:
                    raise ValueError
                out.append(moment)
            elif key.key == "id":
                if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value < 2**63:
                    raise ValueError
                out.append(value)
            else:
                if not isinstance(value, str) or len(value) > 16:
                    raise ValueError
                out.append(value)
        return out
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError):
        raise CaseError("bad_page") from None
