"""task: 交办 fields, the evidence rule and the 已退回 mark (issue 12 §1, §4)

Revision ID: 0012_assign
Revises: 0011_report
Create Date: 2026-12-07 08:00:00

Written as 0004_assign on 0003; chained after 0006_mail, the head of the branch it was made on.
Derived tasks that prove work with a document (shortfall, attestation, finding) need evidence
to be submitted, as new ones do; tasks returned and not yet submitted again keep their mark.
"""
from alembic import op
import sqlalchemy as sa

import tracker.db


revision = '0012_assign'
down_revision = '0011_report'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # plain ADD COLUMN, not batch mode: SQLite's batch mode copies the table, which would drop
    # the task tally triggers of 0003
    op.add_column('task', sa.Column('source', sa.String(length=16), nullable=False, server_default=''))
    op.add_column('task', sa.Column('source_ref', sa.String(), nullable=False, server_default=''))
    op.add_column('task', sa.Column('evidence_required', sa.Boolean(), nullable=False, server_default=sa.false()))
    op.add_column('task', sa.Column('return_reason', sa.String(), nullable=True))
    op.add_column('task', sa.Column('recurrence', sa.String(length=32), nullable=True))
    op.add_column('task', sa.Column('returned_at', tracker.db.UTCDateTime(timezone=True), nullable=True))
    op.execute("UPDATE task SET evidence_required = TRUE WHERE origin IN ('shortfall', 'attestation', 'finding')")


def downgrade() -> None:
    for column in ('returned_at', 'recurrence', 'return_reason', 'evidence_required', 'source_ref', 'source'):
        op.drop_column('task', column)
