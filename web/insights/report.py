"""The overview's frame: the filters, the report's tables and sections, and a query context
with the dialect's date arithmetic (PostgreSQL and SQLite)."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Date, Integer, cast, func, select
from sqlalchemy.orm import Session

from ..models import AREAS, Case
from . import suppress

#: The default period: the last 26 weeks.
DEFAULT_DAYS = 182
#: Longer periods are counted per month, shorter ones per week.
WEEKLY_UP_TO_DAYS = 190
#: Five years at most, so a chart stays readable and a query bounded.
MAX_DAYS = 5 * 366

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
        self._cache: dict[str, Any] = {}

    def once(self, name: str, compute):
        """Run `compute()` once per report: sections share their heaviest aggregate."""
        if name not in self._cache:
            self._cache[name] = compute()
        return self._cache[name]

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


    def durations_of(self, pairs) -> list[tuple[int, float | None, float | None]]:
        """(count, median, 90th percentile) of the seconds from `earlier` to `later` for each
        (later, earlier) pair, over the selected cases where `later` is set: one scan."""
        exprs = [self.seconds(later, earlier) for later, earlier in pairs]
        base = self.scope(select(Case.id))
        if self.postgres:
            # Ordered-set aggregates skip nulls: each measure counts its own cases.
            columns = []
            for e in exprs:
                columns += [func.count(e), func.percentile_cont(0.5).within_group(e),
                            func.percentile_cont(0.9).within_group(e)]
            row = self.db.execute(base.with_only_columns(*columns)).one()
            return [tuple(row[i:i + 3]) for i in range(0, len(row), 3)]
        values: list[list[float]] = [[] for _ in exprs]
        for row in self.db.execute(base.with_only_columns(*exprs)):
            for i, v in enumerate(row):
                if v is not None:
                    values[i].append(v)
        out = []
        for found in values:
            found.sort()
            out.append((len(found), _percentile(found, 0.5), _percentile(found, 0.9))
                       if found else (0, None, None))
        return out


def _percentile(values: list[float], q: float) -> float:
    """Linear interpolation between the closest ranks of sorted values, as percentile_cont."""
    position = q * (len(values) - 1)
    lower = int(position)
    upper = min(lower + 1, len(values) - 1)
    return values[lower] + (values[upper] - values[lower]) * (position - lower)
