"""The phases as flows (issue 16 §1), real Prefect runs (embedded) on SQLite and PostgreSQL:
activation does each phase's entry work once, running again creates nothing, passing a gate
writes the 阶段小结 and starts the next phase's flow."""

from __future__ import annotations

import datetime as dt
import io
from zoneinfo import ZoneInfo

import pytest
import time_machine
from docx import Document
from sqlmodel import select

from flows.dispatcher import DispatchMode, dispatch_pending
from flows.phases import (
    phase_custom_flow,
    phase_national_check_flow,
    phase_rectification_flow,
    phase_review_flow,
    phase_self_check_flow,
)
from tests.factories_db import build_world
from tracker.db import session_scope
from tracker.events.models import Event, FlowRunRecord
from tracker.notices.models import NoticeItem, OutboundMessage
from tracker.org.models import Person, Phase, PhaseStatus
from tracker.phases.models import PhaseStep
from tracker.phases.service import activate
from tracker.plans.kinds import PhaseKind
from tracker.reviews.models import Review
from tracker.tasks import lifecycle
from tracker.tasks.models import Task, TaskOrigin

CHINA = ZoneInfo("Asia/Shanghai")
NOW = dt.datetime(2026, 12, 7, 10, 0, tzinfo=CHINA)

pytestmark = pytest.mark.usefixtures("prefect_harness")


@pytest.fixture
def frozen():
    with time_machine.travel(NOW, tick=True):
        yield


def _world(engine):
    """build_world's three phases plus 省级评估, 国家审核认定 and a plan's own 实施 phase; tasks of a
    department and of a school in the self-check, and an open shortfall task in 整改."""
    with session_scope(engine) as session:
        world = build_world(session)
        for ordinal, (code, name, kind) in enumerate(
                [("review_province", "省级评估", PhaseKind.review_province),
                 ("review_national", "国家审核认定", PhaseKind.review_national),
                 ("implement", "实施", PhaseKind.other)], start=4):
            phase = Phase(campaign_id=world.campaign.id, code=code, name=name, kind=kind.value, ordinal=ordinal,
                          starts_on=dt.date(2027, 7, 1), gate_on=dt.date(2027, 10, 29))
            session.add(phase)
            world.phases[code] = phase
        session.flush()
        tasks = [world.task(session, "t1").id, world.task(session, "t2", unit="城关一小").id]
        shortfall = world.task(session, "s1", phase="rectification", due_on=dt.date(2027, 3, 31))
        shortfall.origin = TaskOrigin.shortfall.value
        session.add(shortfall)
        return (world.campaign.code, {c: p.id for c, p in world.phases.items()}, tasks, shortfall.id,
                world.people["王主任"].id)


def _count(engine, model, *where) -> int:
    with session_scope(engine) as session:
        return len(session.exec(select(model).where(*where)).all())


def _notices(engine, rung: str) -> list[NoticeItem]:
    with session_scope(engine) as session:
        return list(session.exec(select(NoticeItem).where(NoticeItem.rung == rung)).all())


async def test_every_phase_flow_does_its_entry_work_once(engine, frozen):
    code, phases, tasks, shortfall_id, _office = _world(engine)

    first = await phase_self_check_flow(code, phases["self_check"], phase_name="自查自评")
    assert set(first["steps"]) == {"deployment_notice", "ladder"}
    # one 阶段部署通知 per unit with tasks: 财政局's contact and 城关一小's contact, each listing its task
    deployment = _notices(engine, "phase_deployment")
    assert sorted(n.recipient_address for n in deployment) == ["li@example.cn", "zhao@example.cn"]
    with session_scope(engine) as session:
        bodies = {m.recipient_address: m.body_text for m in session.exec(select(OutboundMessage))}
    assert "任务 t1" in bodies["li@example.cn"] and "任务 t2" in bodies["zhao@example.cn"]
    assert "2026年12月23日" in bodies["li@example.cn"]  # the gate
    assert first["steps"]["ladder"]["tasks"] == 2

    rect = await phase_rectification_flow(code, phases["rectification"], phase_name="整改")
    assert [r["to"] for r in rect["steps"]["redate_shortfalls"]["redated"]] == ["2027-06-30"]  # its gate
    with session_scope(engine) as session:
        assert session.get(Task, shortfall_id).due_on == dt.date(2027, 6, 30)
    assert [n.recipient_address for n in _notices(engine, "phase_resubmission")] == ["zhao@example.cn"]
    assert rect["steps"]["resubmission_request"]["interval"] == "每月"

    city = await phase_review_flow(code, phases["review_city"], level="市级", phase_name="市级复评")
    province = await phase_review_flow(code, phases["review_province"], level="省级", phase_name="省级评估")
    national = await phase_national_check_flow(code, phases["review_national"], phase_name="国家审核认定")
    custom = await phase_custom_flow(code, phases["implement"], phase_name="实施")
    assert set(custom["steps"]) == {"deployment_notice", "ladder"}
    # a phase with no tasks yet is announced all the same, to every unit but the office and every school
    assert custom["steps"]["deployment_notice"]["queued"] == 3
    assert custom["steps"]["deployment_notice"]["unreachable"] == ["城关镇"]  # no contact with an address
    with session_scope(engine) as session:
        reviews = session.exec(select(Review).order_by(Review.id)).all()
        assert [(r.level, r.phase_id, r.held_on) for r in reviews] == [
            ("市级", phases["review_city"], None), ("省级", phases["review_province"], dt.date(2027, 10, 29)),
            ("国家", phases["review_national"], dt.date(2027, 10, 29))]
        prep = session.exec(select(Task).where(Task.origin_key.like("phase:review_province:%"))
                            .order_by(Task.due_on)).all()
    inspection = [t for t in prep if ":材料:" not in t.origin_key]
    materials = [t for t in prep if ":材料:" in t.origin_key]
    # 资料汇编 10 working days before the gate, 自评报告 by the gate, both the office's
    assert [t.title for t in inspection] == ["省级评估迎检：完成资料汇编", "省级评估迎检：更新自评报告"]
    assert inspection[0].due_on < inspection[1].due_on == dt.date(2027, 10, 29)
    # the 资料清单's required items without a file (none here has one): a task each for its unit,
    # due with the 资料汇编 (issue 13 §4 wired into issue 16's review phases)
    assert len(materials) == len(province["steps"]["materials"]["created"]) > 0
    assert {t.due_on for t in materials} == {inspection[0].due_on}
    assert all(t.title.startswith("省级评估迎检：补齐资料「") for t in materials)
    assert len(city["steps"]["inspection_tasks"]["created"]) == 2
    assert province["steps"]["review_record"]["level"] == "省级"
    package = national["steps"]["application_package"]
    assert package["ready"] is False and package["missing"]  # no assessment yet: said, by name
    assert national["steps"]["survey"]["opened"] is True  # the national check opens the 满意度调查

    counts = (_count(engine, NoticeItem), _count(engine, OutboundMessage), _count(engine, Task),
              _count(engine, Review), _count(engine, Event), _count(engine, PhaseStep))
    # running every phase flow again creates nothing
    again = [await phase_self_check_flow(code, phases["self_check"]),
             await phase_rectification_flow(code, phases["rectification"]),
             await phase_review_flow(code, phases["review_city"], level="市级"),
             await phase_review_flow(code, phases["review_province"], level="省级"),
             await phase_national_check_flow(code, phases["review_national"]),
             await phase_custom_flow(code, phases["implement"])]
    assert [(s, r["step"]) for run in again for s, r in run["steps"].items() if not r["already"]] == []
    assert (_count(engine, NoticeItem), _count(engine, OutboundMessage), _count(engine, Task),
            _count(engine, Review), _count(engine, Event), _count(engine, PhaseStep)) == counts


async def test_activation_starts_the_phase_flow_through_the_dispatcher_once(engine, frozen):
    code, phases, _tasks, _shortfall, _office = _world(engine)
    with session_scope(engine) as session:
        assert activate(session, session.get(Phase, phases["implement"]), reason="测试")
        assert not activate(session, session.get(Phase, phases["implement"]))  # not pending any more

    report = await dispatch_pending(engine, mode=DispatchMode.embedded)
    assert [(o.start.flow_name, o.ok) for o in report.outcomes] == [("phase-custom", True)]
    assert report.outcomes[0].start.parameters == {"campaign_code": code, "phase_id": phases["implement"],
                                                    "phase_name": "实施"}
    with session_scope(engine) as session:
        record = session.exec(select(FlowRunRecord)).one()
    assert (record.run_name, record.state, record.mode) == ("phase-custom/demo-实施", "completed", "embedded")
    assert record.flow_run_id and "阶段部署通知：发出 3 份" in record.message

    # 实施 has no tasks yet: its 阶段部署通知 went out at activation all the same, to the plan's units'
    # contacts and the schools' (not to the office, which sends it), saying the tasks will follow
    sent = {n.recipient_address: n.payload["unit"] for n in _notices(engine, "phase_deployment")}
    assert sent == {"li@example.cn": "财政局", "zhang@example.cn": "住建局", "zhao@example.cn": "城关一小"}
    with session_scope(engine) as session:
        body = session.exec(select(OutboundMessage).where(OutboundMessage.recipient_address == "li@example.cn")).one()
    assert "进入「实施」阶段" in body.body_text and "本阶段的任务将陆续交办" in body.body_text

    again = await dispatch_pending(engine, mode=DispatchMode.embedded)
    assert again.claimed == [] and again.outcomes == []
    # tasks made later do not bring a second notice: the step was done once, at activation
    with session_scope(engine) as session:
        world_phase = session.get(Phase, phases["implement"])
        session.add(Task(campaign_id=world_phase.campaign_id, phase_id=world_phase.id, title="实施任务",
                         origin=TaskOrigin.plan.value, origin_key="implement-1", due_on=dt.date(2027, 9, 30),
                         department_id=session.exec(select(Person).where(Person.email == "li@example.cn"))
                         .one().department_id))
    rerun = await phase_custom_flow(code, phases["implement"])
    assert rerun["steps"]["deployment_notice"]["already"] is True
    assert len(_notices(engine, "phase_deployment")) == 3


async def test_passing_a_gate_writes_the_summary_and_starts_the_next_phase_flow(engine, frozen):
    code, phases, tasks, _shortfall, office_id = _world(engine)
    await phase_self_check_flow(code, phases["self_check"], phase_name="自查自评")
    with session_scope(engine) as session:
        office = session.get(Person, office_id)
        for task_id in tasks:
            task = session.get(Task, task_id)
            task.evidence_required = False
            lifecycle.accept(session, task, office)
            lifecycle.submit(session, task, office, note="已完成")
            lifecycle.verify(session, task, office)

    report = await dispatch_pending(engine, mode=DispatchMode.embedded)
    assert [o.start.flow_name for o in report.outcomes] == ["gate-check", "phase-rectification"]
    gate = report.outcomes[0]
    assert gate.result["newly_passed"] and gate.result["closing"]["closed"]
    assert gate.message.startswith("通过：阶段「自查自评」验收通过")
    assert report.outcomes[1].start.parameters["phase_id"] == phases["rectification"]
    with session_scope(engine) as session:
        assert PhaseStatus(session.get(Phase, phases["rectification"]).status) is PhaseStatus.active
        summary = session.exec(select(PhaseStep).where(PhaseStep.phase_id == phases["self_check"],
                                                       PhaseStep.step == "summary")).one()
        runs = session.exec(select(FlowRunRecord).order_by(FlowRunRecord.id)).all()
    assert summary.result["tasks"]["due"] == 2 and summary.result["tasks"]["done"] == 2
    assert summary.result["tasks"]["late"] == 0
    text = "\n".join(p.text for p in Document(io.BytesIO(summary.document)).paragraphs)
    assert "「自查自评」阶段小结" in text and "本阶段共有任务 2 项，已销号 2 项" in text
    assert "创建工作进入「整改」阶段" in text
    assert [(r.run_name, r.state) for r in runs] == [("gate-check/demo-自查自评", "completed"),
                                                    ("phase-rectification/demo-整改", "completed")]

    # running the phase flow again afterwards writes no second summary and sends nothing more
    notices = _count(engine, NoticeItem)
    again = await phase_self_check_flow(code, phases["self_check"])
    assert again["closing"] == {**again["closing"], "closed": True, "already": True}
    assert _count(engine, NoticeItem) == notices
    assert _count(engine, PhaseStep, PhaseStep.step == "summary") == 1
