"""outboundmessage.mentions, robotwindow (issue 12 §6: notices to 企业微信 / 钉钉 group robots)

Revision ID: 0008_robots
Revises: 0007_inspect
Create Date: 2026-12-07 08:00:00

A robot message keeps the mobile numbers it @-mentions (people reached only through their unit's
robot); ``robotwindow`` keeps each robot's posts of the last minute, so its rate limit (20 a
minute) is kept by queueing.
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0008_robots'
down_revision = '0007_inspect'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('outboundmessage', schema=None) as batch_op:
        batch_op.add_column(sa.Column('mentions', sqlmodel.sql.sqltypes.AutoString(), nullable=False,
                                      server_default=''))
    op.create_table(
        'robotwindow',
        sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
        sa.Column('posts', sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint('name'),
    )


def downgrade() -> None:
    op.drop_table('robotwindow')
    with op.batch_alter_table('outboundmessage', schema=None) as batch_op:
        batch_op.drop_column('mentions')
