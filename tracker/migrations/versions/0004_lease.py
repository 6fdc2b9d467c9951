"""leader_lease: the scheduler's leadership as a lease row renewed by a heartbeat (issue 11)

Revision ID: 0004_lease
Revises: 0003
Create Date: 2026-12-07 07:00:00

Replaces the PostgreSQL advisory lock and the SQLite fcntl lock, which a frozen (SIGSTOPped)
leader held for ever. See tracker/leadership/service.py.
"""
from alembic import op
import sqlalchemy as sa

import tracker.db


revision = '0004_lease'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('leader_lease',
    sa.Column('name', sa.String(length=32), nullable=False),
    sa.Column('holder', sa.String(length=200), nullable=False),
    sa.Column('acquired_at', tracker.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('renewed_at', tracker.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', tracker.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_job', sa.String(length=64), nullable=True),
    sa.Column('last_job_at', tracker.db.UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('name')
    )


def downgrade() -> None:
    op.drop_table('leader_lease')
