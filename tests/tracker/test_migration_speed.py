"""Migration 0015_speed: the rungs existing notice items carry are recorded as owed and expanded,
so an upgraded sweep owes none of them again (SQLite; the same SQL-free Python on PostgreSQL)."""

from __future__ import annotations

import sqlite3

from alembic import command

from tracker.db import alembic_config


def test_existing_items_become_owed_notices_already_expanded(tmp_path):
    url = f"sqlite:///{tmp_path / 'm.db'}"
    command.upgrade(alembic_config(url), "0012_assign")
    db = sqlite3.connect(tmp_path / "m.db")
    at = "2026-10-14 01:00:00.000000"
    db.execute("INSERT INTO campaign (id, code, name, county, standard_id, plan, created_at, updated_at) "
               "VALUES (1, 'c', 'c', 'c', 'national-2017', '{}', ?, ?)", (at, at))
    items = [  # task 7: a 交办单 to two people and a robot, a 催办通知 counted from the due date
        ("7:assigned:0:p1", "assigned", 0, '{"light": "绿"}'),
        ("7:assigned:0:p2", "assigned", 0, '{"light": "绿"}'),
        ("7:assigned:0:dingtalk:群", "assigned", 0, '{"light": "绿", "mention": ["13800138000"]}'),
        ("7:chase:1@2026-10-12:p1", "chase", 1, '{"light": "红", "days_overdue": 2}'),
        ("message:3:dead_letter:1:a@b.cn", "dead_letter", 1, "{}"),  # not a task's rung
    ]
    db.executemany(
        "INSERT INTO noticeitem (campaign_id, task_id, rung, occurrence, idempotency_key, recipient_name, "
        "recipient_address, in_copy, urgent, payload, not_before, created_at) "
        "VALUES (1, ?, ?, ?, ?, '', 'x@y.cn', 0, 0, ?, ?, ?)",
        [(None if rung == "dead_letter" else 7, rung, occ, key, payload, at, at) for key, rung, occ, payload in items])
    db.commit()
    db.close()

    command.upgrade(alembic_config(url), "0015_speed")
    db = sqlite3.connect(tmp_path / "m.db")
    rows = db.execute("SELECT task_id, rung, occurrence, idempotency_key, payload, expanded_at "
                      "FROM owednotice ORDER BY idempotency_key").fetchall()
    db.close()
    assert [(r[0], r[1], r[2], r[3]) for r in rows] == [(7, "assigned", 0, "7:assigned:0:"),
                                                        (7, "chase", 1, "7:chase:1@2026-10-12:")]
    assert all(r[5] == at for r in rows)  # expanded when the items were written
    assert "mention" not in rows[0][4]
