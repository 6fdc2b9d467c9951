"""owednotice: one row per task and rung owed, recipients expanded when composed (issue 10)

Revision ID: 0015_speed
Revises: 0014_materials
Create Date: 2026-12-07 14:00:00

The reminder sweep wrote one ``noticeitem`` per recipient (5.6 per due task); it now writes one
``owednotice`` per task and rung, and the composer expands it into the recipients' items when its
sending window opens. Existing items stay as they are (already expanded); each rung they carry is
recorded here as owed and expanded, so a later sweep does not owe it again.
"""
import json

from alembic import op
import sqlalchemy as sa
import sqlmodel

import tracker.db


revision = '0015_speed'
down_revision = '0014_materials'
branch_labels = None
depends_on = None

# the rungs the sweep owes (and sweep_tasks, for a 退回通知 at once)
_SWEPT_RUNGS = ('assigned', 'ack_resend', 'due_soon', 'due_today', 'chase', 'escalation', 'returned')


def upgrade() -> None:
    op.create_table(
        'owednotice',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('campaign_id', sa.Integer(), nullable=False),
        sa.Column('task_id', sa.Integer(), nullable=False),
        sa.Column('rung', sa.String(length=32), nullable=False),
        sa.Column('occurrence', sa.Integer(), nullable=False),
        sa.Column('idempotency_key', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column('urgent', sa.Boolean(), nullable=False),
        sa.Column('payload', sa.JSON(), nullable=False),
        sa.Column('not_before', tracker.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('created_at', tracker.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('expanded_at', tracker.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['campaign_id'], ['campaign.id'], ),
        sa.ForeignKeyConstraint(['task_id'], ['task.id'], ),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('idempotency_key'),
    )
    op.create_index('ix_owednotice_pending', 'owednotice', ['expanded_at', 'not_before'], unique=False)
    op.create_index(op.f('ix_owednotice_task_id'), 'owednotice', ['task_id'], unique=False)

    # the rungs existing items carry, owed and expanded already: key up to the recipient's part
    # (task:rung:occurrence[@date]:), the first item's values for the rest
    conn = op.get_bind()
    item = sa.table('noticeitem', sa.column('id'), sa.column('campaign_id'), sa.column('task_id'),
                    sa.column('rung'), sa.column('occurrence'), sa.column('idempotency_key'), sa.column('urgent'),
                    sa.column('payload', sa.JSON()), sa.column('not_before', tracker.db.UTCDateTime(timezone=True)),
                    sa.column('created_at', tracker.db.UTCDateTime(timezone=True)))
    owed = sa.table('owednotice', sa.column('campaign_id'), sa.column('task_id'), sa.column('rung'),
                    sa.column('occurrence'), sa.column('idempotency_key'), sa.column('urgent'),
                    sa.column('payload', sa.JSON()), sa.column('not_before', tracker.db.UTCDateTime(timezone=True)),
                    sa.column('created_at', tracker.db.UTCDateTime(timezone=True)),
                    sa.column('expanded_at', tracker.db.UTCDateTime(timezone=True)))
    rows = conn.execute(
        sa.select(item.c.campaign_id, item.c.task_id, item.c.rung, item.c.occurrence, item.c.idempotency_key,
                  item.c.urgent, item.c.payload, item.c.not_before, item.c.created_at)
        .where(item.c.task_id.is_not(None), item.c.rung.in_(_SWEPT_RUNGS)).order_by(item.c.id))
    seen: set[str] = set()
    batch: list[dict] = []
    for campaign_id, task_id, rung, occurrence, key, urgent, payload, not_before, created_at in rows:
        parts = key.split(':', 3)
        if len(parts) < 4:
            continue
        head = ':'.join(parts[:3]) + ':'
        if head in seen:
            continue
        seen.add(head)
        payload = {k: v for k, v in (payload if isinstance(payload, dict) else json.loads(payload or '{}')).items()
                   if k != 'mention'}
        batch.append({'campaign_id': campaign_id, 'task_id': task_id, 'rung': rung, 'occurrence': occurrence,
                      'idempotency_key': head, 'urgent': urgent, 'payload': payload, 'not_before': not_before,
                      'created_at': created_at, 'expanded_at': created_at})
    for start in range(0, len(batch), 1000):
        op.bulk_insert(owed, batch[start:start + 1000])


def downgrade() -> None:
    op.drop_index(op.f('ix_owednotice_task_id'), table_name='owednotice')
    op.drop_index('ix_owednotice_pending', table_name='owednotice')
    op.drop_table('owednotice')
