"""Indexes for the admin's audit filters: by user, by action and by case, each with the time.

The audit log is the fastest-growing table (one row per case shown in a queue page), and the
admin filters it by who, what and which case, newest first. audit_events.created_at already
had its index (0001); these let a filtered page read only the rows it shows.

Revision ID: 0013_audit_idx
Revises: 0012_confidence
Create Date: 2026-12-02 16:20:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0013_audit_idx'
down_revision = '0012_confidence'
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create the three filter indexes (the case one on the target's first 19 characters)."""
    op.create_index('ix_audit_events_user_time', 'audit_events', ['user_id', 'created_at'])
    op.create_index('ix_audit_events_action_time', 'audit_events', ['action', 'created_at'])
    op.create_index('ix_audit_events_case_time', 'audit_events',
                    [sa.text('substr(target, 1, 19)'), 'created_at'])


def downgrade() -> None:
    """Drop the filter indexes."""
    op.drop_index('ix_audit_events_case_time', table_name='audit_events')
    op.drop_index('ix_audit_events_action_time', table_name='audit_events')
    op.drop_index('ix_audit_events_user_time', table_name='audit_events')
