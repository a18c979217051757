"""Note vectors stored with their case, and the change counter of decisions (issue 13 §5).

A restart reads the vectors instead of encoding the confirmed notes again, and every worker
relearns when `learning_state.version` has moved since it last looked.

Revision ID: 0009_vectors
Revises: 0006_messages
Create Date: 2026-12-02 10:15:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0009_vectors'
down_revision = '0006_messages'
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create note_vectors and learning_state (with its one row)."""
    op.create_table('note_vectors',
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('encoder', sa.String(length=200), nullable=False),
    sa.Column('vector', sa.LargeBinary(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_note_vectors_case_id_cases'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('case_id', name=op.f('pk_note_vectors'))
    )
    state = op.create_table('learning_state',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_learning_state'))
    )
    op.bulk_insert(state, [{'id': 1, 'version': 0}])


def downgrade() -> None:
    """Drop learning_state and note_vectors."""
    op.drop_table('learning_state')
    op.drop_table('note_vectors')
