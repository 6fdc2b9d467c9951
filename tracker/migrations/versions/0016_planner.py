"""gapplanrecord: a campaign's stored gap plan per assessment (issue 14 §1)

Revision ID: 0016_planner
Revises: 0015_speed
Create Date: 2026-12-07 14:30:00
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel

import tracker.db


revision = '0016_planner'
down_revision = '0015_speed'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'gapplanrecord',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('campaign_id', sa.Integer(), nullable=False),
        sa.Column('assessment_id', sa.Integer(), nullable=False),
        sa.Column('created_at', tracker.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('margin', sa.Float(), nullable=False),
        sa.Column('costs_source', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column('feasible', sa.Boolean(), nullable=False),
        sa.Column('total_cost', sa.Float(), nullable=False),
        sa.Column('result', sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(['assessment_id'], ['assessmentsnapshot.id']),
        sa.ForeignKeyConstraint(['campaign_id'], ['campaign.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index(op.f('ix_gapplanrecord_assessment_id'), 'gapplanrecord', ['assessment_id'], unique=False)
    op.create_index(op.f('ix_gapplanrecord_campaign_id'), 'gapplanrecord', ['campaign_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_gapplanrecord_campaign_id'), table_name='gapplanrecord')
    op.drop_index(op.f('ix_gapplanrecord_assessment_id'), table_name='gapplanrecord')
    op.drop_table('gapplanrecord')
