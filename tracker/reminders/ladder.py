"""The reminder ladder: which notices a task is owed at a moment, and when the next one falls.

Pure: no store, no clock. Given what matters of a task (``TaskClock``), the campaign's ladder
settings (``ReminderLadder``, from the plan's 提醒 section; defaults when absent) and the
working-day calendar, ``rungs_due(clock, now)`` lists the rungs due at or before ``now`` and the
time of the next one.

The rungs, with the defaults (all counts are working days; every rung but the 交办单 falls at the
opening of the sending window, 08:30 Asia/Shanghai, on a working day):

    任务交办单  at assignment                                   to the unit (cooperating units in copy)
    签收提醒    every 1 working day after assignment while       to the unit
                unsigned, until the due date (from then on the
                到期提醒 and 催办通知 carry the 签收 link)
    临期提醒    3 and 1 working days before the due date         to the unit
    到期提醒    on the due date (the last working day on or      to the unit
                before it when it is a holiday)
    催办通知    every 2 working days after the due date          to the unit and its head
    督办单      3 working days after the due date                to the office and the 分管领导
    退回通知    when the office returns the task                 to the unit

The ladder runs while the task is with its unit (待签收, 已签收, 办理中). 已提交 stops it, 已销号 and
已撤销 end it. 退回 (and a 重新打开 by the data) start it again: rungs that fell while it was
stopped are not sent afterwards, except the 督办单, which is owed as soon as the task is 3 working
days overdue with the clock running.

Catching up. When the sweep has not run for a while (the scheduler was down over a weekend), a
task may be owed several rungs of one kind at once. Only the latest of each kind is listed: the
latest 签收提醒, and of the deadline rungs (临期 → 到期 → 催办) only the newest, so nobody gets
"3 days left" after the due date has passed. Nothing is owed twice either way: each rung and
occurrence has its own idempotency key in the store.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import Enum
from functools import lru_cache
from typing import Any

from pydantic import ValidationError

from tracker.clock import zone
from tracker.calendar import WorkingDayCalendar, active_calendar
from tracker.plans import ReminderLadder
from tracker.notices.models import Rung
from tracker.tasks.models import TaskStatus
from tracker.errors import JunhengError

RUNG_LABELS: dict[Rung, str] = {
    Rung.assigned: "任务交办单",
    Rung.ack_resend: "签收提醒",
    Rung.due_soon: "临期提醒",
    Rung.due_today: "到期提醒",
    Rung.chase: "催办通知",
    Rung.escalation: "督办单",
    Rung.returned: "退回通知",
    Rung.extension: "延期申请审批结果",
    Rung.coop_chase: "配合事项催办",
    Rung.changed: "任务变更通知",
    Rung.dead_letter: "投递失败通知",
}


class Audience(str, Enum):
    """Who a rung goes to (the sweep turns this into people and addresses)."""

    unit = "unit"  # the responsible unit's contacts; on the 交办单 cooperating units' contacts in copy
    unit_and_head = "unit_and_head"  # the unit's contacts and its head (负责人)
    office_and_supervisor = "office_and_supervisor"  # the office's people and the unit's 分管领导


RUNG_AUDIENCE: dict[Rung, Audience] = {
    Rung.assigned: Audience.unit,
    Rung.ack_resend: Audience.unit,
    Rung.due_soon: Audience.unit,
    Rung.due_today: Audience.unit,
    Rung.chase: Audience.unit_and_head,
    Rung.escalation: Audience.office_and_supervisor,
    Rung.returned: Audience.unit,
    Rung.changed: Audience.unit,
}

# The ladder runs while the task is with its unit (the overdue clock's states).
LADDER_RUNNING = frozenset({TaskStatus.assigned, TaskStatus.accepted, TaskStatus.in_progress})

DEFAULT_LADDER = ReminderLadder()


class LadderSettingsError(JunhengError, ValueError):
    """The stored plan's 提醒 section cannot be read (Chinese message)."""


def ladder_settings(plan: Mapping[str, Any] | None) -> ReminderLadder:
    """The ladder of a campaign's stored plan (``Campaign.plan``); the defaults when it has none."""
    section = (plan or {}).get("reminders")
    if not section:
        return DEFAULT_LADDER
    try:
        return ReminderLadder.model_validate(section)
    except ValidationError as exc:
        problems = "；".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise LadderSettingsError(f"创建方案的「提醒」设置无效：{problems}") from None


@dataclass(frozen=True, slots=True)
class TaskClock:
    """What the ladder needs to know of a task."""

    status: TaskStatus
    due_on: dt.date
    assigned_at: dt.datetime  # when the task was assigned (created)
    acknowledged_at: dt.datetime | None = None
    restarted_at: dt.datetime | None = None  # the last 退回 or 重新打开: the clock runs again from here
    last_returned_at: dt.datetime | None = None  # the last 退回
    returns: int = 0  # how many times the task was returned (the 退回通知's occurrence)
    transfers: int = 0  # 转办 (issue 12 §3): the 任务交办单's occurrence, one per lead unit in turn

    @classmethod
    def of(cls, task: Any, *, restarted_at: dt.datetime | None = None,
           last_returned_at: dt.datetime | None = None, returns: int = 0,
           transferred_at: dt.datetime | None = None, transfers: int = 0) -> TaskClock:
        """``transferred_at``: the last 转办, when the new lead unit was assigned the task (its
        交办单 and 签收提醒 count from then)."""
        return cls(status=TaskStatus(task.status), due_on=task.due_on,
                   assigned_at=transferred_at or task.created_at,
                   acknowledged_at=task.acknowledged_at, restarted_at=restarted_at,
                   last_returned_at=last_returned_at, returns=returns, transfers=transfers)

    @property
    def since(self) -> dt.datetime:
        """The start of the clock's current run."""
        if self.restarted_at is not None and self.restarted_at > self.assigned_at:
            return self.restarted_at
        return self.assigned_at


@dataclass(frozen=True, slots=True)
class RungDue:
    rung: Rung
    occurrence: int  # 临期提醒: working days before; 签收提醒/催办通知: the n-th; 退回通知: the n-th return
    at: dt.datetime  # when it falls (aware)

    @property
    def label(self) -> str:
        return RUNG_LABELS[self.rung]

    @property
    def audience(self) -> Audience:
        return RUNG_AUDIENCE[self.rung]


@lru_cache(maxsize=4096)
def _window_start(day: dt.date, start: dt.time) -> dt.datetime:
    """The opening of the sending window on ``day`` (China time); a sweep asks for the same few days
    over and over."""
    return dt.datetime.combine(day, start, tzinfo=zone())


@dataclass(frozen=True, slots=True)
class LadderState:
    due: tuple[RungDue, ...]  # due at or before the moment asked, oldest first
    next_at: dt.datetime | None  # the next rung after that moment; None when nothing more is owed


class _Ladder:
    """One task's ladder under one setting and one calendar."""

    def __init__(self, clock: TaskClock, settings: ReminderLadder, calendar: WorkingDayCalendar,
                 now: dt.datetime) -> None:
        self.clock = clock
        self.settings = settings
        self.cal = calendar
        # compared with the rungs' times, which are China time: in the same zone object, Python
        # compares the clock fields directly instead of working out both UTC offsets each time
        self.now = now.astimezone(zone())
        self.today = self.now.date()
        self.since = clock.since.astimezone(zone())
        due_on = clock.due_on
        # a due date on a holiday is reminded on the last working day before it
        self.due_day = due_on if calendar.is_working_day(due_on) else calendar.add_working_days(due_on, -1)

    def at(self, day: dt.date) -> dt.datetime:
        return _window_start(day, self.settings.send_window_start)

    def pick(self, candidates: Iterable[RungDue]) -> tuple[RungDue | None, dt.datetime | None]:
        """The latest candidate due now and the first one after now (candidates in time order)."""
        latest: RungDue | None = None
        upcoming: dt.datetime | None = None
        for c in candidates:
            if c.at < self.since:
                continue  # fell before the clock's current run
            if c.at <= self.now:
                latest = c
            else:
                upcoming = c.at
                break
        return latest, upcoming

    def series(self, rung: Rung, start: dt.date, step: int, stop_before: dt.date | None = None):
        """Rungs every ``step`` working days after ``start`` (occurrence k on the k·step-th
        working day), from just before today on: the earlier ones can only be superseded."""
        until = self.today if stop_before is None else min(self.today, stop_before)
        elapsed = self.cal.working_days_between(start, until)
        k = max(1, elapsed // step - 1)
        while True:
            day = self.cal.add_working_days(start, k * step)
            if stop_before is not None and day >= stop_before:
                return
            yield RungDue(rung, k, self.at(day))
            k += 1

    def deadline(self) -> list[RungDue]:
        """临期 (farthest first) and 到期 rungs, in time order (催办 come after them)."""
        out: list[RungDue] = []
        for days in sorted(self.settings.due_soon_working_days, reverse=True):
            day = self.cal.add_working_days(self.clock.due_on, -days)
            if day < self.due_day:
                out.append(RungDue(Rung.due_soon, days, self.at(day)))
        if self.settings.remind_on_due_date:
            out.append(RungDue(Rung.due_today, 0, self.at(self.due_day)))
        out.sort(key=lambda r: r.at)
        return out


def rungs_due(clock: TaskClock, now: dt.datetime, settings: ReminderLadder | None = None,
              calendar: WorkingDayCalendar | None = None) -> LadderState:
    """The rungs owed at ``now`` (at most one per kind, see the module doc) and the next time."""
    if now.tzinfo is None:
        raise ValueError(f"naive datetime {now!r}: pass an aware datetime")
    if clock.status not in LADDER_RUNNING:
        return LadderState((), None)
    ladder = _Ladder(clock, settings or DEFAULT_LADDER, calendar or active_calendar(), now)
    now = ladder.now  # China time, as the rungs (see _Ladder)
    s = ladder.settings
    due: list[RungDue] = []
    upcoming: list[dt.datetime] = []

    def take(latest: RungDue | None, next_at: dt.datetime | None) -> None:
        if latest is not None:
            due.append(latest)
        if next_at is not None:
            upcoming.append(next_at)

    # 任务交办单 and 退回通知: once each, whatever happened since
    assigned = RungDue(Rung.assigned, clock.transfers, clock.assigned_at)
    if clock.assigned_at.astimezone(zone()) <= now:
        due.append(assigned)
    else:
        upcoming.append(assigned.at)
    if clock.returns and clock.last_returned_at is not None:
        returned = RungDue(Rung.returned, clock.returns, clock.last_returned_at)
        due.append(returned) if clock.last_returned_at.astimezone(zone()) <= now else upcoming.append(returned.at)

    # 签收提醒 while unsigned, until the due date
    if clock.status is TaskStatus.assigned and clock.acknowledged_at is None:
        assigned_day = clock.assigned_at.astimezone(zone()).date()
        take(*ladder.pick(ladder.series(Rung.ack_resend, assigned_day, s.ack_resend_after_working_days,
                                        stop_before=ladder.due_day)))

    # 临期 → 到期 → 催办: one family, only the newest is sent
    before, before_next = ladder.pick(ladder.deadline())
    chase, chase_next = ladder.pick(ladder.series(Rung.chase, clock.due_on, s.chase_every_working_days))
    take(chase or before, before_next or chase_next)

    # 督办单: owed once the task is overdue long enough with the clock running
    escalation = RungDue(Rung.escalation, 0,
                         ladder.at(ladder.cal.add_working_days(clock.due_on, s.escalate_after_working_days)))
    if escalation.at < ladder.since:
        escalation = RungDue(Rung.escalation, 0, clock.since)
        due.append(escalation) if ladder.since <= now else upcoming.append(escalation.at)
    else:
        due.append(escalation) if escalation.at <= now else upcoming.append(escalation.at)

    due.sort(key=lambda r: (r.at, r.rung.value))
    return LadderState(tuple(due), min(upcoming) if upcoming else None)


def window_opening(moment: dt.datetime, settings: ReminderLadder | None = None,
                   calendar: WorkingDayCalendar | None = None, *, urgent: bool = False) -> dt.datetime:
    """The earliest time a message may go out: ``moment`` itself inside the sending window
    (a working day, 08:30–18:00 by default) or when urgent, else the window's next opening."""
    if urgent:
        return moment
    s = settings or DEFAULT_LADDER
    cal = calendar or active_calendar()
    local = moment.astimezone(zone())
    day = local.date()
    if cal.is_working_day(day):
        if local.time() < s.send_window_start:
            return dt.datetime.combine(day, s.send_window_start, tzinfo=zone())
        if local.time() < s.send_window_end:
            return moment
    return dt.datetime.combine(cal.add_working_days(day, 1), s.send_window_start, tzinfo=zone())
