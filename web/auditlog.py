"""The admin's view of the audit log: filters that combine, keyset pages, readable action
names and a CSV export of the filtered rows (web/audit.py writes the events)."""
from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import gettext
from sqlalchemy import Select, and_, or_, select
from sqlalchemy.orm import Session

from . import audit
from .accounts import normalise_username
from .models import (REFERENCE_LENGTH, REFERENCE_PREFIX_MIN, AuditEvent, User,
                     reference_characters, reference_prefix)

PAGE_SIZE = 100
#: The longest value a filter field takes (a reference is 19 characters, a username 80).
FIELD_MAX = 80
#: The CSV is read in batches of this many rows, so a large export never sits in memory.
EXPORT_BATCH = 1000



def N_(message: str) -> str:  # noqa: N802 - the name pybabel extracts by default
    """Mark a message for translation; gettext translates it when it is shown."""
    return message


#: What each stored action code means, in the admin's words (translated when shown). Codes
#: not listed (an older or newer version's) are shown as they are stored.
ACTION_NAMES = {
    "login": N_("Logget ind"),
    "login.failed": N_("Mislykket login"),
    "logout": N_("Logget ud"),
    "password.set": N_("Adgangskode valgt fra link"),
    "token.issue": N_("API-nøgle udstedt"),
    "token.revoke": N_("API-nøgle tilbagekaldt"),
    "user.create": N_("Bruger oprettet"),
    "user.role": N_("Rolle ændret"),
    "user.organisation": N_("Organisation ændret"),
    "user.reset": N_("Adgangskode nulstillet"),
    "user.activate": N_("Bruger genaktiveret"),
    "user.deactivate": N_("Bruger deaktiveret"),
    "note.submit": N_("Henvendelse sendt"),
    "note.replay": N_("Henvendelse sendt igen (samme sag)"),
    "note.list": N_("Frivilligs sagsliste vist"),
    "note.view": N_("Henvendelse læst af frivillig"),
    "note.receipt": N_("Kvittering vist"),
    "queue.view": N_("Sag vist i sagskøen"),
    "case.view": N_("Sag læst af sagsbehandler"),
    "case.assign": N_("Sag tildelt"),
    "case.confirm": N_("Forslag bekræftet"),
    "case.reject": N_("Forslag afvist"),
    "case.close": N_("Sag lukket"),
    "case.reopen": N_("Sag genåbnet"),
    "case.withdraw": N_("Sag trukket tilbage"),
    "case.export": N_("Indsigt hentet"),
    "case.delete": N_("Sag slettet efter anmodning"),
    "case.expire": N_("Sag slettet efter opbevaringsperioden"),
    "message.question": N_("Spørgsmål til den frivillige"),
    "message.answer": N_("Svar fra den frivillige"),
    "message.information": N_("Oplysning tilføjet af den frivillige"),
    "audit.export": N_("Revisionslog eksporteret"),
    "insights.view": N_("Overblik vist"),
    "insights.export": N_("Overblik eksporteret (CSV)"),
    "wishes.view": N_("Organisationers ønsker vist"),
    "wish.submit": N_("Ønske sendt af organisation"),
    "wish.answer": N_("Ønske besvaret af kommunen"),
}
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def action_name(code: str) -> str:
    """The readable name of an action code, or the code itself when it is unknown."""
    name = ACTION_NAMES.get(code)
    return gettext(name) if name is not None else code


class FilterError(ValueError):
    """A filter the log cannot apply; `code` names the explanation in the template."""

    def __init__(self, code: str):
        super().__init__(code)
        self.code = code


@dataclass
class Filters:
    """What the admin asked for; empty fields filter nothing. `case` is a whole reference or
    its beginning, in the stored form."""

    who: str = ""
    action: str = ""
    case: str = ""
    start: str = ""
    end: str = ""

    def as_args(self) -> dict[str, str]:
        """The filters as query-string arguments, empty ones left out."""
        return {k: v for k, v in (("who", self.who), ("action", self.action), ("case", self.case),
                                  ("from", self.start), ("to", self.end)) if v}

    def describe(self) -> str:
        """The filters in one line, for the export's own audit event."""
        return " ".join(f"{k}={v}" for k, v in self.as_args().items()) or "alle"


def _field(args, name: str) -> str:
    value = (args.get(name) or "").strip()
    if len(value) > FIELD_MAX:
        raise FilterError(f"{name}_too_long")
    return value


def _day(value: str, name: str) -> date | None:
    if not value:
        return None
    if not _DATE.match(value):
        raise FilterError(f"bad_{name}")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise FilterError(f"bad_{name}") from None


def _case(typed: str) -> str:
    """A reference or its first characters, as the queue search reads them ("7kq2 xm9" is
    7KQ2-XM9); too few characters would match the events of thousands of cases."""
    if not typed:
        return ""
    prefix = reference_prefix(typed)
    if prefix is None:
        raise FilterError("bad_case")
    if reference_characters(prefix) < REFERENCE_PREFIX_MIN:
        raise FilterError("case_too_short")
    return prefix


def parse(args) -> Filters:
    """Read the filters from request arguments; raise FilterError for ones that cannot apply."""
    filters = Filters(who=normalise_username(_field(args, "who")), action=_field(args, "action"),
                      case=_case(_field(args, "case")), start=_field(args, "from"),
                      end=_field(args, "to"))
    start, end = _day(filters.start, "from"), _day(filters.end, "to")
    if start is not None and end is not None and start > end:
        raise FilterError("period_reversed")
    return filters


def _local_midnight(day: date) -> datetime:
    # Days are the admin's days: midnight in the configured time zone, not in UTC.
    zone = ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])
    return datetime.combine(day, time(), tzinfo=zone)


def _where(db: Session, filters: Filters) -> list | None:
    """The WHERE clauses of `filters`, or None when they cannot match anything."""
    clauses = []
    if filters.who:
        user_id = db.scalar(select(User.id).where(User.username == filters.who))
        if user_id is None:
            return None
        clauses.append(AuditEvent.user_id == user_id)
    if filters.action:
        clauses.append(AuditEvent.action == filters.action)
    if len(filters.case) == REFERENCE_LENGTH:
        clauses.append(audit.of_case(filters.case))
    elif filters.case:
        clauses.append(audit.of_case_beginning(filters.case, db.get_bind().dialect.name))
    if filters.start:
        clauses.append(AuditEvent.created_at >= _local_midnight(date.fromisoformat(filters.start)))
    if filters.end:
        # The end day is included: everything before the following midnight.
        end = date.fromisoformat(filters.end) + timedelta(days=1)
        clauses.append(AuditEvent.created_at < _local_midnight(end))
    return clauses


@dataclass
class Page:
    """One page of events, newest first, with the keys of the pages around it."""

    events: list[AuditEvent]
    #: Pass as `before` for the next (older) page; None on the last page.
    older: int | None
    #: Pass as `after` for the previous (newer) page; None on the first page.
    newer: int | None


def _older_than(event: AuditEvent):
    # Rows come in (created_at, id) order; the redundant `<=` lets the time indexes bound the scan.
    at = AuditEvent.created_at
    return and_(at <= event.created_at,
                or_(at < event.created_at, and_(at == event.created_at, AuditEvent.id < event.id)))


def _newer_than(event: AuditEvent):
    at = AuditEvent.created_at
    return and_(at >= event.created_at,
                or_(at > event.created_at, and_(at == event.created_at, AuditEvent.id > event.id)))


NEWEST_FIRST = (AuditEvent.created_at.desc(), AuditEvent.id.desc())
OLDEST_FIRST = (AuditEvent.created_at.asc(), AuditEvent.id.asc())


def key_event(db: Session, event_id: int | None) -> AuditEvent | None:
    """The event a page key names; FilterError when there is none (a made-up key)."""
    if event_id is None:
        return None
    event = db.get(AuditEvent, event_id)
    if event is None:
        raise FilterError("bad_page")
    return event


def page(db: Session, filters: Filters, before: AuditEvent | None = None,
         after: AuditEvent | None = None, size: int | None = None) -> Page:
    """The events matching `filters`, `size` at a time, newest first.

    Keyset pages by (time, id): a page costs the same however deep it is, each filter has an
    index that starts with it and ends with the time (migration 0013_audit_idx), and events
    written meanwhile do not shift the pages the admin is reading.
    """
    size = size or PAGE_SIZE
    clauses = _where(db, filters)
    if clauses is None:
        return Page([], None, None)
    query: Select = select(AuditEvent).where(*clauses)
    if after is not None:
        # Walk towards the newer events, then show them newest first like every page.
        rows = list(db.scalars(query.where(_newer_than(after)).order_by(*OLDEST_FIRST)
                               .limit(size + 1)))
        events = rows[:size][::-1]
        more_newer, more_older = len(rows) > size, None
    else:
        if before is not None:
            query = query.where(_older_than(before))
        rows = list(db.scalars(query.order_by(*NEWEST_FIRST).limit(size + 1)))
        events = rows[:size]
        more_newer, more_older = (None if before is not None else False), len(rows) > size
    if not events:
        return Page([], None, None)

    def exists(where) -> bool:
        return db.scalar(select(AuditEvent.id).where(*clauses, where).limit(1)) is not None

    if more_newer is None:
        more_newer = exists(_newer_than(events[0]))
    if more_older is None:
        more_older = exists(_older_than(events[-1]))
    return Page(events, older=events[-1].id if more_older else None,
                newer=events[0].id if more_newer else None)


CSV_HEADER = ("id", "tidspunkt_utc", "bruger", "handling", "handling_navn", "genstand")


def _cell(value: str) -> str:
    # A cell starting like a formula would be run by a spreadsheet (CSV injection).
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def export_rows(db: Session, filters: Filters) -> Iterator[str]:
    """The filtered events as CSV lines (oldest first), read a batch at a time.

    Semicolon-separated with a byte-order mark, which is what a spreadsheet set up for
    Danish opens without an import dialogue.
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")

    def flush() -> str:
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text

    writer.writerow(CSV_HEADER)
    yield "\ufeff" + flush()
    clauses = _where(db, filters)
    if clauses is None:
        return
    last = None
    while True:
        query = select(AuditEvent).where(*clauses)
        if last is not None:
            query = query.where(_newer_than(last))
        batch = list(db.scalars(query.order_by(*OLDEST_FIRST).limit(EXPORT_BATCH)))
        if not batch:
            return
        for event in batch:
            writer.writerow((event.id, event.created_at.isoformat(timespec="seconds"),
                             _cell(event.user.username) if event.user else "",
                             event.action, action_name(event.action), _cell(event.target or "")))
        last = batch[-1]
        yield flush()
