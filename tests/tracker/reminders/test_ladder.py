"""The ladder, pure: which rungs fall on which working day, what stops and restarts it, catching up
after an outage, and the sending window. Dates are checked by hand against the 2026 holidays
(chinese-calendar): 中秋 9-25..9-27, 国庆 10-01..10-07, 调休上班 Sunday 9-20 and Saturday 10-10."""

from __future__ import annotations

import datetime as dt

import pytest

from tracker.calendar import CHINA
from tracker.notices.models import Rung
from tracker.plans import ReminderLadder
from tracker.reminders.ladder import (
    Audience,
    LadderSettingsError,
    TaskClock,
    ladder_settings,
    rungs_due,
    window_opening,
)
from tracker.tasks.models import TaskStatus as S


def cst(y, m, d, hh=None, mm=0) -> dt.datetime:
    """A time in China; without an hour, the ladder's time of day (08:30)."""
    return dt.datetime(y, m, d, 8 if hh is None else hh, 30 if hh is None else mm, tzinfo=CHINA)


ASSIGNED = cst(2026, 9, 24, 10, 0)  # Thursday before 中秋
DUE = dt.date(2026, 10, 12)  # Monday after 国庆 and the 调休 Saturday


def clock(status=S.assigned, **kw) -> TaskClock:
    return TaskClock(status=status, due_on=kw.pop("due_on", DUE), assigned_at=kw.pop("assigned_at", ASSIGNED), **kw)


def due_at(c: TaskClock, now: dt.datetime, settings: ReminderLadder | None = None):
    return [(r.rung, r.occurrence, r.at) for r in rungs_due(c, now, settings).due]


def test_assignment_is_owed_at_once_and_the_first_resend_skips_the_mid_autumn_holiday():
    state = rungs_due(clock(), cst(2026, 9, 24, 10, 1))
    assert [(r.rung, r.occurrence) for r in state.due] == [(Rung.assigned, 0)]
    assert state.due[0].audience is Audience.unit
    # one working day after Thu 9-24: Fri 9-25 is 中秋, 9-26/27 the weekend → Mon 9-28 08:30
    assert state.next_at == cst(2026, 9, 28)


def test_unsigned_task_is_reminded_every_working_day_and_only_the_latest_resend_is_owed():
    # 9-28 (1st), 9-29 (2nd), 9-30 (3rd); asked on 9-30 09:00 only the 3rd is owed (the others
    # were owed before: their keys are in the store if they were sent)
    state = rungs_due(clock(), cst(2026, 9, 30, 9, 0))
    assert [(r.rung, r.occurrence, r.at) for r in state.due] == [
        (Rung.assigned, 0, ASSIGNED), (Rung.ack_resend, 3, cst(2026, 9, 30))]
    # next: 国庆 10-01..07 → Thu 10-08, which is also the 临期提醒 (3 working days before Mon 10-12:
    # Sat 10-10 is a 调休 working day, Fri 10-09, Thu 10-08)
    assert state.next_at == cst(2026, 10, 8)


def test_signed_task_gets_no_resend():
    state = rungs_due(clock(S.accepted, acknowledged_at=cst(2026, 9, 24, 11)), cst(2026, 9, 29, 9))
    assert [r.rung for r in state.due] == [Rung.assigned]
    assert state.next_at == cst(2026, 10, 8)


@pytest.mark.parametrize(("now", "expected", "next_at"), [
    # 临期 3 working days before: Thu 10-08, right after 国庆
    (cst(2026, 10, 8, 9), (Rung.due_soon, 3, cst(2026, 10, 8)), cst(2026, 10, 10)),
    # 临期 1 working day before: the 调休 Saturday 10-10
    (cst(2026, 10, 10, 9), (Rung.due_soon, 1, cst(2026, 10, 10)), cst(2026, 10, 12)),
    # 到期 on Mon 10-12 (Sunday 10-11 is no working day)
    (cst(2026, 10, 12, 9), (Rung.due_today, 0, cst(2026, 10, 12)), cst(2026, 10, 14)),
    # 催办 every 2 working days after: Wed 10-14, Fri 10-16, Tue 10-20
    (cst(2026, 10, 14, 9), (Rung.chase, 1, cst(2026, 10, 14)), cst(2026, 10, 15)),
    (cst(2026, 10, 16, 9), (Rung.chase, 2, cst(2026, 10, 16)), cst(2026, 10, 20)),
    (cst(2026, 10, 20, 9), (Rung.chase, 3, cst(2026, 10, 20)), cst(2026, 10, 22)),
])
def test_deadline_rungs_fall_on_working_days(now, expected, next_at):
    c = clock(S.in_progress, acknowledged_at=cst(2026, 9, 24, 11))
    state = rungs_due(c, now)
    family = (Rung.due_soon, Rung.due_today, Rung.chase)
    deadline = [(r.rung, r.occurrence, r.at) for r in state.due if r.rung in family]
    assert deadline == [expected]
    assert state.next_at == next_at


def test_escalation_three_working_days_overdue_to_office_and_supervisor():
    c = clock(S.in_progress, acknowledged_at=cst(2026, 9, 24, 11))
    assert Rung.escalation not in [r.rung for r in rungs_due(c, cst(2026, 10, 15, 8, 29)).due]
    state = rungs_due(c, cst(2026, 10, 15, 8, 30))
    escalation = [r for r in state.due if r.rung is Rung.escalation]
    assert [(r.at, r.audience) for r in escalation] == [(cst(2026, 10, 15), Audience.office_and_supervisor)]
    assert [r.audience for r in state.due if r.rung is Rung.chase] == [Audience.unit_and_head]


@pytest.mark.parametrize("status", [S.submitted, S.verified, S.withdrawn])
def test_ladder_stops_when_the_work_is_handed_in_or_closed(status):
    state = rungs_due(clock(status), cst(2026, 10, 20, 9))
    assert state.due == () and state.next_at is None


def test_return_restarts_the_clock_without_replaying_what_fell_while_stopped():
    # submitted 10-13, returned Mon 10-19 09:00: chase 2 (10-16) and the escalation day (10-15)
    # fell while it was stopped; the 退回通知 and the 督办单 are owed now, the next chase 10-20
    returned = cst(2026, 10, 19, 9)
    c = clock(S.in_progress, acknowledged_at=cst(2026, 9, 24, 11), restarted_at=returned,
              last_returned_at=returned, returns=1)
    state = rungs_due(c, cst(2026, 10, 19, 9, 1))
    assert [(r.rung, r.occurrence, r.at) for r in state.due] == [
        (Rung.assigned, 0, ASSIGNED), (Rung.escalation, 0, returned), (Rung.returned, 1, returned)]
    assert state.next_at == cst(2026, 10, 20)


def test_after_an_outage_only_the_newest_deadline_rung_is_owed():
    # the sweep did not run from 10-07 to 10-14 09:00: 临期×2 and 到期 are not replayed, the 催办 is
    c = clock(S.accepted, acknowledged_at=cst(2026, 9, 24, 11))
    assert due_at(c, cst(2026, 10, 14, 9)) == [(Rung.assigned, 0, ASSIGNED), (Rung.chase, 1, cst(2026, 10, 14))]


def test_due_date_on_a_holiday_is_reminded_on_the_last_working_day_before():
    # due Sat 10-03 (国庆): 到期提醒 on Wed 9-30; the 1-day 临期 falls on that day too and gives way
    c = clock(S.accepted, due_on=dt.date(2026, 10, 3), acknowledged_at=cst(2026, 9, 24, 11))
    assert due_at(c, cst(2026, 9, 30, 9))[-1] == (Rung.due_today, 0, cst(2026, 9, 30))
    assert due_at(c, cst(2026, 9, 29, 9))[-1] == (Rung.due_soon, 3, cst(2026, 9, 28))


def test_rungs_before_the_assignment_are_not_owed():
    # assigned Fri 10-09 for Mon 10-12: the 3-day 临期 (10-08) was before it, the 1-day one is after
    c = clock(assigned_at=cst(2026, 10, 9, 15))
    state = rungs_due(c, cst(2026, 10, 9, 15, 1))
    assert [r.rung for r in state.due] == [Rung.assigned]
    assert state.next_at == cst(2026, 10, 10)  # the 调休 Saturday: both 签收提醒 and 临期 fall there


def test_plan_settings_change_the_ladder():
    settings = ladder_settings({"reminders": {"due_soon_working_days": [5], "remind_on_due_date": False,
                                              "chase_every_working_days": 1, "send_window_start": "09:00"}})
    c = clock(S.accepted, acknowledged_at=cst(2026, 9, 24, 11))
    # 5 working days before Mon 10-12: 10-10, 10-09, 10-08, 9-30, 9-29 → 9-29 at 09:00
    assert due_at(c, cst(2026, 9, 29, 9), settings)[-1] == (Rung.due_soon, 5, cst(2026, 9, 29, 9, 0))
    # no 到期提醒; 催办 every working day from Tue 10-13
    assert rungs_due(c, cst(2026, 10, 12, 10), settings).next_at == cst(2026, 10, 13, 9, 0)


def test_defaults_when_the_plan_has_no_reminders_and_a_clear_error_when_it_is_broken():
    assert ladder_settings({}) == ReminderLadder()
    assert ladder_settings(None).chase_every_working_days == 2
    with pytest.raises(LadderSettingsError, match="提醒"):
        ladder_settings({"reminders": {"chase_every_working_days": 0}})


@pytest.mark.parametrize(("moment", "opens"), [
    (cst(2026, 10, 9, 10, 0), cst(2026, 10, 9, 10, 0)),  # inside the window
    (cst(2026, 10, 9, 7, 0), cst(2026, 10, 9, 8, 30)),  # before 08:30
    (cst(2026, 10, 9, 18, 0), cst(2026, 10, 10, 8, 30)),  # Friday evening → the 调休 Saturday
    (cst(2026, 9, 30, 19, 0), cst(2026, 10, 8, 8, 30)),  # eve of 国庆 → after the holiday
    (cst(2026, 10, 3, 12, 0), cst(2026, 10, 8, 8, 30)),  # inside the holiday
])
def test_sending_window(moment, opens):
    assert window_opening(moment) == opens
    assert window_opening(moment, urgent=True) == moment


def test_naive_time_is_refused():
    with pytest.raises(ValueError, match="naive"):
        rungs_due(clock(), dt.datetime(2026, 10, 1, 9))
