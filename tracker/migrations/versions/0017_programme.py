"""campaign.kind and the school programme's tables (示范校, issue 15 §1)

Revision ID: 0017_programme
Revises: 0016_planner
Create Date: 2026-12-07 13:51:31

Every campaign so far is a county's: kind 'county'. A programme (kind 'school-programme') keeps
its candidacies, 公示 and objections, panel scores, 1+X pairings and awards in its own tables.
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel
import tracker.db


revision = '0017_programme'
down_revision = '0016_planner'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('programme_publicity',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('subject', sa.String(length=16), nullable=False),
    sa.Column('starts_on', sa.Date(), nullable=False),
    sa.Column('ends_on', sa.Date(), nullable=False),
    sa.Column('opened_by', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('created_at', tracker.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaign.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('programme_publicity', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_programme_publicity_campaign_id'), ['campaign_id'], unique=False)

    op.create_table('programme_award',
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('school_id', sa.Integer(), nullable=False),
    sa.Column('category', sa.String(length=16), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('score', sa.Float(), nullable=True),
    sa.Column('computed_at', tracker.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('confirmed_by', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('confirmed_at', tracker.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaign.id'], ),
    sa.ForeignKeyConstraint(['school_id'], ['school.id'], ),
    sa.PrimaryKeyConstraint('campaign_id', 'school_id')
    )
    op.create_table('programme_entry',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('school_id', sa.Integer(), nullable=False),
    sa.Column('route', sa.String(length=16), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('tier', sa.String(length=16), nullable=True),
    sa.Column('department_id', sa.Integer(), nullable=True),
    sa.Column('reasons', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('self_assessment', sa.JSON(), nullable=False),
    sa.Column('practices', sa.JSON(), nullable=False),
    sa.Column('review_reason', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('reviewed_by', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('reviewed_at', tracker.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_by', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('created_at', tracker.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaign.id'], ),
    sa.ForeignKeyConstraint(['department_id'], ['department.id'], ),
    sa.ForeignKeyConstraint(['school_id'], ['school.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('campaign_id', 'school_id')
    )
    with op.batch_alter_table('programme_entry', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_programme_entry_campaign_id'), ['campaign_id'], unique=False)

    op.create_table('programme_objection',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('publicity_id', sa.Integer(), nullable=False),
    sa.Column('school_id', sa.Integer(), nullable=True),
    sa.Column('text', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('raised_by', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('raised_at', tracker.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('resolution', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('upheld', sa.Boolean(), nullable=True),
    sa.Column('resolved_by', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('resolved_at', tracker.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['publicity_id'], ['programme_publicity.id'], ),
    sa.ForeignKeyConstraint(['school_id'], ['school.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('programme_objection', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_programme_objection_publicity_id'), ['publicity_id'], unique=False)

    op.create_table('programme_pairing',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('mentor_school_id', sa.Integer(), nullable=False),
    sa.Column('created_at', tracker.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaign.id'], ),
    sa.ForeignKeyConstraint(['mentor_school_id'], ['school.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('campaign_id', 'mentor_school_id')
    )
    with op.batch_alter_table('programme_pairing', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_programme_pairing_campaign_id'), ['campaign_id'], unique=False)

    op.create_table('programme_pairing_member',
    sa.Column('school_id', sa.Integer(), nullable=False),
    sa.Column('pairing_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['pairing_id'], ['programme_pairing.id'], ),
    sa.ForeignKeyConstraint(['school_id'], ['school.id'], ),
    sa.PrimaryKeyConstraint('school_id')
    )
    with op.batch_alter_table('programme_pairing_member', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_programme_pairing_member_pairing_id'), ['pairing_id'], unique=False)

    op.create_table('programme_pairing_report',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('pairing_id', sa.Integer(), nullable=False),
    sa.Column('school_id', sa.Integer(), nullable=False),
    sa.Column('text', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('reported_by', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('reported_at', tracker.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['pairing_id'], ['programme_pairing.id'], ),
    sa.ForeignKeyConstraint(['school_id'], ['school.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('programme_pairing_report', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_programme_pairing_report_pairing_id'), ['pairing_id'], unique=False)

    op.create_table('programme_score',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('round', sa.String(length=64), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('school_id', sa.Integer(), nullable=False),
    sa.Column('criterion', sa.String(length=64), nullable=False),
    sa.Column('points', sa.Float(), nullable=False),
    sa.Column('scored_at', tracker.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaign.id'], ),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], ),
    sa.ForeignKeyConstraint(['school_id'], ['school.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('campaign_id', 'round', 'person_id', 'school_id', 'criterion')
    )
    with op.batch_alter_table('programme_score', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_programme_score_campaign_id'), ['campaign_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_programme_score_school_id'), ['school_id'], unique=False)

    op.create_table('programme_pairing_task',
    sa.Column('task_id', sa.Integer(), nullable=False),
    sa.Column('pairing_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['pairing_id'], ['programme_pairing.id'], ),
    sa.ForeignKeyConstraint(['task_id'], ['task.id'], ),
    sa.PrimaryKeyConstraint('task_id')
    )
    with op.batch_alter_table('programme_pairing_task', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_programme_pairing_task_pairing_id'), ['pairing_id'], unique=False)

    # plain ADD COLUMN: batch mode would copy the table on SQLite
    op.add_column('campaign', sa.Column('kind', sa.String(length=32), server_default='county', nullable=False))



def downgrade() -> None:
    op.drop_column('campaign', 'kind')

    with op.batch_alter_table('programme_pairing_task', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_programme_pairing_task_pairing_id'))

    op.drop_table('programme_pairing_task')
    with op.batch_alter_table('programme_score', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_programme_score_school_id'))
        batch_op.drop_index(batch_op.f('ix_programme_score_campaign_id'))

    op.drop_table('programme_score')
    with op.batch_alter_table('programme_pairing_report', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_programme_pairing_report_pairing_id'))

    op.drop_table('programme_pairing_report')
    with op.batch_alter_table('programme_pairing_member', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_programme_pairing_member_pairing_id'))

    op.drop_table('programme_pairing_member')
    with op.batch_alter_table('programme_pairing', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_programme_pairing_campaign_id'))

    op.drop_table('programme_pairing')
    with op.batch_alter_table('programme_objection', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_programme_objection_publicity_id'))

    op.drop_table('programme_objection')
    with op.batch_alter_table('programme_entry', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_programme_entry_campaign_id'))

    op.drop_table('programme_entry')
    op.drop_table('programme_award')
    with op.batch_alter_table('programme_publicity', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_programme_publicity_campaign_id'))

    op.drop_table('programme_publicity')
