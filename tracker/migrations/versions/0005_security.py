"""security: page sessions in the store, login failures per name and source address

Revision ID: 0005_security
Revises: 0004_lease
Create Date: 2026-12-07 07:00:00

``web_session``: a page session is a row (the cookie carries its token), so logging out, a new
password or disabling a user ends it at once. ``login_throttle``: failed logins counted per user
name as typed (known or not) and source address, plus one row per name for all addresses; the
counters on ``account`` go (a lock running at upgrade time is forgotten).
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel
import tracker.db


revision = '0005_security'
down_revision = '0004_lease'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('web_session',
    sa.Column('token_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('created_at', tracker.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_seen_at', tracker.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['account.id'], ),
    sa.PrimaryKeyConstraint('token_hash')
    )
    with op.batch_alter_table('web_session', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_web_session_user_id'), ['user_id'], unique=False)

    op.create_table('login_throttle',
    sa.Column('username', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('source', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('failed_count', sa.Integer(), nullable=False),
    sa.Column('last_failed_at', tracker.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('locked_until', tracker.db.UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('username', 'source')
    )
    with op.batch_alter_table('login_throttle', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_login_throttle_last_failed_at'), ['last_failed_at'], unique=False)

    with op.batch_alter_table('account', schema=None) as batch_op:
        batch_op.drop_column('locked_until')
        batch_op.drop_column('last_failed_at')
        batch_op.drop_column('failed_count')


def downgrade() -> None:
    with op.batch_alter_table('account', schema=None) as batch_op:
        batch_op.add_column(sa.Column('failed_count', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('last_failed_at', tracker.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('locked_until', tracker.db.UTCDateTime(timezone=True), nullable=True))
    with op.batch_alter_table('login_throttle', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_login_throttle_last_failed_at'))
    op.drop_table('login_throttle')
    with op.batch_alter_table('web_session', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_web_session_user_id'))
    op.drop_table('web_session')
