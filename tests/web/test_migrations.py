"""Alembic migrations: an empty database upgrades to the models, and back down."""
from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from web import create_app
from web import db as web_db
from web.models import Base

from webhelpers import base_config

TABLES = {"organisations", "users", "cases", "suggestions", "decisions", "audit_events",
          "api_tokens", "login_sessions", "password_links", "messages", "case_reads", "notifications",
          "note_vectors", "learning_state",
          "alembic_version"}


def _engine(tmp_path, database_url, matcher):
    return create_app(base_config(tmp_path, database_url, matcher)).extensions["db_engine"]


def test_upgrade_on_an_empty_database(tmp_path, database_url, matcher):
    """An empty database gets every table and the head revision."""
    engine = _engine(tmp_path, database_url, matcher)
    assert web_db.is_empty(engine) and web_db.current_revision(engine) is None
    assert web_db.upgrade_if_empty(engine) == "created"
    assert set(inspect(engine).get_table_names()) == TABLES
    assert web_db.current_revision(engine) == web_db.head_revision()
    assert web_db.upgrade_if_empty(engine) == "current"
    engine.dispose()


# SQLite cannot reflect the PostgreSQL-only word-search index, so Alembic skips it there (and
# says so); PostgreSQL compares it like every other index.
@pytest.mark.filterwarnings("ignore:autogenerate skipping metadata-specified expression-based index")
def test_migrations_match_the_models(tmp_path, database_url, matcher):
    """Autogenerate finds nothing to change: models and migrations agree."""
    engine = _engine(tmp_path, database_url, matcher)
    web_db.upgrade(engine)
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []
    engine.dispose()


def test_downgrade_to_base_and_up_again(tmp_path, database_url, matcher):
    """Every migration can be undone."""
    engine = _engine(tmp_path, database_url, matcher)
    web_db.upgrade(engine)
    web_db.downgrade(engine, "base")
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    web_db.upgrade(engine)
    assert set(inspect(engine).get_table_names()) == TABLES
    engine.dispose()


def test_an_unversioned_database_counts_as_outdated(tmp_path, matcher):
    """Tables without Alembic's version mark are not silently used."""
    engine = _engine(tmp_path, f"sqlite:///{tmp_path / 'old.db'}", matcher)
    Base.metadata.tables["organisations"].create(engine)
    assert web_db.upgrade_if_empty(engine) == "outdated"
    engine.dispose()
