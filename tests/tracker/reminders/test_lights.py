"""Lights: 红 overdue, 黄 due within 3 working days or behind 序时进度, 绿 otherwise; a unit shows its
worst task's light. Dates around 国庆 2026 (10-01..10-07 off, Saturday 10-10 a working day)."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import pytest

from tracker.calendar import CHINA
from tracker.reminders.lights import Light, department_light, expected_progress, task_light, unit_lights, worst
from tracker.tasks.models import TaskStatus as S

ASSIGNED = dt.datetime(2026, 9, 28, 9, 0, tzinfo=CHINA)  # Monday
DUE = dt.date(2026, 10, 20)  # Tuesday


def task(status=S.in_progress, progress=0, due_on=DUE, department_id=1, school_id=None):
    return SimpleNamespace(status=status.value, progress=progress, due_on=due_on, created_at=ASSIGNED,
                           department_id=department_id, responsible_school_id=school_id)


def test_expected_progress_counts_working_days_not_calendar_days():
    # assigned Mon 9-28 → due Tue 10-20: working days 9-29, 9-30, 10-08, 10-09, 10-10 (调休), 10-12 … 10-20
    # = 2 + 3 + 7 = 12. On Sat 10-10 five have passed (9-29, 9-30, 10-08, 10-09, 10-10).
    assert expected_progress(task(), dt.date(2026, 10, 10)) == pytest.approx(100 * 5 / 12)
    # the holiday adds nothing: 10-07 is still 2 of 12
    assert expected_progress(task(), dt.date(2026, 10, 7)) == pytest.approx(100 * 2 / 12)


@pytest.mark.parametrize(("t", "today", "light"), [
    (task(progress=20), dt.date(2026, 10, 7), Light.green),  # 20% ≥ 16.7% expected
    (task(progress=10), dt.date(2026, 10, 7), Light.yellow),  # behind 序时进度
    (task(progress=70), dt.date(2026, 10, 14), Light.green),  # 4 working days left, 8 of 12 gone (66.7%)
    (task(progress=90), dt.date(2026, 10, 15), Light.yellow),  # ahead, but 3 working days left
    (task(progress=99), dt.date(2026, 10, 20), Light.yellow),  # due today
    (task(progress=99), dt.date(2026, 10, 21), Light.red),  # overdue
    (task(S.assigned), dt.date(2026, 10, 21), Light.red),  # unsigned and overdue
    (task(S.submitted), dt.date(2026, 10, 21), Light.green),  # handed in: the clock stopped
    (task(S.verified), dt.date(2026, 10, 21), Light.green),
    (task(S.withdrawn), dt.date(2026, 10, 21), None),
])
def test_task_light(t, today, light):
    assert task_light(t, today) is light


def test_yellow_window_is_a_setting():
    assert task_light(task(progress=90), dt.date(2026, 10, 14), yellow_within=5) is Light.yellow


def test_unit_light_is_its_worst_task():
    today = dt.date(2026, 10, 15)
    tasks = [task(progress=100, department_id=1), task(progress=90, department_id=1),
             task(progress=100, due_on=dt.date(2026, 10, 14), department_id=2),
             task(progress=100, due_on=dt.date(2026, 12, 1), department_id=None, school_id=7),
             task(S.withdrawn, due_on=dt.date(2026, 10, 1), department_id=3)]
    assert department_light(tasks[:2], today) is Light.yellow
    assert unit_lights(tasks, today) == {("department", 1): Light.yellow, ("department", 2): Light.red,
                                         ("school", 7): Light.green}
    assert department_light([tasks[4]], today) is None
    assert worst([None, Light.green, Light.red, Light.yellow]) is Light.red
