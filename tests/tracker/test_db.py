import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from sqlmodel import Session, select

from tracker.db import session_scope
from tracker.org.models import Campaign


def test_timestamps_round_trip_as_utc(engine):
    shanghai = dt.datetime(2026, 12, 1, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
    with session_scope(engine) as s:
        s.add(Campaign(code="c1", name="测试", county="示例县", standard_id="national-2017",
                       created_at=shanghai, updated_at=shanghai))
    with Session(engine) as s:
        got = s.exec(select(Campaign)).one()
    assert got.created_at == shanghai
    assert got.created_at.utcoffset() == dt.timedelta(0)
    assert got.created_at.hour == 1  # 09:00 in Shanghai is 01:00 UTC


def test_naive_datetime_is_rejected_and_nothing_stored(engine):
    naive = dt.datetime(2026, 12, 1, 9, 0)
    with pytest.raises(sa.exc.StatementError, match="naive datetime"):
        with session_scope(engine) as s:
            s.add(Campaign(code="c2", name="测试", county="示例县", standard_id="national-2017",
                           created_at=naive, updated_at=naive))
    with Session(engine) as s:
        assert s.exec(select(Campaign)).all() == []


def test_migrations_are_at_head(engine):
    """Models and the Alembic history agree: autogenerate finds nothing to add."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from sqlmodel import SQLModel

    import tracker.models  # noqa: F401
    from tracker.db import include_name

    with engine.connect() as conn:
        # APScheduler's job table may be there (a scheduler test ran): it is not ours to compare
        context = MigrationContext.configure(conn, opts={"include_name": include_name})
        diff = compare_metadata(context, SQLModel.metadata)
    assert diff == []


def test_a_busy_worker_keeps_its_connections(engine):
    """16 requests at once (a web worker under load) each read through ``read_alone``: the second
    burst opens no connection (before session 6 all but 5 were opened and closed per request)."""
    import threading

    from tracker.db import read_alone

    opened = []
    sa.event.listen(engine, "connect", lambda *_: opened.append(1))
    engine.dispose()  # start from an empty pool, listening

    def burst() -> None:
        gate = threading.Barrier(16)
        answers = []

        def read() -> None:
            with read_alone(engine) as connection:
                gate.wait(timeout=30)  # all 16 hold a connection at the same time
                answers.append(connection.execute(sa.text("SELECT 1")).scalar())

        threads = [threading.Thread(target=read) for _ in range(16)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert answers == [1] * 16

    burst()
    assert len(opened) == 16
    burst()
    assert len(opened) == 16  # every connection came back to the pool and was used again
