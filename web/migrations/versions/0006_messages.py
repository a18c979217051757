"""Questions and answers on a case, withdrawal, the unread marker and the e-mail outbox.

Adds the statuses 'waiting' (a question awaits the volunteer's answer) and 'withdrawn', the
roles 'coordinator' and 'leader' (the role CHECK is recreated with all five), a user's e-mail
address, the case's waiting clock and withdrawal, and the tables messages, case_reads and
notifications.

Revision ID: 0006_messages
Revises: 0004_state
Create Date: 2026-12-02 10:30:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0006_messages'
down_revision = '0004_state'
branch_labels = None
depends_on = None

ROLES = ('volunteer', 'coordinator', 'caseworker', 'leader', 'admin')
STATUSES = ('pending', 'in_review', 'waiting', 'closed', 'withdrawn')
OLD_ROLES = ('volunteer', 'caseworker', 'admin')
OLD_STATUSES = ('pending', 'in_review', 'closed')


def _one_of(column, values):
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def upgrade() -> None:
    """Widen the role and status CHECKs, add the columns and the three tables."""
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('email', sa.String(length=254), nullable=True))
        batch_op.drop_constraint(batch_op.f('ck_users_role'), type_='check')
        batch_op.create_check_constraint('role', _one_of('role', ROLES))
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('waiting_since', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('waited_seconds', sa.Integer(), server_default='0',
                                      nullable=False))
        batch_op.add_column(sa.Column('withdrawn_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('withdrawal_reason', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('news_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.drop_constraint(batch_op.f('ck_cases_status'), type_='check')
        batch_op.create_check_constraint('status', _one_of('status', STATUSES))

    op.create_table('messages',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('from_role', sa.String(length=16), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("from_role IN ('caseworker', 'volunteer')", name=op.f('ck_messages_from_role')),
    sa.CheckConstraint("kind IN ('question', 'answer', 'information')", name=op.f('ck_messages_kind')),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_messages_case_id_cases'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_messages_user_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_messages'))
    )
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_messages_case_id'), ['case_id'], unique=False)

    op.create_table('case_reads',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('seen_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_case_reads_case_id_cases'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_case_reads_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', 'case_id', name=op.f('pk_case_reads'))
    )
    with op.batch_alter_table('case_reads', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_case_reads_case_id'), ['case_id'], unique=False)

    op.create_table('notifications',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('event', sa.String(length=16), nullable=False),
    sa.Column('subject', sa.String(length=200), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('claimed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('attempts', sa.Integer(), server_default='0', nullable=False),
    sa.Column('last_error', sa.String(length=200), nullable=True),
    sa.CheckConstraint("event IN ('question', 'closed', 'reopened')", name=op.f('ck_notifications_event')),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_notifications_case_id_cases'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_notifications_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notifications'))
    )
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_notifications_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_notifications_sent_at'), ['sent_at'], unique=False)


def downgrade() -> None:
    """Drop the tables and columns; waiting cases go back to review, withdrawn ones are closed.

    Refused while a coordinator or leader exists: the old role CHECK has no place for them,
    and silently giving them another role would change what they may read.
    """
    bind = op.get_bind()
    if bind.execute(sa.text("SELECT COUNT(*) FROM users WHERE role IN ('coordinator', 'leader')")).scalar():
        raise RuntimeError("downgrade below 0006_messages refused: coordinators or leaders exist; "
                           "delete them or give them another role first")
    op.drop_table('notifications')
    op.drop_table('case_reads')
    op.drop_table('messages')
    op.execute("UPDATE cases SET status = CASE WHEN EXISTS (SELECT 1 FROM decisions d WHERE "
               "d.case_id = cases.id) THEN 'in_review' ELSE 'pending' END WHERE status = 'waiting'")
    op.execute("UPDATE cases SET status = 'closed', closed_at = withdrawn_at WHERE status = 'withdrawn'")
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_cases_status'), type_='check')
        batch_op.create_check_constraint('status', _one_of('status', OLD_STATUSES))
        batch_op.drop_column('news_at')
        batch_op.drop_column('withdrawal_reason')
        batch_op.drop_column('withdrawn_at')
        batch_op.drop_column('waited_seconds')
        batch_op.drop_column('waiting_since')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_users_role'), type_='check')
        batch_op.create_check_constraint('role', _one_of('role', OLD_ROLES))
        batch_op.drop_column('email')
