"""outboundmessage: ladder_start, dead_cause, dead_at (issue 11: recovery after an outage)

Revision ID: 0006_mail
Revises: 0005_security
Create Date: 2026-12-07 07:00:00

A message given up because its channel was away (dead_cause = 'outage') is re-queued when the
channel works again; ``ladder_start`` lets the retry ladder start over while ``attempts`` keeps
counting every attempt; ``dead_at`` is when it was given up (``junheng mail retry --all-dead --since``).
Messages already dead are left with an empty cause: nobody can tell now why they died.
"""
from alembic import op
import sqlalchemy as sa

import tracker.db


revision = '0006_mail'
down_revision = '0005_security'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('outboundmessage', schema=None) as batch_op:
        batch_op.add_column(sa.Column('ladder_start', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('dead_cause', sa.String(length=16), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('dead_at', tracker.db.UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('outboundmessage', schema=None) as batch_op:
        batch_op.drop_column('dead_at')
        batch_op.drop_column('dead_cause')
        batch_op.drop_column('ladder_start')
