"""Database engine, per-request sessions and Alembic migrations for the case store."""
from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import Flask, current_app, g
from sqlalchemy import Connection, Engine, create_engine, event, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
# Any constant works; it only has to be the same for every process of this app.
_PG_MIGRATION_LOCK = 0x62726F62


def init_app(app: Flask) -> None:
    """Create the app's engine and session factory and close sessions after each request."""
    engine = make_engine(app.config["DATABASE_URL"])
    app.extensions["db_engine"] = engine
    app.extensions["db_sessions"] = sessionmaker(engine, expire_on_commit=False)
    app.teardown_appcontext(close_session)


def make_engine(url: str) -> Engine:
    """Create an engine; SQLite gets its folder, foreign keys, WAL and a busy timeout."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True, hide_parameters=True)
    if parsed.database and parsed.database != ":memory:":
        create_private_file(Path(parsed.database))
    # hide_parameters: a failing statement's log line must not quote note text.
    engine = create_engine(url, hide_parameters=True)

    @event.listens_for(engine, "connect")
    def _sqlite_pragmas(dbapi_connection, _record):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        # WAL lets several waitress processes read while one writes.
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=5000")
        cursor.close()

    return engine


def lock_for_write(db_session: Session) -> None:
    """Take SQLite's write lock now, for a check whose answer the coming write relies on.

    SQLite ignores FOR UPDATE, and Python's sqlite3 opens a transaction only at the first
    INSERT/UPDATE/DELETE, so a count read before it can be stale by the time the write is
    stored. BEGIN IMMEDIATE takes the lock before the check; another writer waits (the busy
    timeout) until this transaction ends. A transaction sqlite3 already opened has written,
    so it holds the lock already. Other databases lock rows instead (with_for_update).
    """
    connection = db_session.connection()
    if connection.dialect.name != "sqlite":
        return
    if not connection.connection.driver_connection.in_transaction:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def create_private_file(path: Path) -> None:
    """Create the SQLite file (and its folder) readable by the owner only, if missing.

    SQLite gives the -wal and -shm files the mode of the database file, so they are
    private too. An existing file keeps the mode its operator gave it.
    """
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        pass


def session() -> Session:
    """Return this request's (or CLI command's) session, opening it on first use."""
    if "db_session" not in g:
        g.db_session = current_app.extensions["db_sessions"]()
    return g.db_session


def close_session(_exc: BaseException | None = None) -> None:
    """Close the session at the end of the app context, rolling back anything uncommitted."""
    db_session = g.pop("db_session", None)
    if db_session is not None:
        db_session.close()


def _alembic_config(connection) -> AlembicConfig:
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.attributes["connection"] = connection
    return cfg


def head_revision() -> str | None:
    """Return the newest migration revision shipped with the code."""
    return ScriptDirectory(str(MIGRATIONS_DIR)).get_current_head()


def current_revision(engine: Engine) -> str | None:
    """Return the revision the database is at, or None when it has never been migrated."""
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def is_empty(engine: Engine) -> bool:
    """Say whether the database has no tables at all."""
    with engine.connect() as connection:
        return not inspect(connection).get_table_names()


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Apply migrations up to `revision`, one process at a time on PostgreSQL."""
    with _migration_connection(engine) as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"),
                               {"key": _PG_MIGRATION_LOCK})
        command.upgrade(_alembic_config(connection), revision)


def downgrade(engine: Engine, revision: str = "base") -> None:
    """Undo migrations down to `revision` (used by tests and by hand)."""
    with _migration_connection(engine) as connection:
        command.downgrade(_alembic_config(connection), revision)


@contextmanager
def _migration_connection(engine: Engine) -> Iterator[Connection]:
    """A connection in one transaction for migrations; on SQLite with foreign keys off meanwhile.

    SQLite alters a table by copying it and dropping the old one, and with foreign keys on
    that drop deletes every dependent row (ON DELETE CASCADE): a case's suggestions and
    decisions would be lost. The keys are checked before the commit instead.
    """
    with engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            # Only outside a transaction does SQLite accept the change.
            connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
            connection.commit()
            if connection.exec_driver_sql("PRAGMA foreign_keys").scalar():
                raise RuntimeError("could not switch off SQLite foreign keys for the migration")
            connection.commit()
        try:
            with connection.begin():
                yield connection
                if sqlite and connection.exec_driver_sql("PRAGMA foreign_key_check").first():
                    raise RuntimeError("the migration left rows whose foreign keys point nowhere")
        finally:
            if sqlite:
                connection.exec_driver_sql("PRAGMA foreign_keys=ON")
                connection.commit()


def upgrade_if_empty(engine: Engine) -> str:
    """Migrate an empty database; return 'created', 'current' or 'outdated'."""
    if is_empty(engine):
        upgrade(engine)
        return "created"
    return "current" if current_revision(engine) == head_revision() else "outdated"
