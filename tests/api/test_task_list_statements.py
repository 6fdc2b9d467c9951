"""The task list API costs a fixed, small number of SQL statements per request, and none of them
reads the campaign's plan (32 KB of JSON in a real county): the light rule comes from a cache keyed
by the plan's 提醒 section. Counted at the driver with a ``before_cursor_execute`` listener."""

from __future__ import annotations

import re

from sqlalchemy import event


class Statements:
    def __init__(self, engine) -> None:
        self.engine = engine
        self.seen: list[str] = []

    def _record(self, conn, cursor, statement, parameters, context, executemany) -> None:
        self.seen.append(" ".join(statement.split()))

    def __enter__(self) -> Statements:
        event.listen(self.engine, "before_cursor_execute", self._record)
        return self

    def __exit__(self, *exc) -> None:
        event.remove(self.engine, "before_cursor_execute", self._record)


def _listed(client, engine, headers, code, query=""):
    from tracker.db import get_engine

    with Statements(get_engine()) as counted:
        r = client.get(f"/api/v1/campaigns/{code}/tasks{query}", headers=headers)
    assert r.status_code == 200, r.text
    return r.json(), counted.seen


def test_the_office_task_list_costs_a_few_statements_and_never_reads_the_plan(client, engine, headers, api_world):
    from api.v1.task_list_cache import answers

    client.get(f"/api/v1/campaigns/{api_world.code}/tasks", headers=headers["office"])  # warm: caches filled
    answers.clear()  # the list computed, not a kept answer (tests/api/test_task_list_cache.py)
    page, seen = _listed(client, engine, headers["office"], api_world.code)
    assert page["total"] == len(page["items"]) > 0
    # token, user and campaign one statement; the page with its total, units and pending 延期申请
    # one more; the working-day calendar one (before: 8, the whole plan among them; then 5)
    assert len(seen) <= 3, seen
    # asked again: the kept answer, one statement (token, user, campaign and its list's revision)
    again, kept = _listed(client, engine, headers["office"], api_world.code)
    assert again == page and len(kept) == 1, kept
    seen += kept
    # the plan column selected whole (not a JSON path into it, which is the 提醒 section alone)
    whole_plan = re.compile(r'(?<![(])campaign\."?plan"?\s*(,|FROM)')
    assert not [s for s in seen if whole_plan.search(s)], seen


def test_the_store_calendar_is_read_in_one_statement_and_sees_an_import_at_once(engine, session):
    """Both calendar tables in one statement: an override stored now is the calendar's answer at the
    next read (a working Saturday; a Wednesday made a holiday)."""
    import datetime as dt

    from api.deps import store_calendar
    from tracker.calendar import reset_active_calendar
    from tracker.calendar.models import CalendarYear, WorkdayOverride

    saturday, wednesday = dt.date(2031, 1, 4), dt.date(2031, 1, 8)
    try:
        with Statements(engine) as counted:
            before = store_calendar(session)
        assert len(counted.seen) == 1, counted.seen
        assert (before.is_working_day(saturday), before.is_working_day(wednesday)) == (False, True)
        session.add(CalendarYear(year=2031, source="示例（非官方）", illustrative=True, entered_by="韩静"))
        session.add_all([WorkdayOverride(date=saturday, is_working_day=True, name="调休上班", year=2031,
                                         source="示例", entered_by="韩静"),
                         WorkdayOverride(date=wednesday, is_working_day=False, name="示例假日", year=2031,
                                         source="示例", entered_by="韩静")])
        session.commit()
        after = store_calendar(session)
        assert (after.is_working_day(saturday), after.is_working_day(wednesday)) == (True, False)
    finally:
        reset_active_calendar()
