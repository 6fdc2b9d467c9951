"""survey, survey_code, survey_response: the satisfaction survey (issue 13 §3)

Revision ID: 0013_survey
Revises: 0012_assign
Create Date: 2026-12-07 14:00:00
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel

import tracker.db


revision = '0013_survey'
down_revision = '0012_assign'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('survey',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('title', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('questionnaire', sa.JSON(), nullable=False),
    sa.Column('illustrative', sa.Boolean(), nullable=False),
    sa.Column('opened_by', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('opened_at', tracker.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('closed_at', tracker.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('closed_by', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaign.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('survey', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_survey_campaign_id'), ['campaign_id'], unique=False)

    op.create_table('survey_code',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('survey_id', sa.Integer(), nullable=False),
    sa.Column('code_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('school_id', sa.Integer(), nullable=True),
    sa.Column('group', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('issued_at', tracker.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', tracker.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('used_at', tracker.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['school_id'], ['school.id'], ),
    sa.ForeignKeyConstraint(['survey_id'], ['survey.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('code_hash')
    )
    with op.batch_alter_table('survey_code', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_survey_code_survey_id'), ['survey_id'], unique=False)

    op.create_table('survey_response',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('survey_id', sa.Integer(), nullable=False),
    sa.Column('school_id', sa.Integer(), nullable=True),
    sa.Column('group', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('channel', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('code_id', sa.Integer(), nullable=True),
    sa.Column('answers', sa.JSON(), nullable=False),
    sa.Column('submitted_at', tracker.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['code_id'], ['survey_code.id'], ),
    sa.ForeignKeyConstraint(['school_id'], ['school.id'], ),
    sa.ForeignKeyConstraint(['survey_id'], ['survey.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('code_id')
    )
    with op.batch_alter_table('survey_response', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_survey_response_survey_id'), ['survey_id'], unique=False)


def downgrade() -> None:
    for table in ('survey_response', 'survey_code', 'survey'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_index(batch_op.f(f'ix_{table}_survey_id' if table != 'survey' else 'ix_survey_campaign_id'))
        op.drop_table(table)
