"""review: round_name, team, scope — the county's own 县级督查 rounds (issue 12 §5)

Revision ID: 0007_inspect
Revises: 0006_mail
Create Date: 2026-12-07 08:00:00

A 县级督查 is a review of level 县级督查 with a round name (第一轮 …), its 督查组 and its scope;
reviews above the county keep the three columns empty.
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0007_inspect'
down_revision = '0006_mail'
branch_labels = None
depends_on = None

COLUMNS = ('round_name', 'team', 'scope')


def upgrade() -> None:
    with op.batch_alter_table('review', schema=None) as batch_op:
        for name in COLUMNS:
            batch_op.add_column(sa.Column(name, sqlmodel.sql.sqltypes.AutoString(), nullable=False, server_default=''))


def downgrade() -> None:
    with op.batch_alter_table('review', schema=None) as batch_op:
        for name in reversed(COLUMNS):
            batch_op.drop_column(name)
