"""The overview's numbers: SQL aggregates over cases, suggestions, decisions and wishes.

`build_report` runs one aggregate query per table (no case row is loaded) and publishes every
count through `suppress`, so the raw numbers never leave this module. A section is a function
`(Query) -> Section`, listed in SECTIONS; a new metric is one more such function:

- "past deadline" (needs `Case.due_at`): a `deadlines(q)` section counting open cases with
  `due_at < now` and cases closed after their `due_at`, per period (`q.bucket(Case.created_at)`).
- "questions asked and answered" (needs the `messages` table): a `questions(q)` section
  counting questions and answers per period and the time to an answer (`q.durations(...)`).
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Date, Integer, and_, case, cast, exists, func, select
from sqlalchemy.orm import Session

from ..models import (AREAS, WISH_KINDS, WISH_OUTCOMES, Case, Decision, Organisation, Suggestion,
                      Wish)
from . import suppress

#: The default period: the last 26 weeks.
DEFAULT_DAYS = 182
#: Longer periods are counted per month, shorter ones per week.
WEEKLY_UP_TO_DAYS = 190
#: Five years at most, so a chart stays readable and a query bounded.
MAX_DAYS = 5 * 366
#: Open cases by age, in days: [lower, upper).
AGE_BANDS = ((0, 7), (7, 30), (30, 90), (90, None))
#: Marks the generated cases of `matcher demo` (their Idempotency-Key starts with it).
DEMO_KEY_PREFIX = "demo:"
TOP_PROVISIONS = 10
TOP_PER_AREA = 5
AREA_SLUGS = {"ældre": "aeldre", "flygtning": "flygtning", "andet": "andet"}


class InsightsError(ValueError):
    """A filter the overview refuses; `code` names the reason."""

    def __init__(self, code: str):
        super().__init__(code)
        self.code = code


@dataclass(frozen=True)
class Filters:
    """The chosen period (both days included), area and organisation."""

    start: date
    end: date
    area: str | None = None
    organisation_id: int | None = None

    @property
    def per(self) -> str:
        """The bars' period: "week" or "month"."""
        return "week" if (self.end - self.start).days <= WEEKLY_UP_TO_DAYS else "month"

    def query_args(self) -> dict[str, str]:
        """The filters as query parameters (for links to the CSV files)."""
        args = {"from": self.start.isoformat(), "to": self.end.isoformat()}
        if self.area:
            args["area"] = self.area
        if self.organisation_id is not None:
            args["organisation"] = str(self.organisation_id)
        return args


def parse_filters(args: Mapping[str, str], today: date) -> Filters:
    """Read ?from=&to=&area=&organisation= (all optional); raise InsightsError when malformed."""
    def day(name: str, default: date) -> date:
        raw = (args.get(name) or "").strip()
        if not raw:
            return default
        try:
            return date.fromisoformat(raw)
        except ValueError:
            raise InsightsError("bad_date") from None

    end = day("to", today)
    start = day("from", end - timedelta(days=DEFAULT_DAYS))
    if start > end:
        raise InsightsError("bad_period")
    if (end - start).days > MAX_DAYS:
        raise InsightsError("period_too_long")
    area = (args.get("area") or "").strip().lower() or None
    area = {"aeldre": "ældre"}.get(area, area)
    if area is not None and area not in AREAS:
        raise InsightsError("bad_area")
    raw = (args.get("organisation") or "").strip()
    if raw and not (raw.isascii() and raw.isdigit() and len(raw) <= 9):
        raise InsightsError("bad_organisation")
    return Filters(start, end, area, int(raw) if raw else None)


@dataclass
class Table:
    """One table of the report; `chart` says how the page draws it ("time", "ranked")."""

    id: str
    columns: tuple[str, ...]
    rows: list[dict[str, Any]]
    chart: str | None = None
    value: str | None = None
    label: str | None = None
    # A lighter bar behind `value` (e.g. suggested behind confirmed).
    behind: str | None = None
    percent: bool = False


@dataclass
class Section:
    """A block of the overview: headline figures and tables."""

    id: str
    figures: dict[str, Any] = field(default_factory=dict)
    tables: list[Table] = field(default_factory=list)


@dataclass
class Report:
    """The published overview: every count already suppressed."""

    filters: Filters
    threshold: int
    offered: bool
    demo: bool
    sections: list[Section]

    def table(self, table_id: str) -> Table | None:
        """Return the table with this id, if the report has it."""
        return next((t for s in self.sections for t in s.tables if t.id == table_id), None)

    def section(self, section_id: str) -> Section | None:
        """Return the section with this id, if the report has it."""
        return next((s for s in self.sections if s.id == section_id), None)

    def to_json(self) -> dict[str, Any]:
        """The report as the API publishes it."""
        f = self.filters
        return {
            "period": {"from": f.start.isoformat(), "to": f.end.isoformat(), "per": f.per},
            "filters": {"area": f.area, "organisation": f.organisation_id},
            "threshold": self.threshold, "offered": self.offered, "demo": self.demo,
            "sections": {s.id: {"figures": s.figures,
                                "tables": {t.id: t.rows for t in s.tables}}
                         for s in self.sections},
        }


class Query:
    """The filters bound to a database session, with the dialect's date arithmetic."""

    def __init__(self, db: Session, filters: Filters, k: int, now: datetime):
        self.db, self.filters, self.k, self.now = db, filters, k, now
        self.postgres = db.get_bind().dialect.name == "postgresql"
        self.since = datetime.combine(filters.start, time(), UTC)
        self.until = datetime.combine(filters.end + timedelta(days=1), time(), UTC)

    def count(self, n: int):
        """Publish a count."""
        return suppress.count(n, self.k)

    def scope(self, stmt, received: bool = True):
        """Restrict a statement over `cases` to the filters (`received`: the period too)."""
        f = self.filters
        if received:
            stmt = stmt.where(Case.created_at >= self.since, Case.created_at < self.until)
        if f.area:
            stmt = stmt.where(Case.area == f.area)
        if f.organisation_id is not None:
            stmt = stmt.where(Case.organisation_id == f.organisation_id)
        return stmt

    def bucket(self, column):
        """SQL for the first day of the week (Monday) or month that `column` falls in, UTC."""
        if self.postgres:
            return cast(func.date_trunc(self.filters.per, func.timezone("UTC", column)), Date)
        if self.filters.per == "month":
            return func.strftime("%Y-%m-01", column)
        weekday = (cast(func.strftime("%w", column), Integer) + 6) % 7
        return func.date(column, func.printf("-%d days", weekday))

    def periods(self) -> list[date]:
        """Every bucket of the period in order, so empty weeks are shown as 0."""
        first = self.filters.start
        if self.filters.per == "month":
            first = first.replace(day=1)
        else:
            first -= timedelta(days=first.weekday())
        out = []
        while first <= self.filters.end:
            out.append(first)
            if self.filters.per == "month":
                first = (first.replace(day=28) + timedelta(days=4)).replace(day=1)
            else:
                first += timedelta(days=7)
        return out

    def seconds(self, later, earlier):
        """SQL for the seconds between two timestamps."""
        if self.postgres:
            return func.extract("epoch", later - earlier)
        return (func.julianday(later) - func.julianday(earlier)) * 86400.0

    def durations(self, seconds, stmt) -> tuple[int, float | None, float | None]:
        """Return (count, median, 90th percentile) of `seconds` over the rows of `stmt`."""
        if self.postgres:
            n, median, p90 = self.db.execute(stmt.with_only_columns(
                func.count(), func.percentile_cont(0.5).within_group(seconds),
                func.percentile_cont(0.9).within_group(seconds))).one()
            return n, median, p90
        values = sorted(v for (v,) in self.db.execute(stmt.with_only_columns(seconds)))
        if not values:
            return 0, None, None
        return len(values), _percentile(values, 0.5), _percentile(values, 0.9)


def _percentile(values: list[float], q: float) -> float:
    """Linear interpolation between the closest ranks of sorted values, as percentile_cont."""
    position = q * (len(values) - 1)
    lower = int(position)
    upper = min(lower + 1, len(values) - 1)
    return values[lower] + (values[upper] - values[lower]) * (position - lower)


def _day(value) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def latest_decisions():
    """A subquery: each suggestion's latest decision (later decisions replace earlier ones)."""
    last = select(func.max(Decision.id)).group_by(Decision.suggestion_id)
    return (select(Decision.suggestion_id, Decision.decision)
            .where(Decision.id.in_(last)).subquery("latest"))


def _total(condition):
    """SQL counting the rows where `condition` holds."""
    return func.sum(case((condition, 1), else_=0))


def _citation(law, section) -> str | None:
    return f"{law} {section}".strip() if law else None


# --- sections -------------------------------------------------------------------------------

def received(q: Query) -> Section:
    """Cases received per week or month, per area and per organisation."""
    bucket = q.bucket(Case.created_at)
    counted = dict(q.db.execute(q.scope(select(bucket, func.count()).group_by(bucket))).all())
    counted = {_day(k): v for k, v in counted.items()}
    series = [{"period": p.isoformat(), "cases": q.count(counted.get(p, 0))} for p in q.periods()]
    by_area = dict(q.db.execute(q.scope(select(Case.area, func.count()).group_by(Case.area))).all())
    by_org = q.db.execute(q.scope(
        select(Organisation.name, func.count()).join(Organisation, Case.organisation)
        .group_by(Organisation.name).order_by(func.count().desc(), Organisation.name))).all()
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
    """How many cases were closed and answered with a message; times to the first decision
    and to closing (median and 90th percentile, in hours)."""
    closed, with_message = q.db.execute(q.scope(select(
        func.count(Case.closed_at), func.count(Case.message)))).one()
    first = (select(Decision.case_id, func.min(Decision.created_at).label("at"))
             .group_by(Decision.case_id).subquery("first_decision"))
    to_first = q.durations(q.seconds(first.c.at, Case.created_at),
                           q.scope(select(Case.id).join(first, first.c.case_id == Case.id)))
    to_close = q.durations(q.seconds(Case.closed_at, Case.created_at),
                           q.scope(select(Case.id).where(Case.closed_at.is_not(None))))
    rows = [_times(q, "first_decision", to_first), _times(q, "closing", to_close)]
    figures = {"closed": q.count(closed), "answered_with_message": q.count(with_message),
               "share_with_message": suppress.share(with_message, closed, q.k),
               "median_hours_to_first_decision": rows[0]["median_hours"],
               "median_hours_to_closing": rows[1]["median_hours"]}
    return Section("answers", figures, [
        Table("answer_times", ("measure", "cases", "median_hours", "p90_hours"), rows)])


def _times(q: Query, measure: str, found: tuple) -> dict[str, Any]:
    n, median, p90 = found
    return {"measure": measure, "cases": q.count(n),
            "median_hours": suppress.measure(_hours(median), n, q.k),
            "p90_hours": suppress.measure(_hours(p90), n, q.k)}


def _hours(seconds) -> float | None:
    return None if seconds is None else float(seconds) / 3600


def backlog(q: Query) -> Section:
    """Cases open now (received up to the period's end), by status and by age."""
    stmt = q.scope(select(Case.status, func.count()).where(Case.closed_at.is_(None),
                                                         Case.created_at < q.until),
                   received=False)
    by_status = dict(q.db.execute(stmt.group_by(Case.status)).all())
    bands = []
    for lower, upper in AGE_BANDS:
        band = stmt.where(Case.created_at <= q.now - timedelta(days=lower))
        if upper is not None:
            band = band.where(Case.created_at > q.now - timedelta(days=upper))
        n = q.db.scalar(band.with_only_columns(func.count()))
        label = f"{lower}-{upper}" if upper is not None else f"{lower}+"
        bands.append({"age_days": label, "cases": q.count(n)})
    figures = {"open": q.count(sum(by_status.values()))}
    figures.update({status: q.count(n) for status, n in sorted(by_status.items())})
    return Section("backlog", figures, [
        Table("backlog_by_age", ("age_days", "cases"), bands, chart="ranked", value="cases",
              label="age_days")])


def needs(q: Query) -> Section:
    """The legal grounds and services most often confirmed, overall and per area."""
    latest = latest_decisions()
    confirmed = (select(Suggestion.entry_id, func.max(Suggestion.law), func.max(Suggestion.section),
                        func.max(Suggestion.title), func.count())
                 .join(Case, Suggestion.case_id == Case.id)
                 .join(latest, latest.c.suggestion_id == Suggestion.id)
                 .where(latest.c.decision == "confirm")
                 .group_by(Suggestion.entry_id).order_by(func.count().desc(), Suggestion.entry_id))
    rows = q.db.execute(q.scope(confirmed).limit(TOP_PROVISIONS)).all()
    tables = [Table("confirmed", ("entry_id", "citation", "title", "confirmed"),
                    [_provision(q, r) for r in rows], chart="ranked", value="confirmed",
                    label="title")]
    per_area = dict(q.db.execute(q.scope(select(Case.area, func.count()).group_by(Case.area))).all())
    not_offered = []
    for area in AREAS if q.filters.area is None else ():
        # An area with fewer than k cases in the selection is not broken down at all.
        if per_area.get(area, 0) < q.k:
            not_offered.append(area)
            continue
        found = q.db.execute(q.scope(confirmed).where(Case.area == area).limit(TOP_PER_AREA)).all()
        tables.append(Table(f"confirmed_{AREA_SLUGS[area]}",
                            ("entry_id", "citation", "title", "confirmed"),
                            [_provision(q, r) for r in found], chart="ranked", value="confirmed",
                            label="title"))
    return Section("needs", {"areas_not_offered": not_offered}, tables)


def _provision(q: Query, row) -> dict[str, Any]:
    entry_id, law, section, title, n = row
    return {"entry_id": entry_id, "citation": _citation(law, section), "title": title,
            "confirmed": q.count(n)}


def engine(q: Query) -> Section:
    """The engine seen through the decisions: per provision how often it was suggested,
    confirmed, rejected and added by hand; precision of the top 1 and top 5."""
    latest = latest_decisions()
    is_engine = Suggestion.origin == "engine"
    confirm, reject = latest.c.decision == "confirm", latest.c.decision == "reject"
    stats = (select(Suggestion.entry_id, func.max(Suggestion.law), func.max(Suggestion.section),
                    func.max(Suggestion.title), _total(is_engine), _total(and_(is_engine, confirm)),
                    _total(and_(is_engine, reject)), _total(and_(~is_engine, confirm)))
             .join(Case, Suggestion.case_id == Case.id)
             .outerjoin(latest, latest.c.suggestion_id == Suggestion.id)
             .group_by(Suggestion.entry_id))
    ranked = stats.order_by(_total(confirm).desc(), _total(is_engine).desc(), Suggestion.entry_id)
    provisions = [_engine_row(q, r) for r in q.db.execute(q.scope(ranked).limit(TOP_PROVISIONS))]
    missed = stats.having(_total(and_(~is_engine, confirm)) > 0).order_by(
        _total(and_(~is_engine, confirm)).desc(), Suggestion.entry_id)
    added = [_engine_row(q, r) for r in q.db.execute(q.scope(missed).limit(TOP_PER_AREA + 3))]
    columns = ("entry_id", "citation", "title", "suggested", "confirmed", "rejected", "added")
    bucket = q.bucket(Case.created_at)
    by_period = {_day(r[0]): r[1:] for r in q.db.execute(_precision_select(q, latest, bucket))}
    over_time = [_precision(q, {"period": p.isoformat()}, by_period.get(p)) for p in q.periods()]
    by_version = [_precision(q, {"engine_version": r[0]}, r[1:]) for r in q.db.execute(
        _precision_select(q, latest, Suggestion.engine_version)
        .order_by(Suggestion.engine_version))]
    overall = _precision(q, {}, q.db.execute(_precision_select(q, latest)).one())
    precision_columns = ("cases", "top1_precision", "top5_precision")
    return Section("engine", overall, [
        Table("provisions", columns, provisions, chart="ranked", value="confirmed",
              behind="suggested", label="title"),
        Table("added_by_hand", columns, added, chart="ranked", value="added", label="title"),
        Table("precision_over_time", ("period", *precision_columns), over_time, chart="time",
              value="top1_precision", label="period", percent=True),
        Table("precision_by_version", ("engine_version", *precision_columns), by_version),
    ])


def _precision_select(q: Query, latest, *keys):
    """Top-1 and top-5 counts (shown, confirmed) over the reviewed cases (those with a
    decision), grouped by `keys`: rank-1 shown, rank-1 confirmed, top-5 shown, top-5 confirmed."""
    confirm = latest.c.decision == "confirm"
    stmt = (select(*keys, _total(Suggestion.rank == 1), _total(and_(Suggestion.rank == 1, confirm)),
                   func.count(), _total(confirm))
            .join(Case, Suggestion.case_id == Case.id)
            .outerjoin(latest, latest.c.suggestion_id == Suggestion.id)
            .where(Suggestion.origin == "engine", Suggestion.rank <= 5,
                   exists().where(Decision.case_id == Case.id)))
    return q.scope(stmt.group_by(*keys) if keys else stmt)


def _engine_row(q: Query, row) -> dict[str, Any]:
    entry_id, law, section, title, suggested, confirmed, rejected, added = row
    return {"entry_id": entry_id, "citation": _citation(law, section), "title": title,
            "suggested": q.count(suggested), "confirmed": q.count(confirmed),
            "rejected": q.count(rejected), "added": q.count(added)}


def _precision(q: Query, key: dict, found) -> dict[str, Any]:
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
SECTIONS: tuple[Callable[[Query], Section], ...] = (received, backlog, answers, needs, wishes,
                                                    engine)


def selection_size(q: Query) -> int:
    """The number of cases the filters select."""
    return q.db.scalar(q.scope(select(func.count()).select_from(Case)))


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
