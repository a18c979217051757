"""Case-handling deadlines (Retssikkerhedsloven § 3, stk. 2): days per area, days left per case.

A municipality publishes how long it takes to decide each kind of case; the queue shows each
case's days left against that and puts the overdue ones first. The deadline is stored on the
case at receipt (`Case.due_at`) so the queue can sort and index by it; `days_left` is the one
place that turns it into what a caseworker reads, so a pause (a question waiting for the
volunteer's answer) can be added there.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from math import ceil

from .models import AREAS, utcnow

#: Days from receipt per area when CASE_DEADLINE_DAYS does not say otherwise (docs/OPERATIONS.md).
DEFAULT_DAYS = {"ældre": 28, "flygtning": 28, "andet": 28}


def parse_days(value: str) -> dict[str, int]:
    """Read CASE_DEADLINE_DAYS ("ældre=28,flygtning=42"); areas not named keep their default.

    Raises:
        ValueError: an unknown area, a missing '=', or days that are not a whole number 1-3650.
    """
    days = dict(DEFAULT_DAYS)
    for part in filter(None, (p.strip() for p in value.split(","))):
        area, sep, number = part.partition("=")
        area = area.strip().lower().replace("aeldre", "ældre")
        if not sep or area not in AREAS:
            raise ValueError(f"CASE_DEADLINE_DAYS: {part!r} is not AREA=DAYS with AREA one of {', '.join(AREAS)}")
        number = number.strip()
        if not (number.isascii() and number.isdigit() and 1 <= int(number) <= 3650):
            raise ValueError(f"CASE_DEADLINE_DAYS: days for {area} must be a whole number from 1 to 3650")
        days[area] = int(number)
    return days


def due_at(received: datetime, area: str, days: dict[str, int]) -> datetime:
    """Return the deadline of a case received at `received` in `area`."""
    return received + timedelta(days=days.get(area, DEFAULT_DAYS["andet"]))


def days_left(case, now: datetime | None = None) -> int | None:
    """Whole days until the case's deadline (0 on the day, negative once overdue); None once closed.

    Part of a day counts as a day left: a case due in 3 hours has 1 day left, one 3 hours past
    its deadline has -1.
    """
    if case.status == "closed":
        return None
    seconds = (case.due_at - (now or utcnow())).total_seconds()
    return ceil(seconds / 86400) if seconds >= 0 else -ceil(-seconds / 86400)
