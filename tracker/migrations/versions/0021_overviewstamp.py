"""the task-list revision also moved by writes to reviews, their findings and events (the 总览)

Revision ID: 0021_overviewstamp
Revises: 0020_liststamp
Create Date: 2026-12-07 18:40:00

The office's 总览 page keeps the bytes it rendered, keyed on the campaign's revision (issue 10,
api/pages/overview.py). Besides what the task list shows (0020: tasks, cooperators, 延期申请, units,
phases, the campaign, the calendar) the page reads the campaign's reviews (评估与督查, the gates
waiting for a verdict), their findings (counts) and this week's events: writes to those move the
same revision, by the same kind of triggers as 0020. Not the highest event id: on PostgreSQL a
transaction can commit an event with a lower id after another's higher one was read.

An event without a campaign (``campaign_id`` NULL) moves nothing. Events are many (one per move),
but on PostgreSQL the trigger is per statement, and the task's own triggers already take the
stamp row's lock in the same transaction, so the lock order (stamp, then tallies) stays.
"""
from alembic import op


revision = '0021_overviewstamp'
down_revision = '0020_liststamp'
branch_labels = None
depends_on = None

UPSERT = ("INSERT INTO task_list_stamp (campaign_id, revision) {rows} "
          "ON CONFLICT (campaign_id) DO UPDATE SET revision = excluded.revision;")
RANDOM = {"sqlite": "(random() >> 2)", "postgresql": "(floor(random() * 4611686018427387904))::bigint"}

# table: the campaign ids a changed row touches (as in 0020)
TABLES: dict[str, str] = {
    "review": "SELECT {row}.campaign_id AS c FROM {source}",
    "reviewfinding": "SELECT {row}.campaign_id AS c FROM {source}",
    "event": "SELECT {row}.campaign_id AS c FROM {source}",
}


def _sqlite_triggers() -> list[str]:
    out = []
    for table, ids in TABLES.items():
        for event, rows in (("insert", ("NEW",)), ("update", ("OLD", "NEW")), ("delete", ("OLD",))):
            body = " ".join(UPSERT.format(rows=(
                f"SELECT c, {RANDOM['sqlite']} FROM ({ids.format(row=row, source='(SELECT 1) AS one')}) AS s "
                f"WHERE c IS NOT NULL")) for row in rows)
            out.append(f"CREATE TRIGGER stamp_{table}_{event} AFTER {event.upper()} ON {table} "
                       f"BEGIN {body} END")
    return out


def _postgres_statements() -> list[str]:
    out = []
    for table, ids in TABLES.items():
        for event, sources in (("insert", ("new_rows",)), ("update", ("old_rows", "new_rows")),
                               ("delete", ("old_rows",))):
            union = " UNION ".join(ids.format(row="r", source=f"{s} AS r") for s in sources)
            rows = (f"SELECT c, {RANDOM['postgresql']} FROM (SELECT DISTINCT c FROM ({union}) AS u "
                    f"WHERE c IS NOT NULL) AS s ORDER BY c")
            referencing = "REFERENCING " + " ".join(
                f"{'OLD' if s == 'old_rows' else 'NEW'} TABLE AS {s}" for s in sources)
            name = f"stamp_{table}_{event}"
            out.append(f"CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$ "
                       f"BEGIN {UPSERT.format(rows=rows)} RETURN NULL; END $$")
            out.append(f"CREATE TRIGGER {name} AFTER {event.upper()} ON {table} {referencing} "
                       f"FOR EACH STATEMENT EXECUTE FUNCTION {name}()")
    return out


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    for statement in _postgres_statements() if dialect == "postgresql" else _sqlite_triggers():
        op.execute(statement)


def downgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    for table in TABLES:
        for event in ("insert", "update", "delete"):
            name = f"stamp_{table}_{event}"
            op.execute(f"DROP TRIGGER IF EXISTS {name} ON {table}" if postgres else f"DROP TRIGGER IF EXISTS {name}")
            if postgres:
                op.execute(f"DROP FUNCTION IF EXISTS {name}()")
