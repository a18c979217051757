"""The caseworker's queue: assignment, deadlines, closing reasons, reopening, last login.

Existing cases get their deadline from their receipt and the documented default days of their
area (web/deadlines.py DEFAULT_DAYS). A site that sets other days (CASE_DEADLINE_DAYS) has them
applied to the cases received from then on, as a published deadline applies to the
applications received after it was published.

Revision ID: 0010_queue
Revises: 0009_vectors
Create Date: 2026-12-02 10:30:00
"""
from datetime import timedelta

from alembic import op
import sqlalchemy as sa


revision = '0010_queue'
down_revision = '0009_vectors'
branch_labels = None
depends_on = None

#: As web/deadlines.py DEFAULT_DAYS when this revision was written (a migration does not import the app).
DEFAULT_DAYS = {"ældre": 28, "flygtning": 28, "andet": 28}
CLOSE_REASONS = "close_reason IS NULL OR close_reason IN ('not_municipal', 'citizen_declines', 'referred')"


def upgrade() -> None:
    """Add the columns, fill every case's deadline, then make it required and indexed."""
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('last_login_at', sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('due_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('assigned_to_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('close_reason', sa.String(length=24), nullable=True))
        batch_op.add_column(sa.Column('close_reason_text', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('reopened_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('reopened_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('reopen_reason', sa.Text(), nullable=True))
    connection = op.get_bind()
    cases = sa.table('cases', sa.column('id', sa.Integer), sa.column('area', sa.String),
                     sa.column('created_at', sa.DateTime(timezone=True)),
                     sa.column('due_at', sa.DateTime(timezone=True)))
    for row in connection.execute(sa.select(cases.c.id, cases.c.area, cases.c.created_at)):
        due = row.created_at + timedelta(days=DEFAULT_DAYS.get(row.area, DEFAULT_DAYS["andet"]))
        connection.execute(sa.update(cases).where(cases.c.id == row.id).values(due_at=due))
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.alter_column('due_at', existing_type=sa.DateTime(timezone=True), nullable=False)
        batch_op.create_foreign_key(batch_op.f('fk_cases_assigned_to_id_users'), 'users',
                                    ['assigned_to_id'], ['id'], ondelete='SET NULL')
        batch_op.create_foreign_key(batch_op.f('fk_cases_reopened_by_id_users'), 'users',
                                    ['reopened_by_id'], ['id'], ondelete='SET NULL')
        batch_op.create_check_constraint('close_reason', CLOSE_REASONS)
        batch_op.create_index(batch_op.f('ix_cases_assigned_to_id'), ['assigned_to_id'], unique=False)
        batch_op.create_index('ix_cases_due_at_id', ['due_at', 'id'], unique=False)
        batch_op.create_index('ix_cases_created_at_id', ['created_at', 'id'], unique=False)
        batch_op.create_index('ix_cases_status_due_at_id', ['status', 'due_at', 'id'], unique=False)
        batch_op.create_index('ix_cases_public_id_prefix', ['public_id'], unique=False,
                              postgresql_ops={'public_id': 'text_pattern_ops'})
    if connection.dialect.name == "postgresql":
        op.create_index('ix_cases_text_search', 'cases', [sa.text("to_tsvector('danish', text)")],
                        postgresql_using='gin')


def downgrade() -> None:
    """Drop what upgrade added."""
    if op.get_bind().dialect.name == "postgresql":
        op.drop_index('ix_cases_text_search', table_name='cases')
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_index('ix_cases_status_due_at_id')
        batch_op.drop_index('ix_cases_public_id_prefix')
        batch_op.drop_index('ix_cases_created_at_id')
        batch_op.drop_index('ix_cases_due_at_id')
        batch_op.drop_index(batch_op.f('ix_cases_assigned_to_id'))
        batch_op.drop_constraint(batch_op.f('ck_cases_close_reason'), type_='check')
        batch_op.drop_constraint(batch_op.f('fk_cases_reopened_by_id_users'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_cases_assigned_to_id_users'), type_='foreignkey')
        for column in ('reopen_reason', 'reopened_by_id', 'reopened_at', 'close_reason_text',
                       'close_reason', 'assigned_to_id', 'due_at'):
            batch_op.drop_column(column)
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('last_login_at')
