"""Writing what the sweep owes: the notice rows (``NoticeItem``), their idempotency keys and
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

from sqlalchemy import bindparam, text, update
from sqlmodel import Session

from tracker.notices.models import NoticeItem, Rung
from tracker.reminders.recipients import Recipient
from tracker.tasks.models import Task

# Rungs counted from the due date: their occurrence ("3 working days before", "the 2nd 催办") is
# relative to that date, so the key names it, and a due date moved by a changed plan owes them anew.
DEADLINE_RUNGS = frozenset({Rung.due_soon, Rung.due_today, Rung.chase, Rung.escalation})


def key_head(task_id: int, rung: Rung, occurrence: int, due_on: dt.date | None) -> str:
    """``idempotency_key`` up to the recipient's part (plain ASCII)."""
    if due_on is not None and rung in DEADLINE_RUNGS:
        return f"{task_id}:{rung.value}:{occurrence}@{due_on.isoformat()}:"
    return f"{task_id}:{rung.value}:{occurrence}:"


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


# ---------------------------------------------------------------------------------------------
# the rows

ITEM_COLUMNS = {  # column → its PostgreSQL type
    "campaign_id": "integer", "task_id": "integer", "rung": "varchar", "occurrence": "integer",
    "urgent": "boolean", "payload": "json", "not_before": "timestamptz", "created_at": "timestamptz",
    "idempotency_key": "varchar", "recipient_person_id": "integer", "recipient_name": "varchar",
    "recipient_address": "varchar", "in_copy": "boolean",
}
# PostgreSQL: the chunk's rows travel as one JSON document that the server unpacks in one pass
# (json_to_recordset), so neither the driver nor the server handles thousands of parameters; the
# payload is a JSON value inside it, taken over as written
_QUOTED = [f'"{c}"' for c in ITEM_COLUMNS]
_PG_INSERT = text(
    f"INSERT INTO {NoticeItem.__tablename__} ({', '.join(_QUOTED)}) "
    f"SELECT {', '.join('r.' + q for q in _QUOTED)} "
    f"FROM json_to_recordset(CAST(:rows AS json)) "
    f"AS r({', '.join(f'{q} {t}' for q, t in zip(_QUOTED, ITEM_COLUMNS.values()))}) "
    "ON CONFLICT (idempotency_key) DO NOTHING RETURNING idempotency_key")
# SQLite: plain multi-row INSERTs through the driver (no per-value type processing), as many rows
# per statement as its limit of 32,766 parameters allows
_SQLITE_ROWS_PER_INSERT = 32766 // len(ITEM_COLUMNS)
_SQLITE_INSERT = (f"INSERT INTO {NoticeItem.__tablename__} ({', '.join(_QUOTED)}) VALUES {{values}} "
                  "ON CONFLICT (idempotency_key) DO NOTHING RETURNING idempotency_key")
_SQLITE_ROW = "(" + ", ".join("?" * len(ITEM_COLUMNS)) + ")"
_SQLITE_TIMESTAMP = "%Y-%m-%d %H:%M:%S.%f"  # how SQLAlchemy stores a DateTime in SQLite (UTC, naive)


def sqlite_timestamp(moment: dt.datetime) -> str:
    return moment.astimezone(dt.timezone.utc).strftime(_SQLITE_TIMESTAMP)


def json_timestamp(moment: dt.datetime) -> str:
    return f'"{moment.isoformat()}"'


def insert_items(session: Session, rows: list, postgres: bool) -> set[str]:
    """Insert notice items, skipping keys already stored; returns the keys inserted now.

    PostgreSQL: each row is the JSON text of an object of ``ITEM_COLUMNS``; SQLite: a tuple in
    their order, the payload as JSON text and times in the store's text form."""
    if not rows:
        return set()
    if postgres:
        return set(session.execute(_PG_INSERT, {"rows": f"[{', '.join(rows)}]"}).scalars())
    connection = session.connection()
    inserted: set[str] = set()
    for start in range(0, len(rows), _SQLITE_ROWS_PER_INSERT):
        batch = rows[start:start + _SQLITE_ROWS_PER_INSERT]
        sql = _SQLITE_INSERT.format(values=", ".join([_SQLITE_ROW] * len(batch)))
        inserted.update(key for (key,) in connection.exec_driver_sql(sql, tuple(chain.from_iterable(batch))).fetchall())
    return inserted


# ---------------------------------------------------------------------------------------------
# moving the tasks on

_T = Task.__table__
_MOVE_NEXT = (
    f"UPDATE {_T.name} SET next_reminder_at = m.value ->> 3 "
    "FROM json_each(?) AS m "
    f"WHERE {_T.name}.id = m.value ->> 0 AND {_T.name}.status = m.value ->> 1 "
    f"AND {_T.name}.updated_at = m.value ->> 2")
_MOVE_NEXT = (
    update(_T)
    .where(_T.c.id == bindparam("b_id"), _T.c.status == bindparam("b_status"),
           _T.c.updated_at == bindparam("b_updated_at"))
    .values(next_reminder_at=bindparam("b_next"))
)
# PostgreSQL: the chunk's moves in one statement (a JSON document, as the inserts)
_PG_MOVE_NEXT = text(
    f"UPDATE {_T.name} SET next_reminder_at = m.next_at "
    "FROM json_to_recordset(CAST(:moves AS json)) AS m(id integer, status varchar, updated_at timestamptz, "
    "next_at timestamptz) "
    f"WHERE {_T.name}.id = m.id AND {_T.name}.status = m.status AND {_T.name}.updated_at = m.updated_at")


def move_next(session: Session, moves: list[tuple], postgres: bool) -> None:
    """Move each task's ``next_reminder_at`` on, if its status and ``updated_at`` are still those read."""
    if not moves:
        return
    if postgres:
        document = json.dumps([{"id": task_id, "status": status, "updated_at": _iso(updated_at),
                                "next_at": _iso(next_at)} for task_id, status, updated_at, next_at in moves])
        session.execute(_PG_MOVE_NEXT, {"moves": document})
        return
    session.connection().execute(_MOVE_NEXT, [
        {"b_id": task_id, "b_status": status, "b_updated_at": updated_at, "b_next": next_at}
        for task_id, status, updated_at, next_at in moves])


def _iso(moment: dt.datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()
