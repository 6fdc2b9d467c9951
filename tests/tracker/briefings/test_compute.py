"""The briefing's figures: computed from the event log as of the end of the week, they agree with
the tracker's own counts at that moment and do not change when the week is computed again later."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from sqlmodel import select

from tests.factories_db import build_world
from tests.tracker.briefings.scenario import WEEK_ENDS, WEEKS, at, build_three_weeks
from tracker.briefings.compute import (
    BriefingError,
    compute_briefing,
    parse_iso_week,
    previous_week,
    rank_key,
)
from tracker.briefings.models import Briefing
from tracker.briefings.service import (
    BriefingNotFound,
    briefing_data,
    get_briefing,
    issue_briefing,
    list_briefings,
)
from tracker.db import session_scope
from tracker.events.models import Event
from tracker.org.models import Campaign
from tracker.tasks import lifecycle

LATER = at(dt.date(2027, 1, 11), 9, 0)  # weeks after the scenario, with more changes made since


def _campaign(session) -> Campaign:
    return session.exec(select(Campaign)).one()


def _compute(engine, week: str, moment: dt.datetime = LATER):
    with time_machine.travel(moment, tick=False):
        with session_scope(engine) as session:
            return compute_briefing(session, _campaign(session), week)


def test_each_week_agrees_with_the_tracker_counts_at_its_end(engine, three_weeks):
    for week in WEEKS:
        data = _compute(engine, week)
        counts = three_weeks.counts[week]
        status = counts.status
        assert data.as_of_date == WEEK_ENDS[week] and not data.partial
        assert data.overall.by_status == status["tasks"]["by_status"]
        assert data.overall.total == status["tasks"]["total"]
        assert data.overall.overdue == status["tasks"]["overdue"]
        assert data.overall.done == counts.verified
        assert data.overall.verified_on_time == counts.verified_on_time
        assert len(data.overdue) == status["tasks"]["overdue"]
        expected = {u["name"]: (u["total"], u["done"], u["overdue"]) for u in status["departments"]}
        got = {u.name: (u.figures.assigned, u.figures.done, u.figures.overdue) for u in data.units}
        assert got == expected
        assert data.overdue_units == [u.short_name for u in sorted(
            (u for u in data.units if u.figures.overdue), key=lambda u: -u.figures.overdue)]

    # the weeks differ, as the scenario made them: nothing verified in W49 but P01, more later
    w49, w50, w51 = (_compute(engine, w) for w in WEEKS)
    assert (w49.week.verified, w50.week.verified) == (1, 2) and w51.week.verified >= 3
    assert w49.week.new_tasks == 60 and w50.week.new_tasks == 0
    assert w49.week.new_by_origin == {"shortfall": 19, "attestation": 33, "finding": 0, "plan": 8, "office": 0}
    assert w50.week.returned == 1 and w50.week.submitted == 3
    assert w50.previous == w49.overall and w51.previous == w50.overall


def test_overdue_units_are_named_and_escalations_counted(engine, three_weeks):
    data = _compute(engine, "2026-W51")
    # the units named with their counts, most overdue first, as a 通报 names them
    counts = {u.short_name: u.figures.overdue for u in data.units if u.figures.overdue}
    assert sum(counts.values()) == len(data.overdue) == 4
    assert data.overdue_sentence == "截至12月20日，{}有逾期任务，请抓紧办理。".format(
        "、".join(f"{name}（{counts[name]}项）" for name in data.overdue_units))
    assert data.overdue_units[0] == "创建办" and counts["创建办"] == 2
    late = {r.title: r for r in data.overdue}
    # P02 (due 12-09) sat with its unit: 7 working days overdue by Sunday 12-20, chased and escalated
    p02 = next(r for r in data.overdue if r.due_on == dt.date(2026, 12, 9))
    assert p02.days_overdue == 7 and p02.escalated and p02.reminders >= 4
    assert [r.days_overdue for r in data.overdue] == sorted((r.days_overdue for r in data.overdue), reverse=True)
    assert data.week.escalated_tasks >= 1 and data.week.escalation_notices >= data.week.escalated_tasks
    assert p02.unit in data.week.escalated_units
    assert all(r.reminders >= 1 for r in late.values())
    # no 督办单 was due before the week of 12-14
    assert _compute(engine, "2026-W50").week.escalated_tasks == 0


def test_rank_light_and_gate(engine, three_weeks):
    data = _compute(engine, "2026-W51")
    ranked = [u for u in data.departments() if u.rank is not None]
    assert [u.rank for u in ranked] == sorted(u.rank for u in ranked) and ranked[0].rank == 1
    for better, worse in zip(ranked, ranked[1:]):
        b, w = better.figures, worse.figures
        assert rank_key(b) <= rank_key(w)
        assert (better.rank == worse.rank) == (rank_key(b) == rank_key(w))
        assert not (b.overdue and not w.overdue)  # overdue work never ranks above none
    assert all(u.light == "红" for u in data.units if u.figures.overdue)
    assert all(u.rank is None for u in data.units if not u.figures.assigned)
    # the self-check gate (12-31) with 30-odd tasks open and a handful verified a week: at risk
    phase = data.phase
    assert phase.code == "self_check" and phase.gate_on == dt.date(2026, 12, 31)
    assert phase.working_days_to_gate == 9 and phase.open_tasks > phase.projected_closed
    assert phase.at_risk is True
    # indicators: the re-assessment of 12-15 against the self-check of 11-30
    assert data.assessment is not None and data.previous_assessment is not None
    equipment = {r.stage: r for r in data.indicators if r.code == "6"}
    assert equipment["primary"].cv_change < 0 and equipment["junior"].cv_change < 0
    assert equipment["junior"].cv_ok is False and equipment["junior"].cv_limit == 0.45
    w49 = _compute(engine, "2026-W49")
    assert w49.previous_assessment is None and all(r.previous_cv is None for r in w49.indicators)


def test_the_same_week_issued_later_gives_the_same_briefing_and_number(engine, tmp_path):
    first: dict[str, dict] = {}

    def issue(week: str) -> None:
        with session_scope(engine) as session:
            briefing = issue_briefing(session, _campaign(session), week)
            first[week] = dict(briefing.content)

    build_three_weeks(engine, tmp_path, on_week_end=issue)
    assert [first[w]["number"] for w in WEEKS] == [1, 2, 3]

    with time_machine.travel(LATER, tick=False):
        with session_scope(engine) as session:
            campaign = _campaign(session)
            # more happens after the weeks: a task of an early week verified late, another withdrawn
            office = next(p for p in campaign_people(session, campaign) if p.is_office)
            from tracker.tasks.models import Task, TaskStatus
            open_tasks = session.exec(select(Task).where(Task.status != TaskStatus.verified.value,
                                                         Task.status != TaskStatus.withdrawn.value)
                                      .order_by(Task.id)).all()
            lifecycle.withdraw(session, open_tasks[0], office, "不再需要")
            for week in (WEEKS[1], WEEKS[0]):  # reissued out of order
                again = issue_briefing(session, campaign, week)
                assert again.number == first[week]["number"] and again.issues == 2
                assert again.content == first[week]
            assert [b.number for b in list_briefings(session, campaign)] == [3, 2, 1]
            assert get_briefing(session, campaign, "2").iso_week == WEEKS[1]
            assert get_briefing(session, campaign, "2026-W51").number == 3
            assert briefing_data(get_briefing(session, campaign, 1)).overall.total == 60
            with pytest.raises(BriefingNotFound, match="第 9 期"):
                get_briefing(session, campaign, 9)
            reissued = session.exec(select(Event).where(Event.type == "briefing.issued")).all()
            assert sum(1 for e in reissued if e.payload["reissue"]) == 2


def campaign_people(session, campaign):
    from tracker.org.models import Person

    return session.exec(select(Person).where(Person.campaign_id == campaign.id).order_by(Person.id)).all()


def test_numbers_follow_the_weeks_whatever_the_order_of_issue(engine):
    """期数 = weeks since the week the campaign was created + 1: W50 issued before W49 is still the
    later number; a week before the campaign has none; numbers once issued never change."""
    with time_machine.travel(at(dt.date(2026, 12, 1), 9, 0), tick=False):  # created Tuesday of W49
        with session_scope(engine) as session:
            world = build_world(session)
            world.task(session, "a", due_on=dt.date(2026, 12, 10))
    with time_machine.travel(at(dt.date(2026, 12, 21), 9, 0), tick=False):
        with session_scope(engine) as session:
            campaign = _campaign(session)
            numbers = [issue_briefing(session, campaign, week).number
                       for week in ("2026-W50", "2026-W49", "2026W50", "2026-W51")]
            assert numbers == [2, 1, 2, 3]
            stored = session.exec(select(Briefing).order_by(Briefing.number)).all()
            assert [(b.number, b.iso_week, b.issues) for b in stored] == [
                (1, "2026-W49", 1), (2, "2026-W50", 2), (3, "2026-W51", 1)]
            assert [briefing_data(b).number for b in stored] == [1, 2, 3]
            assert [b.issued_on for b in stored] == [dt.date(2026, 12, 21)] * 3
            with pytest.raises(BriefingError, match=r"2026-W48.*之前，没有调度通报；第1期为 2026-W49"):
                issue_briefing(session, campaign, "2026-W48")
    with session_scope(engine) as session:
        assert len(session.exec(select(Briefing)).all()) == 3


def test_a_number_held_by_another_week_under_the_old_numbering_is_refused(engine):
    with time_machine.travel(at(dt.date(2026, 12, 1), 9, 0), tick=False):
        with session_scope(engine) as session:
            world = build_world(session)
            world.task(session, "a", due_on=dt.date(2026, 12, 10))
    with time_machine.travel(at(dt.date(2026, 12, 21), 9, 0), tick=False):
        with session_scope(engine) as session:
            campaign = _campaign(session)
            legacy = issue_briefing(session, campaign, "2026-W50")
            legacy.number = 1  # as the old rule numbered it: the first week issued was 第1期
            session.add(legacy)
            session.flush()
            with pytest.raises(BriefingError, match="第 1 期已由 2026-W50 的调度通报使用"):
                issue_briefing(session, campaign, "2026-W49")
            assert issue_briefing(session, campaign, "2026-W50").number == 1  # reissued: kept


def test_a_unit_with_overdue_work_never_ranks_above_one_without(engine):
    """Overdue: 财政局 (one task overdue, one verified on time: on-time rate 50%). 住建局 has nothing due
    yet; 城关镇 verified one task late (0% on time) but has nothing overdue. The old rule (on-time
    rate, units with nothing judged last) ranked 财政局 first."""
    from tracker.tasks import lifecycle

    with time_machine.travel(at(dt.date(2026, 12, 1), 9, 0), tick=False):
        with session_scope(engine) as session:
            world = build_world(session)
            late = world.task(session, "late", due_on=dt.date(2026, 12, 3))
            done = world.task(session, "done", due_on=dt.date(2026, 12, 4))
            world.task(session, "later", unit="住建局", due_on=dt.date(2026, 12, 30))
            slow = world.task(session, "slow", unit="城关镇", due_on=dt.date(2026, 12, 2))
            ids = {"late": late.id, "done": done.id, "slow": slow.id}
    from tracker.org.models import Person
    from tracker.tasks.models import Task

    def act(day: dt.date, key: str) -> None:
        with time_machine.travel(at(day, 10), tick=False):
            with session_scope(engine) as session:
                task = session.get(Task, ids[key])
                office = session.exec(select(Person).where(Person.is_office)).one()
                lifecycle.accept(session, task, office)
                lifecycle.submit(session, task, office, "已完成")
                lifecycle.verify(session, task, office)

    act(dt.date(2026, 12, 2), "done")
    act(dt.date(2026, 12, 4), "slow")  # due 12-02: late, but done
    data = _compute(engine, "2026-W49", at(dt.date(2026, 12, 7), 9, 0))
    ranks = {u.short_name: u.rank for u in data.departments() if u.rank is not None}
    figures = {u.short_name: u.figures for u in data.departments()}
    assert figures["财政"].overdue == 1 and figures["财政"].on_time_rate == 0.5
    assert figures["城关"].on_time_rate == 0.0 and figures["住建"].on_time_rate is None
    assert ranks == {"城关": 1, "住建": 2, "财政": 3}
    assert [u.short_name for u in data.departments() if u.rank is not None] == ["城关", "住建", "财政"]


def test_a_holiday_week_still_gets_a_briefing_that_says_so(engine):
    # 2026-W08, 02-16 to 02-22: the Spring Festival holiday, not one working day
    with time_machine.travel(at(dt.date(2026, 2, 10)), tick=False):
        with session_scope(engine) as session:
            world = build_world(session)
            world.task(session, "before", due_on=dt.date(2026, 2, 13))
            world.task(session, "after", unit="住建局", due_on=dt.date(2026, 2, 25))
    with time_machine.travel(at(dt.date(2026, 2, 23), 8, 30), tick=False):
        with session_scope(engine) as session:
            briefing = issue_briefing(session, _campaign(session), previous_week())
            data = briefing_data(briefing)
    assert data.iso_week == "2026-W08" and briefing.number == 2  # the campaign was created in W07
    assert data.working_days == 0 and data.holiday_week
    from notifications.briefing import text as words

    assert "本周为法定节假日，无工作日" in words.opening(data)
    import io

    from docx import Document

    from notifications.briefing.document import write_briefing_docx

    text = [p.text for p in Document(io.BytesIO(write_briefing_docx(data))).paragraphs]
    assert "（2026年2月16日至2月22日，本周为法定节假日）" in text
    # the task due Friday 02-13 is overdue by 1 working day: the 调休 Saturday 02-14; the holiday adds none
    assert [(r.title, r.days_overdue) for r in data.overdue] == [("任务 before", 1)]
    assert [r.title for r in data.next_week] == ["任务 after"]


def test_an_unfinished_week_is_marked_partial_and_a_future_one_refused(engine):
    with time_machine.travel(at(dt.date(2026, 12, 16), 15, 0), tick=False):
        with session_scope(engine) as session:
            world = build_world(session)
            world.task(session, "a")
        with session_scope(engine) as session:
            campaign = _campaign(session)
            data = compute_briefing(session, campaign, "2026-W51")
            assert data.partial and data.as_of_date == dt.date(2026, 12, 16)
            with pytest.raises(BriefingError, match="还没有开始"):
                compute_briefing(session, campaign, "2026-W52")
            with pytest.raises(BriefingError, match="格式不对"):
                compute_briefing(session, campaign, "第51周")
            with pytest.raises(BriefingError, match="2026 年没有第 54 周"):
                compute_briefing(session, campaign, "2026-W54")


def test_weeks_are_iso_weeks_in_china_time():
    assert parse_iso_week("2026-W48") == (dt.date(2026, 11, 23), dt.date(2026, 11, 29))
    assert parse_iso_week("2027-w1") == (dt.date(2027, 1, 4), dt.date(2027, 1, 10))
    # Monday 00:30 in China is still Sunday in UTC: the week before is the one just ended
    assert previous_week(dt.datetime(2026, 11, 29, 16, 30, tzinfo=dt.timezone.utc)) == "2026-W48"
    assert previous_week(dt.datetime(2026, 11, 29, 15, 30, tzinfo=dt.timezone.utc)) == "2026-W47"


def _scores_follow_the_rule(data, rule) -> None:
    from tracker.appraisal.service import UnitAppraisal, score

    for u in data.units:
        f = u.figures
        if not f.assigned:
            assert u.score is None and u.rank is None
            continue
        row = UnitAppraisal(u.kind, u.unit_id, u.name, u.short_name, due=f.assigned, on_time=f.on_time,
                            late=f.late - f.overdue, overdue=f.overdue, verified=f.done)
        assert u.score is not None and u.score <= score(row, rule)  # 退回 and 督办单 only take away


def test_the_ranking_is_the_plans_appraisal_rule(engine, three_weeks):
    """The briefing ranks by the 考核 rule of the plan: by default the on-time order (rank_key, as
    before); with 排名依据 得分, by score, equal scores then in the on-time order."""
    from tracker.plans import AppraisalRule

    week = WEEKS[-1]
    default = _compute(engine, week)
    _scores_follow_the_rule(default, AppraisalRule())
    with session_scope(engine) as session:
        campaign = _campaign(session)
        plan = dict(campaign.plan)
        plan["appraisal"] = {"overdue_points": 10, "returned_points": 5, "rank_by": "score"}
        campaign.plan = plan
    by_score = _compute(engine, week)
    assert (default.rank_by, by_score.rank_by) == ("on_time_rate", "score")
    rule = AppraisalRule.model_validate(plan["appraisal"])
    _scores_follow_the_rule(by_score, rule)
    for kind in ("department", "school"):
        ranked = sorted((u for u in by_score.units if u.kind == kind and u.rank is not None), key=lambda u: u.rank)
        assert len(ranked) >= 2
        keys = [(-u.score, rank_key(u.figures)) for u in ranked]
        assert keys == sorted(keys)
        for better, worse in zip(ranked, ranked[1:]):
            assert (better.rank == worse.rank) == ((-better.score, rank_key(better.figures))
                                                    == (-worse.score, rank_key(worse.figures)))
    # the figures themselves do not depend on the rule
    assert [(u.name, u.figures) for u in sorted(default.units, key=lambda u: u.name)] == \
        [(u.name, u.figures) for u in sorted(by_score.units, key=lambda u: u.name)]
