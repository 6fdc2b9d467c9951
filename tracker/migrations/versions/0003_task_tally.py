"""task tally: per-unit task counts kept current by triggers

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-07 04:00:09.694541

The overview reads these two tables instead of counting the tasks (issue 10). Triggers on
``task`` keep them current in the same transaction as every insert, update and delete, so any
code path that writes tasks (ORM, bulk INSERT, plain UPDATE) keeps them right. SQLite: row
triggers. PostgreSQL: statement triggers over the transition tables, one upsert per statement
(a bulk INSERT of 5,000 tasks costs one grouped upsert, not 5,000). The migration fills both
tables from the tasks already there.
"""
from alembic import op
import sqlalchemy as sa


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None

# the statuses whose clock runs (tracker.tasks.lifecycle.CLOCK_RUNNING), frozen here on purpose
RUNNING = "('待签收', '已签收', '办理中')"
TALLY_KEY = "campaign_id, phase_id, department_key, school_key, status"
DUE_KEY = "campaign_id, due_on, department_key, school_key"


def _sqlite_triggers() -> list[str]:
    def tally(row: str, step: str) -> str:
        return (f"INSERT INTO task_tally ({TALLY_KEY}, n) VALUES ({row}.campaign_id, {row}.phase_id, "
                f"COALESCE({row}.department_id, 0), COALESCE({row}.responsible_school_id, 0), {row}.status, {step}) "
                f"ON CONFLICT ({TALLY_KEY}) DO UPDATE SET n = n + {step};")

    def due(row: str, step: str) -> str:
        return (f"INSERT INTO task_due_tally ({DUE_KEY}, n) SELECT {row}.campaign_id, {row}.due_on, "
                f"COALESCE({row}.department_id, 0), COALESCE({row}.responsible_school_id, 0), {step} "
                f"WHERE {row}.status IN {RUNNING} ON CONFLICT ({DUE_KEY}) DO UPDATE SET n = n + {step};")

    changed = " OR ".join(f"OLD.{c} IS NOT NEW.{c}" for c in
                          ("campaign_id", "phase_id", "department_id", "responsible_school_id", "status", "due_on"))
    return [
        f"CREATE TRIGGER task_tally_insert AFTER INSERT ON task BEGIN {tally('NEW', '1')} {due('NEW', '1')} END",
        "CREATE TRIGGER task_tally_delete AFTER DELETE ON task BEGIN "
        "UPDATE task_tally SET n = n - 1 WHERE campaign_id = OLD.campaign_id AND phase_id = OLD.phase_id "
        "AND department_key = COALESCE(OLD.department_id, 0) AND school_key = COALESCE(OLD.responsible_school_id, 0) "
        "AND status = OLD.status; "
        "UPDATE task_due_tally SET n = n - 1 WHERE OLD.status IN " + RUNNING + " AND campaign_id = OLD.campaign_id "
        "AND department_key = COALESCE(OLD.department_id, 0) AND school_key = COALESCE(OLD.responsible_school_id, 0) "
        "AND due_on = OLD.due_on; END",
        "CREATE TRIGGER task_tally_update AFTER UPDATE OF campaign_id, phase_id, department_id, "
        f"responsible_school_id, status, due_on ON task WHEN {changed} BEGIN "
        f"{tally('OLD', '-1')} {due('OLD', '-1')} {tally('NEW', '1')} {due('NEW', '1')} END",
    ]


def _postgres_statements() -> list[str]:
    def apply(rows_sql: str) -> str:
        """Add the signed counts of ``rows_sql`` (the tally's key and ``step``) to both tables, in
        key order so that concurrent statements lock the tally rows in the same order."""
        return f"""
            INSERT INTO task_tally ({TALLY_KEY}, n)
            SELECT {TALLY_KEY}, SUM(step) FROM ({rows_sql}) AS r GROUP BY {TALLY_KEY}
            HAVING SUM(step) <> 0 ORDER BY {TALLY_KEY}
            ON CONFLICT ({TALLY_KEY}) DO UPDATE SET n = task_tally.n + EXCLUDED.n;
            INSERT INTO task_due_tally ({DUE_KEY}, n)
            SELECT {DUE_KEY}, SUM(step) FROM ({rows_sql}) AS r WHERE status IN {RUNNING}
            GROUP BY {DUE_KEY} HAVING SUM(step) <> 0 ORDER BY {DUE_KEY}
            ON CONFLICT ({DUE_KEY}) DO UPDATE SET n = task_due_tally.n + EXCLUDED.n;"""

    def rows(table: str, step: int) -> str:
        return (f"SELECT campaign_id, phase_id, COALESCE(department_id, 0) AS department_key, "
                f"COALESCE(responsible_school_id, 0) AS school_key, status, due_on, {step} AS step FROM {table}")

    # a delete only takes away (never inserts a negative row should the tally be emptied first)
    deleted = rows("old_tasks", 1)
    functions = {
        "insert": apply(rows("new_tasks", 1)),
        "delete": f"""
            UPDATE task_tally AS t SET n = t.n - d.n FROM (
              SELECT {TALLY_KEY}, SUM(step) AS n FROM ({deleted}) AS r GROUP BY {TALLY_KEY} ORDER BY {TALLY_KEY}) AS d
            WHERE (t.campaign_id, t.phase_id, t.department_key, t.school_key, t.status)
                = (d.campaign_id, d.phase_id, d.department_key, d.school_key, d.status);
            UPDATE task_due_tally AS t SET n = t.n - d.n FROM (
              SELECT {DUE_KEY}, SUM(step) AS n FROM ({deleted}) AS r WHERE status IN {RUNNING}
              GROUP BY {DUE_KEY} ORDER BY {DUE_KEY}) AS d
            WHERE (t.campaign_id, t.department_key, t.school_key, t.due_on)
                = (d.campaign_id, d.department_key, d.school_key, d.due_on);""",
        "update": apply(f"{rows('new_tasks', 1)} UNION ALL {rows('old_tasks', -1)}"),
    }
    referencing = {"insert": "NEW TABLE AS new_tasks", "delete": "OLD TABLE AS old_tasks",
                   "update": "OLD TABLE AS old_tasks NEW TABLE AS new_tasks"}
    out = []
    for op_name, body in functions.items():
        out.append(f"CREATE OR REPLACE FUNCTION task_tally_{op_name}() RETURNS trigger LANGUAGE plpgsql AS $$ "
                   f"BEGIN {body} RETURN NULL; END $$")
        out.append(f"CREATE TRIGGER task_tally_{op_name} AFTER {op_name.upper()} ON task "
                   f"REFERENCING {referencing[op_name]} FOR EACH STATEMENT EXECUTE FUNCTION task_tally_{op_name}()")
    return out


def upgrade() -> None:
    op.create_table('task_due_tally',
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('department_key', sa.Integer(), nullable=False),
    sa.Column('school_key', sa.Integer(), nullable=False),
    sa.Column('n', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('campaign_id', 'due_on', 'department_key', 'school_key')
    )
    op.create_table('task_tally',
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('phase_id', sa.Integer(), nullable=False),
    sa.Column('department_key', sa.Integer(), nullable=False),
    sa.Column('school_key', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('n', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('campaign_id', 'phase_id', 'department_key', 'school_key', 'status')
    )
    # the tasks already there, then the triggers (one migration transaction: no move is lost)
    op.execute(f"INSERT INTO task_tally ({TALLY_KEY}, n) SELECT campaign_id, phase_id, "
               f"COALESCE(department_id, 0), COALESCE(responsible_school_id, 0), status, COUNT(*) FROM task "
               f"GROUP BY campaign_id, phase_id, COALESCE(department_id, 0), COALESCE(responsible_school_id, 0), status")
    op.execute(f"INSERT INTO task_due_tally ({DUE_KEY}, n) SELECT campaign_id, due_on, COALESCE(department_id, 0), "
               f"COALESCE(responsible_school_id, 0), COUNT(*) FROM task WHERE status IN {RUNNING} "
               f"GROUP BY campaign_id, due_on, COALESCE(department_id, 0), COALESCE(responsible_school_id, 0)")
    statements = _postgres_statements() if op.get_bind().dialect.name == "postgresql" else _sqlite_triggers()
    for statement in statements:
        op.execute(statement)


def downgrade() -> None:
    for op_name in ("insert", "update", "delete"):
        op.execute(f"DROP TRIGGER IF EXISTS task_tally_{op_name} ON task"
                   if op.get_bind().dialect.name == "postgresql" else f"DROP TRIGGER IF EXISTS task_tally_{op_name}")
        if op.get_bind().dialect.name == "postgresql":
            op.execute(f"DROP FUNCTION IF EXISTS task_tally_{op_name}()")
    op.drop_table('task_tally')
    op.drop_table('task_due_tally')
