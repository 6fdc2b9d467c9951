"""task_list_stamp: a campaign's task-list revision, moved by triggers on everything the list shows

Revision ID: 0020_liststamp
Revises: 0019_phases
Create Date: 2026-12-07 17:30:00

The task list API keeps the bytes it answered, keyed on this revision (api/v1/task_list_cache.py,
issue 10). A kept answer is right only if every write that can change what the list shows moves
the revision in the same transaction, whatever code path writes: so triggers, as the tallies
(0003), not ORM listeners (a bulk INSERT, a plain UPDATE or a cascade would slip past those).
What the list shows comes from: ``task``, ``taskcooperator`` (cooperating units), ``task_extension``
(the pending 延期申请), ``department`` and ``school`` (unit names, the text search), ``phase``
(the phase filter), ``campaign`` (its plan's light rule; a new campaign reusing an id), and the
working-day calendar (``calendaryear``, ``workdayoverride``: lights and days overdue), which moves
every campaign's revision. A campaign without a row reads NULL (never kept); inserting the campaign makes one.

PostgreSQL: statement triggers over the transition tables (a bulk INSERT of 5,000 tasks moves
the revision once), named ``stamp_*`` so that on ``task`` they fire before the tallies'
(``task_tally_*``): every task write takes the stamp row's lock first, so two writers cannot each
hold what the other waits for. SQLite: row triggers.
"""
from alembic import op
import sqlalchemy as sa


revision = '0020_liststamp'
down_revision = '0019_phases'
branch_labels = None
depends_on = None

# A revision is a random 62-bit number, not a counter: kept answers are compared for equality only,
# and a counter would repeat after a backup is restored (or in another copy of the database), so
# that an answer kept for revision n of one history could be served for revision n of another.
UPSERT = ("INSERT INTO task_list_stamp (campaign_id, revision) {rows} "
          "ON CONFLICT (campaign_id) DO UPDATE SET revision = excluded.revision;")
RANDOM = {"sqlite": "(random() >> 2)", "postgresql": "(floor(random() * 4611686018427387904))::bigint"}

# table: the campaign ids a changed row touches, from a row (SQLite: NEW/OLD) or a transition
# table (PostgreSQL); None: every campaign
TABLES: dict[str, str | None] = {
    "task": "SELECT {row}.campaign_id AS c FROM {source}",
    "taskcooperator": "SELECT t.campaign_id AS c FROM {source} JOIN task AS t ON t.id = {row}.task_id",
    "task_extension": "SELECT {row}.campaign_id AS c FROM {source}",
    "department": "SELECT {row}.campaign_id AS c FROM {source}",
    "school": "SELECT {row}.campaign_id AS c FROM {source}",
    "phase": "SELECT {row}.campaign_id AS c FROM {source}",
    "campaign": "SELECT {row}.id AS c FROM {source}",
    "calendaryear": None,
    "workdayoverride": None,
}
EVERY_CAMPAIGN = "SELECT id, {random} FROM campaign WHERE true ORDER BY id"


def _sqlite_triggers() -> list[str]:
    out = []
    for table, ids in TABLES.items():
        for event, rows in (("insert", ("NEW",)), ("update", ("OLD", "NEW")), ("delete", ("OLD",))):
            if ids is None:
                body = UPSERT.format(rows=EVERY_CAMPAIGN.format(random=RANDOM["sqlite"]))
            else:
                # a row trigger's NEW/OLD is no table: select from a one-row stand-in
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
            if ids is None:
                rows, referencing = EVERY_CAMPAIGN.format(random=RANDOM["postgresql"]), ""
            else:
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
    op.create_table('task_list_stamp',
    sa.Column('campaign_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('revision', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('campaign_id')
    )
    dialect = op.get_bind().dialect.name
    op.execute("INSERT INTO task_list_stamp (campaign_id, revision) "
               + EVERY_CAMPAIGN.format(random=RANDOM.get(dialect, RANDOM["sqlite"])))
    statements = _postgres_statements() if dialect == "postgresql" else _sqlite_triggers()
    for statement in statements:
        op.execute(statement)


def downgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    for table in TABLES:
        for event in ("insert", "update", "delete"):
            name = f"stamp_{table}_{event}"
            op.execute(f"DROP TRIGGER IF EXISTS {name} ON {table}" if postgres else f"DROP TRIGGER IF EXISTS {name}")
            if postgres:
                op.execute(f"DROP FUNCTION IF EXISTS {name}()")
    op.drop_table('task_list_stamp')
