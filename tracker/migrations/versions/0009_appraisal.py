"""event index by campaign, type and time, for 考核

Revision ID: 0009_appraisal
Revises: 0008_robots
Create Date: 2026-12-07 08:00:00

The 考核 table (issue 12 §7) counts the 退回, 申请延期 and 同意延期 events of a period: with this
index it reads those events alone instead of every event of the campaign in the period.
"""
from alembic import op


revision = '0009_appraisal'
down_revision = '0008_robots'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_event_campaign_type_at", "event", ["campaign_id", "type", "at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_event_campaign_type_at", table_name="event")
