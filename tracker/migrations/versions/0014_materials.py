"""materials checklist, evidence tagged with its item, CV history (issue 13 §4–5)

Revision ID: 0014_materials
Revises: 0013_survey
Create Date: 2026-12-07 14:00:00
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel

import tracker.db


revision = '0014_materials'
down_revision = '0013_survey'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('material_checklist',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('standard_id', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('title', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('illustrative', sa.Boolean(), nullable=False),
    sa.Column('source', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('items', sa.JSON(), nullable=False),
    sa.Column('imported_by', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('imported_at', tracker.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaign.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('campaign_id')
    )
    op.create_table('evidence_material',
    sa.Column('evidence_id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('item_id', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('tagged_by', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('tagged_at', tracker.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaign.id'], ),
    sa.ForeignKeyConstraint(['evidence_id'], ['evidence.id'], ),
    sa.PrimaryKeyConstraint('evidence_id')
    )
    with op.batch_alter_table('evidence_material', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_evidence_material_campaign_id'), ['campaign_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_evidence_material_item_id'), ['item_id'], unique=False)
    op.create_table('cv_history',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('stage', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('cv', sa.Float(), nullable=False),
    sa.Column('source', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('entered_by', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('entered_at', tracker.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaign.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('campaign_id', 'year', 'stage')
    )
    with op.batch_alter_table('cv_history', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_cv_history_campaign_id'), ['campaign_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('cv_history', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cv_history_campaign_id'))
    op.drop_table('cv_history')
    with op.batch_alter_table('evidence_material', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_evidence_material_item_id'))
        batch_op.drop_index(batch_op.f('ix_evidence_material_campaign_id'))
    op.drop_table('evidence_material')
    op.drop_table('material_checklist')
