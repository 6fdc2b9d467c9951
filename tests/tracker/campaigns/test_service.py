"""Applying a plan to the store, finding campaigns, units and people, and the assignment table."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from types import SimpleNamespace

import pytest
import time_machine
from sqlmodel import Session, func, select

from tracker.campaigns.service import apply_plan, apply_plan_report
from tracker.db import get_engine, session_scope
from tracker.events.models import Event
from tracker.events.service import record_event
from tracker.org.models import Campaign, Department, Person, Phase
from tracker.org.service import (
    CampaignNotFound,
    UnknownName,
    assignment_for,
    find_department,
    find_person,
    plan_of,
    resolve_campaign,
    township_department,
)
from tracker.plans import CampaignPlan, PlanError, parse_plan
from tracker.plans.kinds import UnitKind
from tracker.tasks.models import Task, TaskCooperator, TaskOrigin

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "plan.yaml"
EXAMPLE_TEXT = EXAMPLE.read_text(encoding="utf-8")


def _plan(text: str = EXAMPLE_TEXT) -> CampaignPlan:
    return parse_plan(text)


def _count(session: Session, model, **where) -> int:
    stmt = select(func.count()).select_from(model)
    for attr, value in where.items():
        stmt = stmt.where(getattr(model, attr) == value)
    return session.exec(stmt).one()


def _events(session: Session, type_: str) -> list[Event]:
    return list(session.exec(select(Event).where(Event.type == type_).order_by(Event.id)))


def test_apply_creates_everything_and_twice_changes_nothing(db_url):
    plan = _plan()
    engine = get_engine(db_url)
    with session_scope(engine) as session:
        campaign = apply_plan(session, plan, actor="韩静")
        campaign_id = campaign.id
    with Session(engine) as session:
        counts = {m.__name__: _count(session, m) for m in (Campaign, Department, Person, Phase)}
        assert counts == {"Campaign": 1, "Department": 22, "Person": len(plan.people), "Phase": 5}
        created = _events(session, "campaign.created")
        assert len(created) == 1 and created[0].actor == "韩静" and created[0].payload["departments"] == 22
        stored = session.get(Campaign, campaign_id)
        assert stored.plan == plan.model_dump(mode="json")
        assert plan_of(stored) == plan
        office = session.exec(select(Department).where(Department.kind == UnitKind.office.value)).one()
        assert office.short_name == "创建办" and office.head_name == "韩静"
        finance = find_department(session, stored, "财政局")
        supervisor = session.get(Person, finance.supervisor_id)
        assert supervisor.name == "林晓岚" and supervisor.group_role == "副组长"
        han = find_person(session, stored, "韩静")
        assert han.is_office and han.group_role == "成员"
        assert session.get(Department, han.department_id).short_name == "督导室"
        gate = session.exec(select(Phase).where(Phase.code == "review_province")).one()
        assert gate.gate_on is None and gate.note == "以上级通知为准"

    with session_scope(engine) as session:
        report = apply_plan_report(session, _plan(), actor="韩静")
        assert not report.created and report.changes == []
    with Session(engine) as session:
        assert {m.__name__: _count(session, m) for m in (Campaign, Department, Person, Phase)} == counts
        assert _events(session, "campaign.updated") == []
        assert len(_events(session, "campaign.created")) == 1


def test_changed_plan_updates_people_and_dates_and_keeps_tasks(db_url):
    engine = get_engine(db_url)
    with session_scope(engine) as session:
        campaign = apply_plan(session, _plan())
        phase = session.exec(select(Phase).where(Phase.code == "review_city")).one()
        finance = find_department(session, campaign, "财政局")
        task = Task(campaign_id=campaign.id, phase_id=phase.id, title="补充教学仪器设备", due_on=dt.date(2027, 6, 30),
                    department_id=finance.id, indicator="6", origin=TaskOrigin.finding, origin_key="finding:1")
        session.add(task)
        session.flush()
        session.add(TaskCooperator(task_id=task.id, department_id=find_department(session, campaign, "计财股").id))
        record_event(session, type="task.created", actor="系统", campaign_id=campaign.id, task_id=task.id)
        task_id, phase_id = task.id, phase.id

    changed = (EXAMPLE_TEXT
               .replace("shilei@gov.qingchuan.example", "shilei2@gov.qingchuan.example")
               .replace("{编号: review_city, 名称: 市级复评, 类型: 市级复评, 开始: 2027-04-01, 关口: 2027-06-30}",
                        "{编号: review_city, 名称: 市级复评, 类型: 市级复评, 开始: 2027-04-01, 关口: 2027-05-28}")
               .replace("关口: 以上级通知为准}\n  - {编号: review_national",
                        "关口: 2027-10-29}\n  - {编号: review_national"))
    with session_scope(engine) as session:
        report = apply_plan_report(session, _plan(changed), actor="苏晓")
        assert not report.created
        assert "人员「石磊」邮箱：shilei@gov.qingchuan.example → shilei2@gov.qingchuan.example" in report.changes
        assert "阶段「市级复评」关口：2027-06-30 → 2027-05-28" in report.changes
        assert "阶段「省级评估」关口：（空） → 2027-10-29" in report.changes
        assert "阶段「省级评估」说明：以上级通知为准 → （空）" in report.changes  # the date is known now

    with Session(engine) as session:
        assert session.exec(select(Person).where(Person.name == "石磊")).one().email == "shilei2@gov.qingchuan.example"
        phase = session.get(Phase, phase_id)
        assert phase.gate_on == dt.date(2027, 5, 28) and phase.code == "review_city"
        task = session.get(Task, task_id)
        assert task is not None and task.phase_id == phase_id and task.due_on == dt.date(2027, 6, 30)
        # the finding keeps its one cooperator (the plan's preparatory tasks, made by campaign
        # init since issue 12, have their own)
        assert session.exec(select(func.count()).select_from(TaskCooperator)
                            .where(TaskCooperator.task_id == task_id)).one() == 1
        assert len(list(session.exec(select(Event).where(Event.task_id == task_id)))) == 1
        updated = _events(session, "campaign.updated")
        assert len(updated) == 1 and updated[0].actor == "苏晓" and len(updated[0].payload["changes"]) == 4
        assert _count(session, Person) == len(_plan().people)


def test_a_plan_that_only_changes_a_units_robot_is_an_update(db_url):
    """A 群机器人 lives only in the stored plan: changing it alone still writes ``campaign.updated``
    (and the campaign's updated_at), naming the unit and both robots."""
    engine = get_engine(db_url)
    with time_machine.travel(dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.timezone.utc), tick=False), \
            session_scope(engine) as session:
        campaign_id = apply_plan(session, _plan()).id
    finance = "  - 名称: 青川县财政局\n    简称: 财政局\n"
    assert finance in EXAMPLE_TEXT
    with_robot = EXAMPLE_TEXT.replace(finance, finance + "    群机器人: 财政局群\n")
    with time_machine.travel(dt.datetime(2026, 12, 7, 9, 0, tzinfo=dt.timezone.utc), tick=False), \
            session_scope(engine) as session:
        report = apply_plan_report(session, _plan(with_robot), actor="苏晓")
        assert report.changes == ["单位「青川县财政局」群机器人：（空） → 财政局群"]
    with Session(engine) as session:
        assert session.get(Campaign, campaign_id).updated_at == dt.datetime(2026, 12, 7, 9, 0, tzinfo=dt.timezone.utc)
    with session_scope(engine) as session:
        report = apply_plan_report(session, _plan(with_robot.replace("财政局群\n", "财政专班群\n")), actor="苏晓")
        assert report.changes == ["单位「青川县财政局」群机器人：财政局群 → 财政专班群"]
    with session_scope(engine) as session:
        assert apply_plan_report(session, _plan(EXAMPLE_TEXT)).changes == ["单位「青川县财政局」群机器人：财政专班群 → （空）"]
    with Session(engine) as session:
        updated = _events(session, "campaign.updated")
        assert [e.payload["changes"] for e in updated] == [
            ["单位「青川县财政局」群机器人：（空） → 财政局群"], ["单位「青川县财政局」群机器人：财政局群 → 财政专班群"],
            ["单位「青川县财政局」群机器人：财政专班群 → （空）"]]


def test_removed_units_and_people_are_deactivated_when_referenced_else_deleted(db_url):
    engine = get_engine(db_url)
    with session_scope(engine) as session:
        campaign = apply_plan(session, _plan())
        phase = session.exec(select(Phase).where(Phase.code == "self_check")).one()
        women = find_department(session, campaign, "妇联")
        session.add(Task(campaign_id=campaign.id, phase_id=phase.id, title="留守儿童关爱", due_on=dt.date(2026, 12, 18),
                         department_id=women.id, origin=TaskOrigin.plan, origin_key="plan:x"))
        wen = find_person(session, campaign, "温柔")  # 妇联's contact, who acted once
        record_event(session, type="task.accepted", actor=wen.name, actor_id=wen.id, campaign_id=campaign.id)

    # drop 妇联 (and its people) and 残联; 22 no longer names 妇联
    text = EXAMPLE_TEXT
    for block in ("  - 名称: 青川县妇女联合会", "  - 名称: 青川县残疾人联合会"):
        start = text.index(block)
        end = text.index("  - 名称:", start + 5)
        text = text[:start] + text[end:]
    text = (text.replace("    - {姓名: 邓秀英, 职务: 县妇联主席, 单位: 妇联, 邮箱: dengxiuying@gov.qingchuan.example}\n", "")
            .replace("    - {姓名: 蒋红梅, 职务: 县残联理事长, 单位: 残联, 邮箱: jianghongmei@gov.qingchuan.example}\n", "")
            .replace("配合: [财政局, 妇联, 团县委, 各乡镇]", "配合: [财政局, 团县委, 各乡镇]")
            .replace("配合: [残联, 卫健局]", "配合: [卫健局]"))
    with session_scope(engine) as session:
        report = apply_plan_report(session, _plan(text))
        assert "停用单位「青川县妇女联合会」（已有任务或记录引用，保留历史）" in report.changes
        assert "删除单位「青川县残疾人联合会」" in report.changes
        assert "停用人员「温柔」（已有记录引用，保留历史）" in report.changes
        assert "删除人员「任重」" in report.changes and "删除人员「邓秀英」" in report.changes

    with Session(engine) as session:
        campaign = resolve_campaign(session)
        women = session.exec(select(Department).where(Department.short_name == "妇联")).one()
        assert not women.active
        assert session.exec(select(Department).where(Department.short_name == "残联")).first() is None
        assert not session.exec(select(Person).where(Person.name == "温柔")).one().active
        with pytest.raises(UnknownName, match="已从方案中移除"):
            find_department(session, campaign, "妇联")
        with pytest.raises(UnknownName, match="已从方案中移除"):
            find_person(session, campaign, "温柔")

    # and back again: the same rows come back to life
    with session_scope(engine) as session:
        report = apply_plan_report(session, _plan())
        assert "单位「青川县妇女联合会」启用：否 → 是" in report.changes
    with Session(engine) as session:
        assert session.exec(select(Department).where(Department.short_name == "妇联")).one().active


def test_a_phase_with_tasks_cannot_be_dropped_and_nothing_changes(db_url):
    engine = get_engine(db_url)
    with session_scope(engine) as session:
        campaign = apply_plan(session, _plan())
        phase = session.exec(select(Phase).where(Phase.code == "review_national")).one()
        session.add(Task(campaign_id=campaign.id, phase_id=phase.id, title="迎接国家认定", due_on=dt.date(2027, 12, 1),
                         department_id=find_department(session, campaign, "督导室").id,
                         origin=TaskOrigin.plan, origin_key="plan:n"))
    text = EXAMPLE_TEXT.replace(
        "  - {编号: review_national, 名称: 国家审核认定, 类型: 国家审核认定, "
        "开始: 以上级通知为准, 关口: 以上级通知为准}\n", ""
    ).replace("shilei@gov", "shilei9@gov")
    with pytest.raises(PlanError, match="国家审核认定"):
        with session_scope(engine) as session:
            apply_plan(session, _plan(text))
    with Session(engine) as session:
        assert session.exec(select(Person).where(Person.name == "石磊")).one().email == "shilei@gov.qingchuan.example"
        assert _count(session, Phase) == 5 and _events(session, "campaign.updated") == []


def test_two_campaigns_in_one_database_and_resolving_them(db_url):
    engine = get_engine(db_url)
    with Session(engine) as session:
        with pytest.raises(CampaignNotFound, match="还没有创建工作"):
            resolve_campaign(session, None)
    other = (EXAMPLE_TEXT.replace("编号: qingchuan-2027", "编号: baishui-2027")
             .replace("名称: 青川县创建全国义务教育优质均衡发展县", "名称: 白水县创建全国义务教育优质均衡发展县")
             .replace("县: 青川县", "县: 白水县"))
    with session_scope(engine) as session:
        apply_plan(session, _plan())
    with Session(engine) as session:
        assert resolve_campaign(session, None).code == "qingchuan-2027"
    with session_scope(engine) as session:
        apply_plan(session, _plan(other))

    with Session(engine) as session:
        assert _count(session, Campaign) == 2 and _count(session, Department) == 44
        with pytest.raises(CampaignNotFound) as caught:
            resolve_campaign(session, None)
        assert "--campaign" in caught.value.message
        assert "baishui-2027" in caught.value.message and "qingchuan-2027" in caught.value.message
        with pytest.raises(CampaignNotFound, match="现有：baishui-2027、qingchuan-2027"):
            resolve_campaign(session, "qingchuan-2026")
        qingchuan = resolve_campaign(session, "qingchuan-2027")
        baishui = resolve_campaign(session, "白水县")  # the county also finds it when unique
        assert baishui.code == "baishui-2027"
        # the same names in both campaigns are different rows
        a = find_department(session, qingchuan, "人事股")
        b = find_department(session, baishui, "人事股")
        assert a.id != b.id and a.campaign_id == qingchuan.id and b.campaign_id == baishui.id
        assert find_person(session, qingchuan, "李婷").id != find_person(session, baishui, "李婷").id


def test_find_department_and_person(db_url):
    engine = get_engine(db_url)
    with session_scope(engine) as session:
        campaign = apply_plan(session, _plan())
    with Session(engine) as session:
        full = find_department(session, campaign, "县教育局人事股")
        assert find_department(session, campaign, "人事股").id == full.id
        assert find_department(session, campaign, "人事科").id == full.id  # an alias from the plan
        assert find_department(session, campaign, "创建办").kind == UnitKind.office.value
        with pytest.raises(UnknownName, match="没有单位「人事局」.*单位有：创建办、人事股"):
            find_department(session, campaign, "人事局")
        assert find_person(session, campaign, " 孙悦 ").email == "sunyue@jyj.qingchuan.example"
        with pytest.raises(UnknownName, match="没有「孙月」"):
            find_person(session, campaign, "孙月")
        assert township_department(session, campaign, "柳河镇").name == "柳河镇人民政府"
        assert township_department(session, campaign, "柳河镇人民政府").short_name == "柳河镇"
        assert township_department(session, campaign, "人事股") is None  # not a township
        assert township_department(session, campaign, None) is None


def test_assignment_for_resolves_each_township(db_url):
    plan = _plan()
    engine = get_engine(db_url)
    with session_scope(engine) as session:
        campaign = apply_plan(session, plan)
    school = SimpleNamespace(name="柳河镇中心小学", township="柳河镇")
    for source in (plan, campaign, campaign.plan):
        lead, coop = assignment_for(source, "4", school)
        assert lead == "县教育局计划财务股"
        assert coop == ["青川县发展和改革局", "青川县财政局", "青川县住房和城乡建设局", "青川县自然资源局", "柳河镇人民政府"]
        # county-level work: every township cooperates
        lead, coop = assignment_for(source, 4)
        assert coop[-5:] == ["城关镇人民政府", "柳河镇人民政府", "石桥镇人民政府", "桃源乡人民政府", "云岭乡人民政府"]
        # a school with no township: 各乡镇 is dropped
        assert assignment_for(source, "4", SimpleNamespace(name="某校", township=None))[1][-1] == "青川县自然资源局"
        with pytest.raises(UnknownName, match="所在乡镇「青山乡」不是方案中的乡镇"):
            assignment_for(source, "4", SimpleNamespace(name="某校", township="青山乡"))
        with pytest.raises(UnknownName, match="指标「99」不在方案的分工表中"):
            assignment_for(source, "99")
        assert assignment_for(source, "21") == ("县教育局基础教育股", [])
