"""region: cities and provinces over the counties' campaigns, region accounts (issue 15 §2)

Revision ID: 0018_region
Revises: 0017_programme
Create Date: 2026-12-07 14:00:00
"""
from alembic import op
import sqlalchemy as sa

import tracker.db


revision = '0018_region'
down_revision = '0017_programme'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'region',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('code', sa.String(length=64), nullable=False),
        sa.Column('name', sa.String(), nullable=False),
        sa.Column('level', sa.String(length=16), nullable=False),
        sa.Column('parent_id', sa.Integer(), nullable=True),
        sa.Column('created_at', tracker.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['parent_id'], ['region.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('code'),
    )
    op.create_index(op.f('ix_region_parent_id'), 'region', ['parent_id'], unique=False)
    op.create_table(
        'region_county',
        sa.Column('campaign_id', sa.Integer(), nullable=False),
        sa.Column('region_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['campaign_id'], ['campaign.id']),
        sa.ForeignKeyConstraint(['region_id'], ['region.id']),
        sa.PrimaryKeyConstraint('campaign_id'),
    )
    op.create_index(op.f('ix_region_county_region_id'), 'region_county', ['region_id'], unique=False)
    op.create_table(
        'region_notice',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('region_id', sa.Integer(), nullable=False),
        sa.Column('title', sa.String(length=200), nullable=False),
        sa.Column('body', sa.String(), nullable=False),
        sa.Column('issued_by', sa.String(), nullable=False),
        sa.Column('issued_at', tracker.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['region_id'], ['region.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index(op.f('ix_region_notice_region_id'), 'region_notice', ['region_id'], unique=False)
    op.create_table(
        'county_assessment_summary',
        sa.Column('campaign_id', sa.Integer(), nullable=False),
        sa.Column('assessment_id', sa.Integer(), nullable=False),
        sa.Column('as_of', sa.String(), nullable=False),
        sa.Column('cvs', sa.JSON(), nullable=False),
        sa.Column('schools', sa.Integer(), nullable=False),
        sa.Column('schools_ok', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['assessment_id'], ['assessmentsnapshot.id']),
        sa.ForeignKeyConstraint(['campaign_id'], ['campaign.id']),
        sa.PrimaryKeyConstraint('campaign_id'),
    )
    with op.batch_alter_table('account') as batch:
        batch.add_column(sa.Column('region_id', sa.Integer(), nullable=True))
        batch.create_foreign_key('fk_account_region_id_region', 'region', ['region_id'], ['id'])


def downgrade() -> None:
    with op.batch_alter_table('account') as batch:
        batch.drop_constraint('fk_account_region_id_region', type_='foreignkey')
        batch.drop_column('region_id')
    op.drop_table('county_assessment_summary')
    op.drop_index(op.f('ix_region_notice_region_id'), table_name='region_notice')
    op.drop_table('region_notice')
    op.drop_index(op.f('ix_region_county_region_id'), table_name='region_county')
    op.drop_table('region_county')
    op.drop_index(op.f('ix_region_parent_id'), table_name='region')
    op.drop_table('region')
