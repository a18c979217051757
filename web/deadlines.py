"""Case-handling deadlines (Retssikkerhedsloven § 3, stk. 2): days per area, days left per case.

A municipality publishes how long it takes to decide each kind of case; the queue shows each
case's days left against that and puts the overdue ones first. The deadline is stored on the
case at receipt (`Case.due_at`) so the queue can sort and index by it; `days_left` is the one
place that turns it into what a caseworker reads, so a pause (a question waiting for the
volunteer's answer) can be added there.
"""
from __future__ import annotations

from datetime import UTC, datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo

from flask import current_app, has_app_context

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


def days_left(case, now: datetime | None = None, zone: tzinfo | None = None) -> int | None:
    """Calendar days from today to the deadline's day (0 on the day, -1 the day after); None
    once the case is closed or withdrawn. While the case waits for the volunteer's answer and
    DEADLINE_PAUSES_WHILE_WAITING is on, the deadline stands still.

    Counted in days as a calendar has them, in the site's time zone (BABEL_DEFAULT_TIMEZONE),
    as a published deadline is read: due today is due today, whatever the hour.
    """
    if case.status in ("closed", "withdrawn"):
        return None
    if zone is None:
        zone = ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"]) if has_app_context() else UTC
    now = now or utcnow()
    due = case.due_at
    # Finished waits are already in due_at (messages.post moves it on); the running one is added here.
    if (case.status == "waiting" and case.waiting_since is not None and has_app_context()
            and current_app.config["DEADLINE_PAUSES_WHILE_WAITING"]):
        due = due + max(now - case.waiting_since, timedelta(0))
    return (due.astimezone(zone).date() - now.astimezone(zone).date()).days
