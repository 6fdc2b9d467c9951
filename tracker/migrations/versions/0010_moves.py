"""task moves: 延期申请, 联办 reports, 分解 (issue 12 §2–3)

Revision ID: 0010_moves
Revises: 0009_appraisal
Create Date: 2026-12-07 08:00:00

task_extension (one pending request per task: ``pending_task_id`` unique), cooperator_report,
and task.parent_id. The column is added with ALTER TABLE, never by recreating ``task``: a
recreated table on SQLite would lose the tally triggers of 0003.
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel

import tracker.db


revision = '0010_moves'
down_revision = '0009_appraisal'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('task_extension',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('task_id', sa.Integer(), nullable=False),
    sa.Column('pending_task_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('due_from', sa.Date(), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('reason', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('requested_by', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('requested_by_id', sa.Integer(), nullable=True),
    sa.Column('requested_at', tracker.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('decided_by', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('decided_at', tracker.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('decision_note', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaign.id'], ),
    sa.ForeignKeyConstraint(['task_id'], ['task.id'], ),
    sa.ForeignKeyConstraint(['requested_by_id'], ['person.id'], ),
    sa.ForeignKeyConstraint(['decided_by_id'], ['person.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('pending_task_id'),
    )
    op.create_index(op.f('ix_task_extension_campaign_id'), 'task_extension', ['campaign_id'], unique=False)
    op.create_index(op.f('ix_task_extension_task_id'), 'task_extension', ['task_id'], unique=False)
    op.create_table('cooperator_report',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('task_id', sa.Integer(), nullable=False),
    sa.Column('department_id', sa.Integer(), nullable=False),
    sa.Column('percent', sa.Integer(), nullable=False),
    sa.Column('note', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('evidence_id', sa.Integer(), nullable=True),
    sa.Column('reported_by', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('reported_by_id', sa.Integer(), nullable=True),
    sa.Column('reported_at', tracker.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaign.id'], ),
    sa.ForeignKeyConstraint(['task_id'], ['task.id'], ),
    sa.ForeignKeyConstraint(['department_id'], ['department.id'], ),
    sa.ForeignKeyConstraint(['evidence_id'], ['evidence.id'], ),
    sa.ForeignKeyConstraint(['reported_by_id'], ['person.id'], ),
    sa.PrimaryKeyConstraint('id'),
    )
    op.create_index(op.f('ix_cooperator_report_campaign_id'), 'cooperator_report', ['campaign_id'], unique=False)
    op.create_index(op.f('ix_cooperator_report_task_id'), 'cooperator_report', ['task_id'], unique=False)
    if op.get_bind().dialect.name == "sqlite":
        # Alembic would recreate the table for the foreign key (and lose 0003's triggers);
        # SQLite adds a nullable column with its REFERENCES clause in place
        op.execute("ALTER TABLE task ADD COLUMN parent_id INTEGER REFERENCES task (id)")
    else:
        op.add_column('task', sa.Column('parent_id', sa.Integer(), sa.ForeignKey('task.id'), nullable=True))
    op.create_index(op.f('ix_task_parent_id'), 'task', ['parent_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_task_parent_id'), table_name='task')
    if op.get_bind().dialect.name == "sqlite":
        op.execute("ALTER TABLE task DROP COLUMN parent_id")  # SQLite 3.35+
    else:
        op.drop_column('task', 'parent_id')
    op.drop_index(op.f('ix_cooperator_report_task_id'), table_name='cooperator_report')
    op.drop_index(op.f('ix_cooperator_report_campaign_id'), table_name='cooperator_report')
    op.drop_table('cooperator_report')
    op.drop_index(op.f('ix_task_extension_task_id'), table_name='task_extension')
    op.drop_index(op.f('ix_task_extension_campaign_id'), table_name='task_extension')
    op.drop_table('task_extension')
