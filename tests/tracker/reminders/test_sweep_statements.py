"""The sweep's SQL is set-based: the statements it sends grow with its chunks, never with the tasks
or notices in a chunk (counted at the driver with a ``before_cursor_execute`` listener)."""

from __future__ import annotations

import time_machine
from sqlalchemy import event

from tests.tracker.reminders.test_sweep import cst, new_task
from tracker.reminders.sweep import sweep


class StatementCounter:
    def __init__(self, engine) -> None:
        self.engine = engine
        self.count = 0

    def _count(self, conn, cursor, statement, parameters, context, executemany) -> None:
        self.count += 1

    def __enter__(self) -> StatementCounter:
        event.listen(self.engine, "before_cursor_execute", self._count)
        return self

    def __exit__(self, *exc) -> None:
        event.remove(self.engine, "before_cursor_execute", self._count)


def _owing_tasks(session, world, prefix: str, n: int) -> None:
    """n tasks assigned 2026-09-24, due 2026-10-12, half with a cooperating unit: on 2026-10-14
    each owes its 交办单, a 签收提醒 and a 催办通知, to two or three people."""
    with time_machine.travel(cst(2026, 9, 24, 10, 0), tick=False):
        for i in range(n):
            new_task(session, world, f"{prefix}{i}", cooperating=("住建局",) if i % 2 else ())


def _counted_sweep(session, engine, now, **kwargs):
    with StatementCounter(engine) as counter:
        report = sweep(session, now, **kwargs)
    return report, counter.count


def test_statements_do_not_grow_with_the_tasks_of_a_chunk(session, world, engine):
    now = cst(2026, 10, 14, 9, 0)
    _owing_tasks(session, world, "A", 5)
    small, small_count = _counted_sweep(session, engine, now)
    _owing_tasks(session, world, "B", 20)
    large, large_count = _counted_sweep(session, engine, now)

    assert (small.tasks, large.tasks) == (5, 20)
    assert small.chunks == large.chunks == 1
    assert len(large.new_lines) >= 4 * len(small.new_lines) > 0  # four times the notices …
    assert large_count == small_count, (small_count, large_count)  # … and not one statement more


def test_statements_grow_with_the_chunks_only(session, world, engine):
    now = cst(2026, 10, 14, 9, 0)
    _owing_tasks(session, world, "C", 5)
    one_chunk, one_count = _counted_sweep(session, engine, now, chunk_size=5)
    _owing_tasks(session, world, "D", 20)
    four_chunks, four_count = _counted_sweep(session, engine, now, chunk_size=5)

    assert (one_chunk.chunks, four_chunks.chunks) == (1, 4)
    # the first chunk costs what the one-chunk sweep cost; each further one reads the tasks, their
    # histories and cooperating units (and schools), inserts the notices and moves the tasks on
    assert four_count <= one_count * 4
    per_chunk = (four_count - one_count) / 3
    assert per_chunk <= 6, f"{per_chunk} statements per chunk of 5 tasks"
