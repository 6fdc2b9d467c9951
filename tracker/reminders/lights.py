"""Lights (绿/黄/红) per task and per unit, counted in working days.

- 红: overdue — with its unit (待签收, 已签收, 办理中) after its due date.
- 黄: with its unit and due within the plan's 黄灯临期工作日 (3 working days unless the plan says
  otherwise: ``yellow_within(campaign)``, the one rule the pages, mail and briefings use), or behind the
  expected progress for the time elapsed (序时进度): reported progress below the share of working
  days gone between assignment and the due date.
- 绿: everything else with the unit on track, and work handed in (已提交) or closed (已销号).
A withdrawn task (已撤销) has no light. A unit's light is its worst task's; a unit without a
lit task has none.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from enum import Enum
from functools import lru_cache
from types import SimpleNamespace
from typing import Any

from tracker.clock import zone
from tracker.calendar import WorkingDayCalendar, active_calendar
from tracker.tasks.models import TaskStatus
from tracker.org.queries import reminders_section, section_text

WITH_UNIT = frozenset({TaskStatus.assigned, TaskStatus.accepted, TaskStatus.in_progress})
DEFAULT_YELLOW_WITHIN = 3


class Light(str, Enum):
    green = "绿"
    yellow = "黄"
    red = "红"

    @property
    def rank(self) -> int:
        return _RANK[self]


_RANK = {Light.green: 0, Light.yellow: 1, Light.red: 2}


def yellow_within(campaign: Any) -> int:
    """The campaign's 黄灯临期工作日 (its plan's 提醒 section); the default when the plan has none
    or an invalid one (the plan check reports that)."""
    from tracker.reminders.ladder import LadderSettingsError, ladder_settings

    try:
        return ladder_settings(getattr(campaign, "plan", None)).yellow_within_working_days
    except LadderSettingsError:
        return DEFAULT_YELLOW_WITHIN


def campaign_yellow_within(session: Any, campaign_id: int) -> int:
    """``yellow_within`` of a campaign in the store, without reading its whole plan: its 提醒 section
    alone (``tracker.tasks.queries.reminders_section``), parsed once per distinct section."""
    return section_yellow_within(reminders_section(session, campaign_id))


def section_yellow_within(section: Any) -> int:
    """``yellow_within`` from a plan's 提醒 section as read from the store (None: the default)."""
    return _yellow_within_of(section_text(section)) if section else DEFAULT_YELLOW_WITHIN


@lru_cache(maxsize=64)
def _yellow_within_of(section: str) -> int:
    return yellow_within(SimpleNamespace(plan={"reminders": json.loads(section)}))


def expected_progress(task: Any, today: dt.date, calendar: WorkingDayCalendar | None = None) -> float:
    """序时进度 in percent: working days elapsed since assignment over those assigned→due."""
    cal = calendar or active_calendar()
    assigned = task.created_at.astimezone(zone()).date()
    total = cal.working_days_between(assigned, task.due_on)
    if total <= 0:
        return 100.0
    elapsed = cal.working_days_between(assigned, today)
    return max(0.0, min(100.0, 100.0 * elapsed / total))


def task_light(task: Any, today: dt.date, *, yellow_within: int = DEFAULT_YELLOW_WITHIN,
               calendar: WorkingDayCalendar | None = None) -> Light | None:
    """The task's light on ``today`` (a date in Asia/Shanghai); None for a withdrawn task."""
    status = TaskStatus(task.status)
    if status is TaskStatus.withdrawn:
        return None
    if status not in WITH_UNIT:
        return Light.green
    if today > task.due_on:
        return Light.red
    cal = calendar or active_calendar()
    if cal.working_days_between(today, task.due_on) <= yellow_within:
        return Light.yellow
    if (task.progress or 0) < expected_progress(task, today, cal):
        return Light.yellow
    return Light.green


def worst(lights: Iterable[Light | None]) -> Light | None:
    """The worst of some lights (None ignored); None when there is none."""
    found = [light for light in lights if light is not None]
    return max(found, key=lambda light: light.rank) if found else None


def unit_lights(tasks: Iterable[Any], today: dt.date, *, yellow_within: int = DEFAULT_YELLOW_WITHIN,
                calendar: WorkingDayCalendar | None = None) -> dict[tuple[str, int], Light]:
    """Each responsible unit's light, keyed ("department", id) or ("school", id)."""
    cal = calendar or active_calendar()
    out: dict[tuple[str, int], Light] = {}
    for task in tasks:
        light = task_light(task, today, yellow_within=yellow_within, calendar=cal)
        if light is None:
            continue
        if task.department_id is not None:
            key = ("department", task.department_id)
        elif task.responsible_school_id is not None:
            key = ("school", task.responsible_school_id)
        else:
            continue
        current = out.get(key)
        if current is None or light.rank > current.rank:
            out[key] = light
    return out


def department_light(tasks: Iterable[Any], today: dt.date, *, yellow_within: int = DEFAULT_YELLOW_WITHIN,
                     calendar: WorkingDayCalendar | None = None) -> Light | None:
    """A unit's light from its tasks: the worst one's."""
    cal = calendar or active_calendar()
    return worst(task_light(t, today, yellow_within=yellow_within, calendar=cal) for t in tasks)
