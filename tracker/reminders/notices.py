"""Writing what the sweep owes: the owed notices (``OwedNotice``, one per task and rung: the
composer expands them into the recipients' items, see expand.py), their idempotency keys and
payloads, and the move of each task's ``next_reminder_at``, each a fixed number of statements per
chunk whatever its size.

Payload. A notice item's payload holds what the message needs and only the sweep knows when it
is owed: the task's light (``light``), the working days it counted (``days_left`` /
``days_overdue``), a 退回 reason (``reason``) and, where a 签收 link is owed, the link's expiry
(``ack_until``; the link itself is made when the message is composed, see ack.py). What the store
holds anyway (title, unit, due date, cooperating units) the composer reads from the task. Few
tasks differ in these values, so the sweep makes each payload text once per distinct value.
"""

from __future__ import annotations

import datetime as dt
import json
from itertools import chain

from sqlalchemy import ARRAY, Integer, String, any_, bindparam, func, select, text
from sqlmodel import Session

from tracker.notices.models import NoticeItem, OwedNotice, Rung
from tracker.reminders.recipients import Recipient
from tracker.tasks.models import Task

# Rungs counted from the due date: their occurrence ("3 working days before", "the 2nd 催办") is
# relative to that date, so the key names it, and a due date moved by a changed plan owes them anew.
DEADLINE_RUNGS = frozenset({Rung.due_soon, Rung.due_today, Rung.chase, Rung.escalation})


def key_head(task_id: int, rung: Rung, occurrence: int, due_on: dt.date | None) -> str:
    """``idempotency_key`` up to the recipient's part (plain ASCII)."""
    return f"{task_id}{key_tail(rung, occurrence, due_on)}"


def key_tail(rung: Rung, occurrence: int, due_on: dt.date | None) -> str:
    """``key_head`` after the task id: the same for every task of a sweep's shape, so made once."""
    if due_on is not None and rung in DEADLINE_RUNGS:
        return f":{rung.value}:{occurrence}@{due_on.isoformat()}:"
    return f":{rung.value}:{occurrence}:"


def idempotency_key(task_id: int, rung: Rung, occurrence: int, recipient: Recipient,
                    due_on: dt.date | None = None) -> str:
    return key_head(task_id, rung, occurrence, due_on) + recipient.key


JSON_ASCII = json.JSONEncoder().encode  # json.dumps with its defaults: SQLAlchemy's JSON on SQLite
JSON_UTF8 = json.JSONEncoder(ensure_ascii=False).encode  # the PostgreSQL document's


def payload_json(light: str | None, days_left: int | None, days_overdue: int | None, reason: str,
                 ack_until: str | None, encode=JSON_ASCII) -> str:
    """A notice payload's JSON text (see the module doc)."""
    payload: dict = {"light": light}
    if days_left is not None:
        payload["days_left"] = days_left
    if days_overdue is not None:
        payload["days_overdue"] = days_overdue
    if reason:
        payload["reason"] = reason
    if ack_until is not None:
        payload["ack_until"] = ack_until
    return encode(payload)


def among(column, ids: list[int], session: Session):
    """``column IN ids`` with the ids as one parameter, not one each rendered into the statement
    (SQLAlchemy's coercion of thousands of values, and on PostgreSQL the driver splitting them
    again, were a tenth of a big sweep): PostgreSQL an array (``= ANY``), SQLite a JSON array
    unpacked by ``json_each``."""
    if session.get_bind().dialect.name == "postgresql":
        return column == any_(bindparam("ids", list(ids), type_=ARRAY(Integer)))
    each = func.json_each(bindparam("ids", json.dumps(list(ids)), type_=String)).table_valued("value")
    return column.in_(select(each.c.value))


# ---------------------------------------------------------------------------------------------
# the rows

class BulkInsert:
    """Many rows into one table, skipping unique keys already stored, in a fixed number of
    statements. PostgreSQL: the rows travel as one JSON document that the server unpacks in one
    pass (json_to_recordset), so neither the driver nor the server handles thousands of
    parameters; a JSON column's value is taken over as written. SQLite: plain multi-row INSERTs
    through the driver (no per-value type processing), as many rows per statement as its limit of
    32,766 parameters allows."""

    def __init__(self, table: str, columns: dict[str, str], key: str = "idempotency_key") -> None:
        self.columns = columns  # column → its PostgreSQL type
        quoted = [f'"{c}"' for c in columns]
        self._pg = text(
            f"INSERT INTO {table} ({', '.join(quoted)}) SELECT {', '.join('r.' + q for q in quoted)} "
            f"FROM json_to_recordset(CAST(:rows AS json)) "
            f"AS r({', '.join(f'{q} {t}' for q, t in zip(quoted, columns.values()))}) "
            f"ON CONFLICT ({key}) DO NOTHING RETURNING {key}")
        self._per_insert = 32766 // len(columns)
        self._sqlite = (f"INSERT INTO {table} ({', '.join(quoted)}) VALUES {{values}} "
                        f"ON CONFLICT ({key}) DO NOTHING RETURNING {key}")
        self._row = "(" + ", ".join("?" * len(columns)) + ")"

    def __call__(self, session: Session, rows: list, postgres: bool) -> set[str]:
        """Insert ``rows``; returns the keys inserted now. PostgreSQL: each row is the JSON text of
        an object of the columns; SQLite: a tuple in their order, JSON as text and times in the
        store's text form (``sqlite_timestamp``)."""
        if not rows:
            return set()
        if postgres:
            return set(session.execute(self._pg, {"rows": f"[{', '.join(rows)}]"}).scalars())
        connection = session.connection()
        inserted: set[str] = set()
        for start in range(0, len(rows), self._per_insert):
            batch = rows[start:start + self._per_insert]
            sql = self._sqlite.format(values=", ".join([self._row] * len(batch)))
            inserted.update(key for (key,) in connection.exec_driver_sql(sql, tuple(chain.from_iterable(batch))))
        return inserted


NOTICE_COLUMNS = {
    "campaign_id": "integer", "task_id": "integer", "rung": "varchar", "occurrence": "integer",
    "urgent": "boolean", "payload": "json", "not_before": "timestamptz", "created_at": "timestamptz",
    "idempotency_key": "varchar",
}
# the owed notices, one per task and rung (the sweep)
insert_notices = BulkInsert(OwedNotice.__tablename__, NOTICE_COLUMNS)
# the recipients' items (the expansion, when the composer finds a notice's window open)
ITEM_COLUMNS = {**NOTICE_COLUMNS, "recipient_person_id": "integer", "recipient_name": "varchar",
                "recipient_address": "varchar", "in_copy": "boolean"}
insert_items = BulkInsert(NoticeItem.__tablename__, ITEM_COLUMNS)
_SQLITE_TIMESTAMP = "%Y-%m-%d %H:%M:%S.%f"  # how SQLAlchemy stores a DateTime in SQLite (UTC, naive)


def sqlite_timestamp(moment: dt.datetime) -> str:
    return moment.astimezone(dt.timezone.utc).strftime(_SQLITE_TIMESTAMP)


def json_timestamp(moment: dt.datetime) -> str:
    return f'"{moment.isoformat()}"'


# ---------------------------------------------------------------------------------------------
# moving the tasks on

_T = Task.__table__
_SQLITE_MOVE_NEXT = f"UPDATE {_T.name} SET next_reminder_at = ? WHERE id = ? AND status = ? AND updated_at = ?"
# PostgreSQL: the chunk's moves in one statement (a JSON document, as the inserts)
_PG_MOVE_NEXT = text(
    f"UPDATE {_T.name} SET next_reminder_at = m.next_at "
    "FROM json_to_recordset(CAST(:moves AS json)) AS m(id integer, status varchar, updated_at timestamptz, "
    "next_at timestamptz) "
    f"WHERE {_T.name}.id = m.id AND {_T.name}.status = m.status AND {_T.name}.updated_at = m.updated_at")


def move_next(session: Session, moves: list[tuple], postgres: bool) -> None:
    """Move each task's ``next_reminder_at`` on, if its status and ``updated_at`` are still those read.

    ``moves``: (task id, status, ``updated_at`` as read in the store's own form — PostgreSQL an aware
    datetime, SQLite its stored text —, the new time as ISO text on PostgreSQL and in the stored text
    form on SQLite, or None); the sweep makes the new time's text once per shape."""
    if not moves:
        return
    if postgres:
        document = json.dumps([{"id": task_id, "status": status, "updated_at": _iso(updated_at), "next_at": next_at}
                               for task_id, status, updated_at, next_at in moves])
        session.execute(_PG_MOVE_NEXT, {"moves": document})
        return
    # SQLite: one executemany through the driver, the times already in the store's text form (the
    # ORM's per-value processing was a tenth of the sweep)
    session.connection().exec_driver_sql(_SQLITE_MOVE_NEXT, [
        (next_at, task_id, status, updated_at) for task_id, status, updated_at, next_at in moves])


def _iso(moment: dt.datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()
