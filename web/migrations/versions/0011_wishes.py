"""The organisations' wishes register, and what the overview (Overblik) reads fast.

(The leader role is in the role CHECK since 0006_messages.) `users.answers_wishes` marks the
caseworker who is the municipality's volunteer coordinator and answers the wishes.
`suggestions.decision` (the latest decision's verdict), `cases.first_decision_at` and
`cases.first_answer_at` (the first decision, question or closing) are kept by cases.decide,
cases.close and messages.post, so the overview's aggregates need no join to the decisions or
messages (`web/insights/metrics.py`; benchmarks/bench_insights.py). They are filled in here from
what is already stored.

Revision ID: 0011_wishes
Revises: 0010_queue
Create Date: 2026-12-02 10:30:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0011_wishes'
down_revision = '0010_queue'
branch_labels = None
depends_on = None

KINDS = ("lokaler", "økonomi", "viden", "samarbejde", "andet")
OUTCOMES = ("granted", "partly", "declined", "dialogue")
ANSWERED = ("(outcome IS NULL AND answered_at IS NULL AND answered_by_id IS NULL)"
            " OR (outcome IS NOT NULL AND answered_at IS NOT NULL AND answered_by_id IS NOT NULL)")


def _one_of(column, values):
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def upgrade() -> None:
    """Add answers_wishes, the wishes table and the overview's indexes."""
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('answers_wishes', sa.Boolean(), server_default=sa.false(),
                                      nullable=False))
    op.create_table('wishes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('outcome', sa.String(length=16), nullable=True),
    sa.Column('answer', sa.Text(), nullable=True),
    sa.Column('answered_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('answered_by_id', sa.Integer(), nullable=True),
    sa.CheckConstraint(_one_of('kind', KINDS), name=op.f('ck_wishes_kind')),
    sa.CheckConstraint(_one_of('outcome', OUTCOMES), name=op.f('ck_wishes_outcome')),
    sa.CheckConstraint(ANSWERED, name=op.f('ck_wishes_answered')),
    sa.ForeignKeyConstraint(['answered_by_id'], ['users.id'], name=op.f('fk_wishes_answered_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_wishes_created_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_wishes_organisation_id_organisations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_wishes'))
    )
    with op.batch_alter_table('wishes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_wishes_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_wishes_organisation_id'), ['organisation_id'], unique=False)
    with op.batch_alter_table('decisions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_decisions_suggestion_id'), ['suggestion_id'], unique=False)
    with op.batch_alter_table('suggestions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('decision', sa.String(length=8), nullable=True))
        batch_op.create_check_constraint('decision', _one_of('decision', ('confirm', 'reject')))
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('first_decision_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('first_answer_at', sa.DateTime(timezone=True), nullable=True))
    op.execute("UPDATE suggestions SET decision = (SELECT d.decision FROM decisions d "
               "WHERE d.suggestion_id = suggestions.id ORDER BY d.id DESC LIMIT 1)")
    op.execute("UPDATE cases SET first_decision_at = (SELECT min(d.created_at) FROM decisions d "
               "WHERE d.case_id = cases.id)")
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('engine_version', sa.String(length=120), nullable=True))
        batch_op.add_column(sa.Column('top5_shown', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('top1_confirmed', sa.Boolean(), server_default=sa.false(),
                                      nullable=False))
        batch_op.add_column(sa.Column('top5_confirmed', sa.Integer(), server_default='0', nullable=False))
    top5 = "FROM suggestions s WHERE s.case_id = cases.id AND s.origin = 'engine' AND s.rank <= 5"
    op.execute("UPDATE cases SET engine_version = (SELECT max(s.engine_version) FROM suggestions s "
               "WHERE s.case_id = cases.id AND s.origin = 'engine'), "
               f"top5_shown = (SELECT count(*) {top5}), "
               f"top1_confirmed = EXISTS (SELECT 1 {top5} AND s.rank = 1 AND s.decision = 'confirm'), "
               f"top5_confirmed = (SELECT count(*) {top5} AND s.decision = 'confirm')")
    with op.batch_alter_table('suggestions', schema=None) as batch_op:
        batch_op.create_index('ix_suggestions_decided', ['case_id'], unique=False,
                              sqlite_where=sa.text('decision IS NOT NULL'),
                              postgresql_where=sa.text('decision IS NOT NULL'),
                              postgresql_include=['entry_id', 'origin', 'decision'])
        batch_op.create_index('ix_suggestions_entry_id', ['entry_id', 'case_id'], unique=False)
    # The earliest of the first decision, the first question and the closing.
    op.execute("UPDATE cases SET first_answer_at = (SELECT min(t) FROM ("
               "SELECT cases.first_decision_at AS t UNION ALL "
               "SELECT min(m.created_at) FROM messages m WHERE m.case_id = cases.id "
               "AND m.kind = 'question' UNION ALL SELECT cases.closed_at) AS answered)")


def downgrade() -> None:
    """Drop the indexes, the wishes table and answers_wishes."""
    with op.batch_alter_table('suggestions', schema=None) as batch_op:
        batch_op.drop_index('ix_suggestions_entry_id')
        batch_op.drop_index('ix_suggestions_decided')
    with op.batch_alter_table('cases', schema=None) as batch_op:
        for column in ('top5_confirmed', 'top1_confirmed', 'top5_shown', 'engine_version'):
            batch_op.drop_column(column)
        batch_op.drop_column('first_answer_at')
        batch_op.drop_column('first_decision_at')
    with op.batch_alter_table('suggestions', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_suggestions_decision'), type_='check')
        batch_op.drop_column('decision')
    with op.batch_alter_table('decisions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_decisions_suggestion_id'))
    with op.batch_alter_table('wishes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_wishes_organisation_id'))
        batch_op.drop_index(batch_op.f('ix_wishes_created_at'))
    op.drop_table('wishes')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('answers_wishes')
