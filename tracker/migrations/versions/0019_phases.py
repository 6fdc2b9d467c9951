"""phasestep and flowrunrecord: what each phase flow's step did, and the flow runs the dispatcher
started (issue 16)

Revision ID: 0019_phases
Revises: 0018_region
Create Date: 2026-12-07 14:00:00
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel

import tracker.db


revision = '0019_phases'
down_revision = '0018_region'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('phasestep',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('phase_id', sa.Integer(), nullable=False),
    sa.Column('step', sa.String(length=48), nullable=False),
    sa.Column('done_at', tracker.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('result', sa.JSON(), nullable=False),
    sa.Column('document', sa.LargeBinary(), nullable=True),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaign.id'], ),
    sa.ForeignKeyConstraint(['phase_id'], ['phase.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('phase_id', 'step')
    )
    with op.batch_alter_table('phasestep', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_phasestep_campaign_id'), ['campaign_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_phasestep_phase_id'), ['phase_id'], unique=False)
    op.create_table('flowrunrecord',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=True),
    sa.Column('flow_name', sa.String(length=48), nullable=False),
    sa.Column('run_name', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('parameters', sa.JSON(), nullable=False),
    sa.Column('event_ids', sa.JSON(), nullable=False),
    sa.Column('mode', sa.String(length=16), nullable=False),
    sa.Column('flow_run_id', sa.String(length=64), nullable=True),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('message', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('attempt', sa.Integer(), nullable=False),
    sa.Column('retry_of', sa.Integer(), nullable=True),
    sa.Column('created_at', tracker.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('checked_at', tracker.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaign.id'], ),
    sa.ForeignKeyConstraint(['retry_of'], ['flowrunrecord.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('flowrunrecord', schema=None) as batch_op:
        batch_op.create_index('ix_flowrunrecord_state', ['state', 'created_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('flowrunrecord', schema=None) as batch_op:
        batch_op.drop_index('ix_flowrunrecord_state')
    op.drop_table('flowrunrecord')
    with op.batch_alter_table('phasestep', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_phasestep_phase_id'))
        batch_op.drop_index(batch_op.f('ix_phasestep_campaign_id'))
    op.drop_table('phasestep')
