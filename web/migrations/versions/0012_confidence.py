"""The engine's verdict stored with a case's suggestions (issue 13 §3): the calibrated confidence
that its first suggestion is confirmed, and whether nothing in the corpus fits the note.

Existing cases keep null in both: they were matched without a confidence model.

Revision ID: 0012_confidence
Revises: 0011_wishes
Create Date: 2026-12-02 16:10:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0012_confidence'
down_revision = '0011_wishes'
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add cases.confidence and cases.no_good_match (nullable)."""
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('confidence', sa.Float(), nullable=True))
        batch_op.add_column(sa.Column('no_good_match', sa.Boolean(), nullable=True))


def downgrade() -> None:
    """Drop the two columns."""
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_column('no_good_match')
        batch_op.drop_column('confidence')
