"""The case store: SQLAlchemy 2.0 typed mappings."""
from __future__ import annotations

import re
import secrets
from datetime import UTC, datetime

from flask_login import UserMixin
from sqlalchemy import (JSON, Boolean, CheckConstraint, DateTime, Float, ForeignKey, Index, Integer,
                        LargeBinary, MetaData, String, Text, TypeDecorator, UniqueConstraint,
                        false, func, literal_column)
from sqlalchemy import text as sql
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

ROLES = ("volunteer", "coordinator", "caseworker", "leader", "admin")
AREAS = ("ældre", "flygtning", "andet")
STATUSES = ("pending", "in_review", "waiting", "closed", "withdrawn")
#: Who wrote a message on a case, and what it is: a caseworker asks; the volunteer answers a
#: question or adds information on their own.
MESSAGE_KINDS = ("question", "answer", "information")
#: What a volunteer is told about by e-mail and by the unread marker.
NEWS_EVENTS = ("question", "closed", "reopened")
DECISIONS = ("confirm", "reject")
#: What an organisation asks the municipality for, outside any citizen's case.
WISH_KINDS = ("lokaler", "økonomi", "viden", "samarbejde", "andet")
#: How the municipality's volunteer coordinator answered a wish.
WISH_OUTCOMES = ("granted", "partly", "declined", "dialogue")
#: Why a case was closed without a message to the volunteer; "referred" carries the place in words.
CLOSE_REASONS = ("not_municipal", "citizen_declines", "referred")
IDEMPOTENCY_KEY_MAX = 255
CLOSED_AT_AGREES = ("(status = 'closed' AND closed_at IS NOT NULL) "
                    "OR (status <> 'closed' AND closed_at IS NULL)")
#: A case reference's length, e.g. 7KQ2-XM9D-A4TR-0JHW (new_public_id).
REFERENCE_LENGTH = 19
# Crockford's base32 without I, L, O, U: easy to read aloud and to type on a phone.
_REF_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_REF_CHARACTERS = re.compile(f"[{_REF_ALPHABET}]{{1,16}}")
#: The fewest characters of a reference that find it by its beginning (queue search, audit log).
REFERENCE_PREFIX_MIN = 4


def utcnow() -> datetime:
    """Return the current time, aware, in UTC."""
    return datetime.now(UTC)


def new_public_id() -> str:
    """Return a non-guessable case reference (80 random bits), e.g. 7KQ2-XM9D-A4TR-0JHW."""
    chars = "".join(secrets.choice(_REF_ALPHABET) for _ in range(16))
    return "-".join(chars[i:i + 4] for i in range(0, 16, 4))


def reference_prefix(typed: str) -> str | None:
    """A reference, or its beginning, as people type it, in the stored form: upper case, the
    dashes ignored and put back every 4 characters ("7kq2 xm9" -> "7KQ2-XM9"). None when it
    cannot be one: empty, longer than 16 characters, or one outside the alphabet."""
    compact = typed.upper().replace("-", "").replace(" ", "")
    if not _REF_CHARACTERS.fullmatch(compact):
        return None
    return "-".join(compact[i:i + 4] for i in range(0, len(compact), 4))


def reference_characters(prefix: str) -> int:
    """How many characters of a reference `prefix` (from reference_prefix) gives, dashes aside."""
    return len(prefix.replace("-", ""))


class UTCDateTime(TypeDecorator):
    """A timestamp stored in UTC and always read back timezone-aware (SQLite drops the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        """Convert to UTC before storing."""
        return value.astimezone(UTC) if value is not None else None

    def process_result_value(self, value, dialect):
        """Attach UTC to naive values read back from SQLite."""
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value


def _one_of(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class Base(DeclarativeBase):
    """Declarative base with constraint names stable across databases (for Alembic)."""

    metadata = MetaData(naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    })
    type_annotation_map = {datetime: UTCDateTime}


class Organisation(Base):
    """A volunteer organisation (Røde Kors, Ældre Sagen, ...)."""

    __tablename__ = "organisations"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class User(UserMixin, Base):
    """A person who logs in: volunteer (in one organisation), caseworker or admin."""

    __tablename__ = "users"
    __table_args__ = (CheckConstraint(_one_of("role", ROLES), name="role"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16))
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # A caseworker who is the municipality's volunteer coordinator answers organisations' wishes.
    answers_wishes: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: Where a volunteer is told that a case has news (never what the news is); optional.
    email: Mapped[str | None] = mapped_column(String(254))
    last_login_at: Mapped[datetime | None]
    organisation: Mapped[Organisation | None] = relationship(lazy="joined")

    @property
    def is_active(self) -> bool:
        """Deactivated users cannot log in (Flask-Login reads this)."""
        return self.active


class Case(Base):
    """A volunteer's note about a citizen, stored redacted, and its review."""

    __tablename__ = "cases"
    __table_args__ = (CheckConstraint(_one_of("status", STATUSES), name="status"),
                      CheckConstraint(_one_of("area", AREAS), name="area"),
                      # A closed case has its closing time, and only a closed case has one.
                      CheckConstraint(CLOSED_AT_AGREES, name="closed_at"),
                      # A retried submission finds its first case (POST /api/v1/notes).
                      UniqueConstraint("created_by_id", "idempotency_key"),
                      CheckConstraint(f"close_reason IS NULL OR {_one_of('close_reason', CLOSE_REASONS)}",
                                      name="close_reason"),
                      # The queue's two orders, each read from an index at any depth (keyset pages).
                      Index("ix_cases_due_at_id", "due_at", "id"),
                      Index("ix_cases_created_at_id", "created_at", "id"),
                      Index("ix_cases_status_due_at_id", "status", "due_at", "id"),
                      # A reference's beginning (LIKE 'ABCD-EF%'): PostgreSQL's collation keeps the
                      # unique index from serving LIKE, text_pattern_ops does (elsewhere a plain index).
                      Index("ix_cases_public_id_prefix", "public_id",
                            postgresql_ops={"public_id": "text_pattern_ops"}),
                      # Word search in the redacted text on PostgreSQL (SQLite scans with LIKE).
                      Index("ix_cases_text_search", sql("to_tsvector('danish', text)"),
                            postgresql_using="gin").ddl_if(dialect="postgresql"))
    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(24), unique=True, default=new_public_id)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    text: Mapped[str] = mapped_column(Text)
    area: Mapped[str] = mapped_column(String(16))
    organisation_wishes: Mapped[str | None] = mapped_column(Text)
    consent: Mapped[bool] = mapped_column(Boolean)
    consent_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    #: The case-handling deadline, set at receipt from the area's days (web/deadlines.py).
    due_at: Mapped[datetime]
    assigned_to_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True)
    closed_at: Mapped[datetime | None]
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    #: When a caseworker first decided on a suggestion, and when the municipality first answered
    #: (a decision, a question or the closing): set by cases.decide/close and messages.post for
    #: the overview, which reads them instead of scanning the decisions and messages.
    first_decision_at: Mapped[datetime | None]
    first_answer_at: Mapped[datetime | None]
    #: The engine's record on this case, for the overview's precision without a scan of the
    #: suggestions: the version that matched it and how many of its top 5 it showed (set at
    #: submission), and whether its top suggestion and how many of its top 5 are confirmed now
    #: (kept by cases.decide).
    engine_version: Mapped[str | None] = mapped_column(String(120))
    top5_shown: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    top1_confirmed: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    top5_confirmed: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    message: Mapped[str | None] = mapped_column(Text)
    close_reason: Mapped[str | None] = mapped_column(String(24))
    #: The words after "henvist til", redacted like the note.
    close_reason_text: Mapped[str | None] = mapped_column(Text)
    #: The engine's verdict on its suggestions (matcher.confidence), stored with them; None when
    #: the engine had no confidence model or the case predates it.
    confidence: Mapped[float | None] = mapped_column(Float)
    #: True when the engine judged that nothing in its corpus fits the note ("Ingen sikre forslag").
    no_good_match: Mapped[bool | None] = mapped_column(Boolean)
    reopened_at: Mapped[datetime | None]
    reopened_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    reopen_reason: Mapped[str | None] = mapped_column(Text)
    idempotency_key: Mapped[str | None] = mapped_column(String(IDEMPOTENCY_KEY_MAX))
    #: Set while the case waits for the volunteer's answer; the finished waits are summed in
    #: waited_seconds (web/messages.py: waiting_seconds).
    waiting_since: Mapped[datetime | None]
    waited_seconds: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    withdrawn_at: Mapped[datetime | None]
    withdrawal_reason: Mapped[str | None] = mapped_column(Text)
    #: The last time the volunteer had news on the case (a question, the closing); unread
    #: until the reader's CaseRead is later.
    news_at: Mapped[datetime | None]

    organisation: Mapped[Organisation] = relationship(lazy="joined")
    assigned_to: Mapped[User | None] = relationship(lazy="joined", foreign_keys=[assigned_to_id])
    suggestions: Mapped[list[Suggestion]] = relationship(
        back_populates="case", order_by="Suggestion.id", cascade="all, delete-orphan")
    decisions: Mapped[list[Decision]] = relationship(
        back_populates="case", order_by="Decision.id", cascade="all, delete-orphan")
    messages: Mapped[list[Message]] = relationship(
        back_populates="case", order_by="Message.id", cascade="all, delete-orphan")


class Suggestion(Base):
    """A corpus entry proposed for a case, by the engine or added by a caseworker."""

    __tablename__ = "suggestions"
    __table_args__ = (UniqueConstraint("case_id", "entry_id"),
                      CheckConstraint(_one_of("origin", ("engine", "caseworker")), name="origin"),
                      CheckConstraint(_one_of("decision", DECISIONS), name="decision"),
                      # The overview reads the decided suggestions only, and "suggested" for a
                      # few provisions (web/insights/metrics.py).
                      Index("ix_suggestions_decided", "case_id", sqlite_where=sql("decision IS NOT NULL"),
                            postgresql_where=sql("decision IS NOT NULL"),
                            postgresql_include=["entry_id", "origin", "decision"]),
                      Index("ix_suggestions_entry_id", "entry_id", "case_id"))
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    entry_id: Mapped[str] = mapped_column(String(80))
    kind: Mapped[str] = mapped_column(String(16))
    law: Mapped[str | None] = mapped_column(String(8))
    section: Mapped[str | None] = mapped_column(String(40))
    title: Mapped[str] = mapped_column(String(300))
    rank: Mapped[int | None] = mapped_column(Integer)
    score: Mapped[float | None] = mapped_column(Float)
    evidence: Mapped[list] = mapped_column(JSON, default=list)
    legal_basis: Mapped[list] = mapped_column(JSON, default=list)
    source_url: Mapped[str | None] = mapped_column(String(500))
    engine_version: Mapped[str] = mapped_column(String(120))
    origin: Mapped[str] = mapped_column(String(16), default="engine")
    #: The latest Decision's verdict, kept here by cases.decide so the overview needs no join.
    decision: Mapped[str | None] = mapped_column(String(8))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    case: Mapped[Case] = relationship(back_populates="suggestions")


class Decision(Base):
    """A caseworker's confirm or reject of one suggestion; the latest one counts."""

    __tablename__ = "decisions"
    __table_args__ = (CheckConstraint(_one_of("decision", DECISIONS), name="decision"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    suggestion_id: Mapped[int] = mapped_column(ForeignKey("suggestions.id", ondelete="CASCADE"),
                                               index=True)
    decision: Mapped[str] = mapped_column(String(8))
    reason: Mapped[str | None] = mapped_column(Text)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    case: Mapped[Case] = relationship(back_populates="decisions")
    suggestion: Mapped[Suggestion] = relationship(lazy="joined")
    user: Mapped[User] = relationship(lazy="joined")


class Message(Base):
    """One message of a case's thread between caseworker and volunteer, stored redacted."""

    __tablename__ = "messages"
    __table_args__ = (CheckConstraint(_one_of("kind", MESSAGE_KINDS), name="kind"),
                      CheckConstraint(_one_of("from_role", ("caseworker", "volunteer")),
                                      name="from_role"))
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    from_role: Mapped[str] = mapped_column(String(16))
    kind: Mapped[str] = mapped_column(String(16))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    case: Mapped[Case] = relationship(back_populates="messages")
    user: Mapped[User | None] = relationship(lazy="joined")


class CaseRead(Base):
    """When a user last opened a case: its news since then is unread for that user."""

    __tablename__ = "case_reads"
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"),
                                         primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"),
                                         primary_key=True, index=True)
    seen_at: Mapped[datetime] = mapped_column(default=utcnow)


class Notification(Base):
    """An e-mail to a volunteer that a case has news, kept until it is sent (the outbox).

    Written in the same transaction as the news itself, so an SMTP outage never loses the
    decision or the notice; web/notify.py sends it after the commit and retries.
    """

    __tablename__ = "notifications"
    __table_args__ = (CheckConstraint(_one_of("event", NEWS_EVENTS), name="event"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    event: Mapped[str] = mapped_column(String(16))
    #: Rendered when the news happens, in the recipient's page language: a reference and a
    #: link, never the note, the question or the message.
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    claimed_at: Mapped[datetime | None]
    sent_at: Mapped[datetime | None] = mapped_column(index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    last_error: Mapped[str | None] = mapped_column(String(200))
    user: Mapped[User] = relationship(lazy="joined")


class NoteVector(Base):
    """A case's note as the engine embedded it for learning: its redacted text, never the raw one.

    float32 values (little-endian) of the encoder named beside them; a process with another encoder
    loaded ignores them and embeds the note again. Deleted with the case.
    """

    __tablename__ = "note_vectors"
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True)
    encoder: Mapped[str] = mapped_column(String(200))
    vector: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class LearningState(Base):
    """One row whose version rises with every decision and erasure: workers relearn when it moved."""

    __tablename__ = "learning_state"
    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[int] = mapped_column(Integer, default=0)


class Wish(Base):
    """An organisation's own wish to the municipality (rooms, money, knowledge, cooperation),
    tied to no citizen, and the volunteer coordinator's answer."""

    __tablename__ = "wishes"
    __table_args__ = (CheckConstraint(_one_of("kind", WISH_KINDS), name="kind"),
                      CheckConstraint(_one_of("outcome", WISH_OUTCOMES), name="outcome"),
                      # An answer has its outcome, time and author, and only an answer has them.
                      CheckConstraint("(outcome IS NULL AND answered_at IS NULL AND answered_by_id IS NULL)"
                                      " OR (outcome IS NOT NULL AND answered_at IS NOT NULL"
                                      " AND answered_by_id IS NOT NULL)", name="answered"))
    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    kind: Mapped[str] = mapped_column(String(16))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    outcome: Mapped[str | None] = mapped_column(String(16))
    answer: Mapped[str | None] = mapped_column(Text)
    answered_at: Mapped[datetime | None]
    answered_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    organisation: Mapped[Organisation] = relationship(lazy="joined")


class AuditEvent(Base):
    """Who viewed or changed what, and when; never any note text."""

    __tablename__ = "audit_events"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    action: Mapped[str] = mapped_column(String(40))
    target: Mapped[str | None] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    user: Mapped[User | None] = relationship(lazy="joined")


def case_prefix(target):
    """The part of an audit target that is a case reference when there is one: targets are the
    reference alone or "REF entry_id" (decisions). Indexed, so a case's events are found fast."""
    # Literal numbers, not bound parameters: SQLite uses an expression index only for a query
    # with the very same expression.
    return func.substr(target, literal_column("1"), literal_column(str(REFERENCE_LENGTH)))


# The admin's audit filters (web/auditlog.py), each with the time after it: a page of one
# user's, one action's or one case's events, newest first, reads just that page.
Index("ix_audit_events_user_time", AuditEvent.user_id, AuditEvent.created_at)
Index("ix_audit_events_action_time", AuditEvent.action, AuditEvent.created_at)
# The case index serves a reference's beginning too (LIKE '7KQ2-X%', migration 0014): on
# PostgreSQL only with text_pattern_ops, which also serves the equality of a whole reference.
Index("ix_audit_events_case_time", case_prefix(AuditEvent.target).label("case_reference"),
      AuditEvent.created_at, postgresql_ops={"case_reference": "text_pattern_ops"})


class ApiToken(Base):
    """A bearer token for the JSON API, stored as its SHA-256 digest, with an expiry."""

    __tablename__ = "api_tokens"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    user: Mapped[User] = relationship(lazy="joined")


class LoginSession(Base):
    """A browser login, held on the server so that logging out or deactivation ends it."""

    __tablename__ = "login_sessions"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    # The cookie carries the random id; only its SHA-256 digest is stored.
    session_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    user: Mapped[User] = relationship(lazy="joined")


class PasswordLink(Base):
    """A one-time link with which a user sets a password (new account or reset by an admin)."""

    __tablename__ = "password_links"
    __table_args__ = (CheckConstraint(_one_of("purpose", ("create", "reset")), name="purpose"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    purpose: Mapped[str] = mapped_column(String(8))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    user: Mapped[User] = relationship(lazy="joined", foreign_keys=[user_id])
