"""Case state: closed_at agrees with status (CHECK), and the Idempotency-Key of a submitted note.

Before this revision concurrent closes and decisions could leave a case "in_review" with a
closing time (a decision committed after the close set it back). Such rows are repaired as
closed: the close was acknowledged to the caseworker and the volunteer may have seen the
answer. A closed row without a closing time takes its last update as that time.

Revision ID: 0004_state
Revises: 0003_auth
Create Date: 2026-12-02 06:45:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0004_state'
down_revision = '0003_auth'
branch_labels = None
depends_on = None

CLOSED_AT_AGREES = ("(status = 'closed' AND closed_at IS NOT NULL) "
                    "OR (status <> 'closed' AND closed_at IS NULL)")


def upgrade() -> None:
    """Repair disagreeing rows, then add the CHECK, the key column and its unique constraint."""
    op.execute("UPDATE cases SET status = 'closed' WHERE status <> 'closed' AND closed_at IS NOT NULL")
    op.execute("UPDATE cases SET closed_at = updated_at WHERE status = 'closed' AND closed_at IS NULL")
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('idempotency_key', sa.String(length=255), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_cases_created_by_id'),
                                          ['created_by_id', 'idempotency_key'])
        batch_op.create_check_constraint('closed_at', CLOSED_AT_AGREES)


def downgrade() -> None:
    """Drop the CHECK, the unique constraint and the key column."""
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_cases_closed_at'), type_='check')
        batch_op.drop_constraint(batch_op.f('uq_cases_created_by_id'), type_='unique')
        batch_op.drop_column('idempotency_key')
