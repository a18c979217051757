"""The overview's numbers: SQL aggregates over cases, suggestions and wishes.

`build_report` runs a few aggregate queries (no case row is loaded; the heaviest, over the
suggestions, runs once and feeds two sections) and publishes every count through `suppress`, so
the raw numbers never leave this module. A section is a function `(Query) -> Section`, listed in
SECTIONS; a new metric is one more such function.
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

from flask import current_app, has_app_context
from sqlalchemy import and_, case, exists, false, func, or_, select, tuple_
from sqlalchemy.orm import Session

from ..models import (AREAS, WISH_KINDS, WISH_OUTCOMES, Case, Message, Organisation, Suggestion,
                      Wish)
from ..messages import OPEN
from . import suppress
from .report import (DEFAULT_DAYS, MAX_DAYS, InsightsError, Query,  # noqa: F401 - re-exported
                     Report, Section, Table, parse_filters)
from .report import Filters  # noqa: F401 - re-exported

#: Open cases by age, in days: [lower, upper).
AGE_BANDS = ((0, 7), (7, 30), (30, 90), (90, None))
#: Marks the generated cases of `matcher demo` (their Idempotency-Key starts with it).
DEMO_KEY_PREFIX = "demo:"
TOP_PROVISIONS = 10
TOP_PER_AREA = 5
AREA_SLUGS = {"ældre": "aeldre", "flygtning": "flygtning", "andet": "andet"}


def _day(value) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def _total(condition):
    """SQL counting the rows where `condition` holds."""
    return func.sum(case((condition, 1), else_=0))


def _citation(law, section) -> str | None:
    return f"{law} {section}".strip() if law else None


# --- sections -------------------------------------------------------------------------------

GRID = ("cases", "closed", "with_message", "withdrawn", "closed_late", "past_deadline",
        "waiting", "top1_shown", "top1_confirmed", "top5_shown", "top5_confirmed")


def _overdue_open(q: Query):
    """SQL: the case is open and past its deadline now (see `deadlines`)."""
    pauses = (current_app.config["DEADLINE_PAUSES_WHILE_WAITING"] if has_app_context()
              else True)
    runs_on = Case.status.in_([s for s in OPEN if s != "waiting" or not pauses])
    return or_(and_(runs_on, Case.due_at < q.now),
               and_(Case.status == "waiting", Case.due_at < Case.waiting_since)
               if pauses else false())


def grid(q: Query) -> dict[tuple[date, str, int, str | None], dict[str, int]]:
    """The selected cases counted per (period, area, organisation, engine version) in one scan:
    received, closed, closed with a message, withdrawn, closed after the deadline, open past it
    now, waiting now, and the engine's tallies of the reviewed ones. Sections add these up."""
    bucket = q.bucket(Case.created_at)
    closed = Case.closed_at.is_not(None)
    # The engine's precision counts only reviewed cases (with a decision), from their tallies.
    reviewed = and_(Case.first_decision_at.is_not(None), Case.top5_shown > 0)
    stmt = (select(bucket, Case.area, Case.organisation_id, Case.engine_version, func.count(),
                   func.count(Case.closed_at), func.count(Case.message),
                   _total(Case.status == "withdrawn"),
                   _total(and_(closed, Case.closed_at > Case.due_at)), _total(_overdue_open(q)),
                   _total(Case.status == "waiting"), _total(reviewed),
                   _total(and_(reviewed, Case.top1_confirmed)),
                   func.sum(case((reviewed, Case.top5_shown), else_=0)),
                   func.sum(case((reviewed, Case.top5_confirmed), else_=0)))
            .group_by(bucket, Case.area, Case.organisation_id, Case.engine_version))
    return {(_day(p), area, org, version): dict(zip(GRID, (int(v or 0) for v in rest),
                                                    strict=True))
            for p, area, org, version, *rest in q.db.execute(q.scope(stmt))}


def _sum(q: Query, key: str, by: int | None = None) -> Any:
    """Add up one grid count, in all or per the key's part `by` (0 period, 1 area, 2 org,
    3 engine version)."""
    cells = q.once("grid", lambda: grid(q))
    if by is None:
        return sum(c[key] for c in cells.values())
    out: dict = {}
    for parts, c in cells.items():
        out[parts[by]] = out.get(parts[by], 0) + c[key]
    return out


def received(q: Query) -> Section:
    """Cases received per week or month, per area and per organisation."""
    counted = _sum(q, "cases", 0)
    series = [{"period": p.isoformat(), "cases": q.count(counted.get(p, 0))} for p in q.periods()]
    by_area = _sum(q, "cases", 1)
    names = dict(q.db.execute(select(Organisation.id, Organisation.name)).all())
    by_org = sorted(((names.get(o, str(o)), n) for o, n in _sum(q, "cases", 2).items()),
                    key=lambda r: (-r[1], r[0]))
    return Section("received", {"cases": q.count(sum(counted.values()))}, [
        Table("received", ("period", "cases"), series, chart="time", value="cases",
              label="period"),
        Table("received_by_area", ("area", "cases"),
              [{"area": a, "cases": q.count(by_area.get(a, 0))} for a in AREAS],
              chart="ranked", value="cases", label="area"),
        Table("received_by_organisation", ("organisation", "cases"),
              [{"organisation": name, "cases": q.count(n)} for name, n in by_org]),
    ])


def answers(q: Query) -> Section:
    """How many cases were closed, answered with a message or withdrawn; times from receipt to
    the first answer (a decision, a question or the closing), to the first decision and to
    closing (median and 90th percentile, in hours)."""
    closed, with_message, withdrawn = (_sum(q, k) for k in ("closed", "with_message",
                                                            "withdrawn"))
    measures = (("first_answer", Case.first_answer_at), ("first_decision", Case.first_decision_at),
                ("closing", Case.closed_at))
    found = q.durations_of([(column, Case.created_at) for _, column in measures])
    rows = [_times(q, measure, f) for (measure, _), f in zip(measures, found, strict=True)]
    times = {r["measure"]: r for r in rows}
    figures = {"closed": q.count(closed), "answered_with_message": q.count(with_message),
               "share_with_message": suppress.share(with_message, closed, q.k),
               "withdrawn": q.count(int(withdrawn or 0)),
               "median_hours_to_first_answer": times["first_answer"]["median_hours"],
               "p90_hours_to_first_answer": times["first_answer"]["p90_hours"],
               "median_hours_to_closing": times["closing"]["median_hours"],
               "p90_hours_to_closing": times["closing"]["p90_hours"]}
    return Section("answers", figures, [
        Table("answer_times", ("measure", "cases", "median_hours", "p90_hours"), rows)])


def questions(q: Query) -> Section:
    """Questions the caseworkers asked the volunteers about the selected cases, and how many
    the volunteers answered, per period of receipt; cases waiting for an answer now."""
    bucket = q.bucket(Case.created_at)
    stmt = (select(bucket, _total(Message.kind == "question"), _total(Message.kind == "answer"),
                   func.count(func.distinct(case((Message.kind == "question", Message.case_id)))))
            .join(Case, Message.case_id == Case.id).group_by(bucket))
    found = {_day(p): (int(a or 0), int(b or 0), int(c or 0))
             for p, a, b, c in q.db.execute(q.scope(stmt))}
    asked = sum(a for a, _, _ in found.values())
    answered = sum(b for _, b, _ in found.values())
    with_question = sum(c for _, _, c in found.values())
    waiting = _sum(q, "waiting")
    series = [{"period": p.isoformat(), "asked": q.count(found.get(p, (0, 0, 0))[0]),
               "answered": q.count(found.get(p, (0, 0, 0))[1])} for p in q.periods()]
    return Section("questions", {
        "asked": q.count(asked), "answered": q.count(answered),
        "share_answered": suppress.share(answered, asked, q.k),
        "cases_with_question": q.count(with_question), "waiting": q.count(waiting)}, [
        Table("questions", ("period", "asked", "answered"), series, chart="time", value="asked",
              label="period")])


def _times(q: Query, measure: str, found: tuple) -> dict[str, Any]:
    n, median, p90 = found
    return {"measure": measure, "cases": q.count(n),
            "median_hours": suppress.measure(_hours(median), n, q.k),
            "p90_hours": suppress.measure(_hours(p90), n, q.k)}


def _hours(seconds) -> float | None:
    return None if seconds is None else float(seconds) / 3600


def backlog(q: Query) -> Section:
    """Cases open now (received up to the period's end), by status and by age: one query."""
    def age(lower, upper):
        older = Case.created_at <= q.now - timedelta(days=lower)
        return older if upper is None else and_(older,
                                                Case.created_at > q.now - timedelta(days=upper))
    stmt = q.scope(select(Case.status, func.count(),
                          *(_total(age(lower, upper)) for lower, upper in AGE_BANDS))
                   .where(Case.status.in_(OPEN), Case.created_at < q.until)
                   .group_by(Case.status), received=False)
    by_status, per_band = {}, [0] * len(AGE_BANDS)
    for status, n, *bands in q.db.execute(stmt):
        by_status[status] = n
        per_band = [a + int(b or 0) for a, b in zip(per_band, bands, strict=True)]
    rows = [{"age_days": f"{lower}-{upper}" if upper is not None else f"{lower}+",
             "cases": q.count(n)} for (lower, upper), n in zip(AGE_BANDS, per_band, strict=True)]
    figures = {"open": q.count(sum(by_status.values()))}
    figures.update({status: q.count(n) for status, n in sorted(by_status.items())})
    return Section("backlog", figures, [
        Table("backlog_by_age", ("age_days", "cases"), rows, chart="ranked", value="cases",
              label="age_days")])


def deadlines(q: Query) -> Section:
    """Cases past their case-handling deadline (`Case.due_at`, web/deadlines.py): open cases
    past it now, and cases closed after it, per period of receipt.

    A finished wait for the volunteer's answer has already moved `due_at` on; while a case waits
    and DEADLINE_PAUSES_WHILE_WAITING is on, its deadline stands still, so a waiting case is
    past it only if it was past before the wait began (`due_at < waiting_since`).
    """
    closed, late, overdue = (_sum(q, k, 0) for k in ("closed", "closed_late", "past_deadline"))
    found = {p: (closed.get(p, 0), late.get(p, 0), overdue.get(p, 0)) for p in closed}
    n_closed, late = sum(closed.values()), sum(late.values())
    # Open cases received before the period count too: the backlog is now, not the period's.
    open_now = q.db.scalar(q.scope(select(func.count()).select_from(Case).where(
        _overdue_open(q), Case.created_at < q.until), received=False))
    series = [{"period": p.isoformat(), "closed": q.count(found.get(p, (0, 0, 0))[0]),
               "closed_late": q.count(found.get(p, (0, 0, 0))[1]),
               "open_past_deadline": q.count(found.get(p, (0, 0, 0))[2])} for p in q.periods()]
    return Section("deadlines", {
        "open_past_deadline": q.count(open_now), "closed_late": q.count(late),
        "share_closed_on_time": suppress.share(n_closed - late, n_closed, q.k)}, [
        Table("deadlines", ("period", "closed", "closed_late", "open_past_deadline"), series,
              chart="time", value="closed_late", label="period")])


def provision_counts(q: Query) -> dict[tuple[str, str], dict[str, Any]]:
    """Per (area, entry) of the decided suggestions: confirmed and rejected (latest decision) of
    the engine's, and confirmed after a caseworker added it by hand. Reads the decided
    suggestions only (a partial index); "suggested" is filled in by `add_suggested`."""
    is_engine = Suggestion.origin == "engine"
    confirm, reject = Suggestion.decision == "confirm", Suggestion.decision == "reject"
    stmt = (select(Case.area, Suggestion.entry_id, _total(and_(is_engine, confirm)),
                   _total(and_(is_engine, reject)), _total(and_(~is_engine, confirm)),
                   _total(~is_engine))
            .join(Case, Suggestion.case_id == Case.id)
            .where(Suggestion.decision.is_not(None))
            .group_by(Case.area, Suggestion.entry_id))
    found = {}
    for area, entry_id, confirmed, rejected, added, by_hand in q.db.execute(q.scope(stmt)):
        found[area, entry_id] = {"entry_id": entry_id, "citation": None, "title": entry_id,
                                 "suggested": 0, "confirmed": int(confirmed) + int(added),
                                 "rejected": int(rejected), "added": int(added),
                                 "by_hand": int(by_hand)}
    return found


def _shown_entries(q: Query, counts) -> set[str]:
    """Every provision a table of the overview will show, so their "suggested" is one query."""
    per_entry = _per_entry(counts.values())
    engine_rows = [{**r, "confirmed": r["confirmed"] - r["added"]} for r in per_entry]
    shown = (_top(per_entry, "confirmed", TOP_PROVISIONS)
             + _top(engine_rows, "confirmed", TOP_PROVISIONS)
             + _top(engine_rows, "added", TOP_PER_AREA + 3))
    for area in AREAS:
        shown += _top([r for (a, _), r in counts.items() if a == area], "confirmed", TOP_PER_AREA)
    return {r["entry_id"] for r in shown}


def add_suggested(q: Query, rows: list[dict[str, Any]], area: str | None = None,
                  ids: set[str] = frozenset()) -> None:
    """Fill in how often the engine suggested each of these provisions, and their citation and
    title as stored with the suggestions: one indexed query for the few provisions shown (pass
    `ids`, all of them, on the first call)."""
    ids = sorted(({r["entry_id"] for r in rows} | set(ids))
                 - set(q._cache.setdefault("titles", {})))
    if ids:
        # Every suggestion of these provisions (an index-only count), less those a caseworker
        # added by hand: each of those has a decision, so provision_counts has them.
        stmt = (select(Case.area, Suggestion.entry_id, func.count(), func.max(Suggestion.case_id))
                .join(Case, Suggestion.case_id == Case.id)
                .where(Suggestion.entry_id.in_(ids)).group_by(Case.area, Suggestion.entry_id))
        decided = q.once("provisions", lambda: provision_counts(q))
        counts = q._cache.setdefault("suggested", {})
        latest: dict[str, int] = {}
        for a, entry_id, n, case_id in q.db.execute(q.scope(stmt)):
            by_hand = decided.get((a, entry_id), {}).get("by_hand", 0)
            counts[a, entry_id] = int(n) - by_hand
            latest[entry_id] = max(latest.get(entry_id, 0), case_id)
        # The citation and title as stored with each provision's latest suggestion.
        for entry_id in ids:
            q._cache["titles"][entry_id] = (None, entry_id)
        if latest:
            pairs = tuple_(Suggestion.entry_id, Suggestion.case_id).in_(list(latest.items()))
            for entry_id, law, section, title in q.db.execute(
                    select(Suggestion.entry_id, Suggestion.law, Suggestion.section,
                           Suggestion.title).where(pairs)):
                q._cache["titles"][entry_id] = (_citation(law, section), title)
    counts = q._cache.get("suggested", {})
    for row in rows:
        areas = [area] if area else AREAS
        row["suggested"] = sum(counts.get((a, row["entry_id"]), 0) for a in areas)
        row["citation"], row["title"] = q._cache["titles"][row["entry_id"]]


def _per_entry(rows) -> list[dict[str, Any]]:
    """Add up (area, entry) counts per entry."""
    merged: dict[str, dict[str, Any]] = {}
    for row in rows:
        into = merged.setdefault(row["entry_id"], {**row, "suggested": 0, "confirmed": 0,
                                                   "rejected": 0, "added": 0, "by_hand": 0})
        for key in ("suggested", "confirmed", "rejected", "added", "by_hand"):
            into[key] += row[key]
    return list(merged.values())


def _top(rows, key: str, limit: int, then: str = "rejected") -> list[dict[str, Any]]:
    chosen = [r for r in rows if r[key] > 0]
    return sorted(chosen, key=lambda r: (-r[key], -r[then], r["entry_id"]))[:limit]


def _published(q: Query, row: dict[str, Any], columns) -> dict[str, Any]:
    return {c: q.count(row[c]) if c in ("suggested", "confirmed", "rejected", "added") else row[c]
            for c in columns}


def needs(q: Query) -> Section:
    """The legal grounds and services most often confirmed, overall and per area."""
    counts = q.once("provisions", lambda: provision_counts(q))
    columns = ("entry_id", "citation", "title", "confirmed")
    top = _top(_per_entry(counts.values()), "confirmed", TOP_PROVISIONS)
    add_suggested(q, top, ids=_shown_entries(q, counts))
    tables = [Table("confirmed", columns, [_published(q, r, columns) for r in top],
                    chart="ranked", value="confirmed", label="title")]
    per_area = _sum(q, "cases", 1)
    not_offered = []
    for area in AREAS if q.filters.area is None else ():
        # An area with fewer than k cases in the selection is not broken down at all.
        if per_area.get(area, 0) < q.k:
            not_offered.append(area)
            continue
        top = _top([dict(r) for (a, _), r in counts.items() if a == area], "confirmed",
                   TOP_PER_AREA)
        add_suggested(q, top, area)
        tables.append(Table(f"confirmed_{AREA_SLUGS[area]}", columns,
                            [_published(q, r, columns) for r in top],
                            chart="ranked", value="confirmed", label="title"))
    return Section("needs", {"areas_not_offered": not_offered}, tables)


def engine(q: Query) -> Section:
    """The engine seen through the decisions: per provision how often it was suggested,
    confirmed, rejected and added by hand; precision of the top 1 and top 5."""
    # Here "confirmed" is the engine's own suggestions confirmed; "added" are the ones it missed.
    per_entry = [{**r, "confirmed": r["confirmed"] - r["added"]}
                 for r in _per_entry(q.once("provisions", lambda: provision_counts(q)).values())]
    columns = ("entry_id", "citation", "title", "suggested", "confirmed", "rejected", "added")
    provisions = _top(per_entry, "confirmed", TOP_PROVISIONS)
    added = _top(per_entry, "added", TOP_PER_AREA + 3)
    add_suggested(q, provisions + added,
                  ids=_shown_entries(q, q.once("provisions", lambda: provision_counts(q))))
    provisions = [_published(q, r, columns) for r in provisions]
    added = [_published(q, r, columns) for r in added]
    # Precision from the cases' own tallies (cases.tally_engine), in the grid.
    tallies = ("top1_shown", "top1_confirmed", "top5_shown", "top5_confirmed")
    by_period = {}
    by_version = {}
    for p, _, _, version in q.once("grid", lambda: grid(q)):
        by_period.setdefault(p, None)
        if version is not None:
            by_version.setdefault(version, None)
    per_period = [_sum(q, t, 0) for t in tallies]
    per_version = [_sum(q, t, 3) for t in tallies]
    by_period = {p: [c.get(p, 0) for c in per_period] for p in by_period}
    by_version = {v: [c.get(v, 0) for c in per_version] for v in by_version
                  if per_version[0].get(v, 0)}
    overall = [_sum(q, t) for t in tallies]
    over_time = [_precision(q, {"period": p.isoformat()}, by_period.get(p)) for p in q.periods()]
    versions = [_precision(q, {"engine_version": v}, by_version[v]) for v in sorted(by_version)]
    precision_columns = ("cases", "top1_precision", "top5_precision")
    return Section("engine", _precision(q, {}, overall), [
        Table("provisions", columns, provisions, chart="ranked", value="confirmed",
              behind="suggested", label="title"),
        Table("added_by_hand", columns, added, chart="ranked", value="added", label="title"),
        Table("precision_over_time", ("period", *precision_columns), over_time, chart="time",
              value="top1_precision", label="period", percent=True),
        Table("precision_by_version", ("engine_version", *precision_columns), versions),
    ])


def _precision(q: Query, key: dict, found) -> dict[str, Any]:
    """Top-1 and top-5 precision from (rank-1 shown, rank-1 confirmed, top-5 shown, confirmed)."""
    top1_n, top1_hit, top5_n, top5_hit = (int(v or 0) for v in (found or (0, 0, 0, 0)))
    return {**key, "cases": q.count(top1_n),
            "top1_precision": suppress.share(top1_hit, top1_n, q.k),
            "top5_precision": suppress.share(top5_hit, top5_n, q.k) if top1_n >= q.k else None}


def wishes(q: Query) -> Section:
    """The organisations' own wishes by kind and by organisation, and how they were answered."""
    stmt = select(Wish.kind, Wish.outcome, func.count()).where(
        Wish.created_at >= q.since, Wish.created_at < q.until)
    if q.filters.organisation_id is not None:
        stmt = stmt.where(Wish.organisation_id == q.filters.organisation_id)
    found: dict[str, dict[str | None, int]] = {}
    for kind, outcome, n in q.db.execute(stmt.group_by(Wish.kind, Wish.outcome)):
        found.setdefault(kind, {})[outcome] = n
    by_kind = []
    for kind in WISH_KINDS:
        counts = found.get(kind, {})
        row = {"kind": kind, "submitted": q.count(sum(counts.values())),
               "answered": q.count(sum(n for o, n in counts.items() if o is not None))}
        row.update({o: q.count(counts.get(o, 0)) for o in WISH_OUTCOMES})
        by_kind.append(row)
    answered = func.count(Wish.outcome)
    by_org = q.db.execute(
        stmt.with_only_columns(Organisation.name, func.count(), answered)
        .join(Organisation, Wish.organisation).group_by(Organisation.name)
        .order_by(func.count().desc(), Organisation.name)).all()
    submitted = sum(sum(c.values()) for c in found.values())
    n_answered = sum(n for c in found.values() for o, n in c.items() if o is not None)
    return Section("wishes", {"submitted": q.count(submitted), "answered": q.count(n_answered),
                              "open": q.count(submitted - n_answered)}, [
        Table("wishes_by_kind", ("kind", "submitted", "answered", *WISH_OUTCOMES), by_kind,
              chart="ranked", value="answered", behind="submitted", label="kind"),
        Table("wishes_by_organisation", ("organisation", "submitted", "answered", "open"),
              [{"organisation": name, "submitted": q.count(n), "answered": q.count(a),
                "open": q.count(n - a)} for name, n, a in by_org]),
    ])


#: The overview's sections in page order; add a metric by adding a function here.
SECTIONS: tuple[Callable[[Query], Section], ...] = (received, backlog, deadlines, answers,
                                                    questions, needs, wishes, engine)


def selection_size(q: Query) -> int:
    """The number of cases the filters select."""
    return _sum(q, "cases")


def has_demo_cases(db: Session) -> bool:
    """Say whether the store holds the generated demo cases."""
    return db.scalar(select(exists().where(Case.idempotency_key.like(f"{DEMO_KEY_PREFIX}%"))))


def build_report(db: Session, filters: Filters, k: int, now: datetime | None = None) -> Report:
    """Compute the overview for the filters, every count published through `suppress`.

    A selection of 1 to k-1 cases is not offered at all (its sections would single people out).
    """
    q = Query(db, filters, k, now or datetime.now(UTC))
    offered = not 0 < selection_size(q) < k
    sections = [section(q) for section in SECTIONS] if offered else []
    return Report(filters, k, offered, has_demo_cases(db), sections)


def filter_options(db: Session, k: int) -> dict[str, list]:
    """The organisations and areas the filter offers: those with at least k cases in all."""
    orgs = db.execute(select(Organisation.id, Organisation.name).join(Case, Case.organisation_id
                                                                      == Organisation.id)
                      .group_by(Organisation.id, Organisation.name)
                      .having(func.count(Case.id) >= k).order_by(Organisation.name)).all()
    areas = dict(db.execute(select(Case.area, func.count()).group_by(Case.area)).all())
    return {"organisations": [{"id": i, "name": n} for i, n in orgs],
            "areas": [a for a in AREAS if areas.get(a, 0) >= k]}
