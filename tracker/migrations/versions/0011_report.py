"""report_text: the office's texts of the 自评报告, one per section (issue 13 §1)

Revision ID: 0011_report
Revises: 0010_moves
Create Date: 2026-12-07 08:00:00

Chained on the branch's head (0007_inspect) so the branch migrates; the lead re-chains at merge.
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel

import tracker.db


revision = '0011_report'
down_revision = '0010_moves'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('report_text',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('section', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('text', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('updated_by', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('updated_at', tracker.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaign.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('campaign_id', 'section')
    )
    with op.batch_alter_table('report_text', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_report_text_campaign_id'), ['campaign_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('report_text', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_report_text_campaign_id'))
    op.drop_table('report_text')
