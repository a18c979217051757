"""The audit log's case index serves a reference's beginning on PostgreSQL too.

The admin may filter the log by the first characters of a reference (LIKE '7KQ2-X%'). A plain
index on PostgreSQL follows the database's collation and cannot serve LIKE (unless the
collation is C); text_pattern_ops can, and still serves the equality of a whole reference, so
the index of 0013 is rebuilt with it rather than joined by a second one. SQLite keeps its
index: it reads a beginning as a range of the same expression (web/audit.py).

Revision ID: 0014_audit_case_prefix
Revises: 0013_audit_idx
Create Date: 2026-12-02 20:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0014_audit_case_prefix'
down_revision = '0013_audit_idx'
branch_labels = None
depends_on = None


def _rebuild(opclass: str) -> None:
    op.drop_index('ix_audit_events_case_time', table_name='audit_events')
    op.create_index('ix_audit_events_case_time', 'audit_events',
                    [sa.text(f'substr(target, 1, 19){opclass}'), 'created_at'])


def upgrade() -> None:
    """On PostgreSQL, rebuild the case index with text_pattern_ops."""
    if op.get_bind().dialect.name == "postgresql":
        _rebuild(" text_pattern_ops")


def downgrade() -> None:
    """On PostgreSQL, rebuild the case index as 0013 made it."""
    if op.get_bind().dialect.name == "postgresql":
        _rebuild("")
