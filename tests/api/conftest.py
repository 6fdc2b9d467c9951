"""A campaign with one user per role, three tasks and a little data, and an API client.

Users (password ``PASSWORD``): ``office`` (王主任, office), ``dept_a`` (财政局, acting as 李科长),
``dept_b`` (住建局, no person: a stand-in acts), ``school`` (城关一小), ``reviewer``; and
``outsider``, the office of another campaign.

Tasks: ``a`` led by 财政局 with 住建局 cooperating; ``b`` led by 住建局 about 城关一小; ``s`` for
城关一小 itself (一校一案).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from tests.factories_db import WORLD_ASSIGNED_ON, World, build_world
from tracker.accounts import service as account_service
from tracker.accounts.models import User
from tracker.accounts.service import create_user, issue_token
from tracker.assessment.models import AssessmentSnapshot, ShortfallRecord
from tracker.calendar import reset_active_calendar
from tracker.db import session_scope
from tracker.org.models import Campaign, Department, School
from tracker.reviews.models import Review, ReviewFinding
from tracker.schooldata.models import DataSubmission, SchoolDataRow
from tracker.tasks import lifecycle
from tracker.tasks.models import Evidence, Task, TaskOrigin
from tracker.tasks.service import create_task

PASSWORD = "correct-horse-9"
ROLES = ("office", "dept_a", "dept_b", "school", "reviewer", "outsider")


@pytest.fixture(autouse=True)
def _cheap_hashing(monkeypatch):
    """Real argon2id, with small parameters: the defaults cost ~50 ms per user and per login."""
    monkeypatch.setattr(account_service, "HASHER", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
    monkeypatch.setattr(account_service, "_dummy_hash", None)


@pytest.fixture(autouse=True)
def _library_calendar():
    reset_active_calendar()  # the API loads the store's calendar into the process; start and end clean
    yield
    reset_active_calendar()


@dataclass
class ApiWorld:
    world: World
    code: str
    users: dict[str, User] = field(default_factory=dict)
    tasks: dict[str, Task] = field(default_factory=dict)
    submissions: dict[str, DataSubmission] = field(default_factory=dict)
    assessment: AssessmentSnapshot | None = None
    finding: ReviewFinding | None = None
    evidence: dict[str, Evidence] = field(default_factory=dict)  # by task key

    def fresh_task(self, engine, key: str, *, unit: str = "财政局", state: str = "待签收",
                   due_on: dt.date | None = None, indicator: str | None = None,
                   assigned_on: dt.date | None = None) -> Task:
        """A new task of ``unit`` moved to ``state`` by the unit's person and the office;
        ``assigned_on`` is the day its due date is judged against (a due date before it is
        re-dated), by default the due date itself: kept whatever the wall clock says."""
        with session_scope(engine) as session:
            w = self.world
            campaign = session.get(Campaign, w.campaign.id)
            kwargs: dict = {}
            if unit in w.departments:
                kwargs["department"] = session.get(Department, w.departments[unit].id)
                if unit == "财政局":
                    kwargs["cooperating"] = [w.departments["住建局"].id]
                actor = w.people["李科长" if unit == "财政局" else "张局长"]
            else:
                kwargs["responsible_school"] = session.get(School, w.schools[unit].id)
                actor = w.people["赵校长"]
            from tracker.org.models import Person, Phase

            due_on = due_on or dt.date(2026, 12, 18)
            task = create_task(session, campaign=campaign, phase=session.get(Phase, w.phases["self_check"].id),
                               title=f"任务 {key}", measures="按标准整改", origin=TaskOrigin.plan, origin_key=key,
                               due_on=due_on, indicator=indicator, today=assigned_on or due_on, **kwargs)
            person = session.get(Person, actor.id)
            office = session.get(Person, w.people["王主任"].id)
            steps = ["待签收", "已签收", "办理中", "已提交", "已销号"]
            for target in steps[1:steps.index(state) + 1]:
                if target == "已签收":
                    lifecycle.accept(session, task, person)
                elif target == "办理中":
                    lifecycle.report_progress(session, task, person, 50, "进行中")
                elif target == "已提交":
                    lifecycle.submit(session, task, person, "已完成")
                elif target == "已销号":
                    lifecycle.verify(session, task, office)
            return task


def own_school_sheet(tmp_dir, name: str = "本校.csv", seed: int = 2) -> bytes:
    """A sheet holding only 城关一小's row (学校标识码 4101001), as the school sends it."""
    from tests.factories import make_school_rows, write_csv

    row = dict(make_school_rows(1, seed=seed)[0], 学校名称="城关一小", 学校标识码="4101001", 学校类型="小学")
    return write_csv(Path(tmp_dir) / name, [row]).read_bytes()


def pending_school_submission(engine, tmp_dir) -> DataSubmission:
    """城关一小's own row, sent by the school and waiting for the office (待审核)."""
    from tracker.schooldata.approval import receive_school_row

    with session_scope(engine) as session:
        user = session.exec(select(User).where(User.username == "school")).one()
        school = session.get(School, user.school_id)
        campaign = session.get(Campaign, user.campaign_id)
        return receive_school_row(session, campaign, school, own_school_sheet(tmp_dir), "本校.csv", user.name)


def build_api_world(engine) -> ApiWorld:
    with session_scope(engine) as session:
        world = build_world(session)
        c = world.campaign
        finance, housing = world.departments["财政局"], world.departments["住建局"]
        school = world.schools["城关一小"]
        api = ApiWorld(world=world, code=c.code)
        for username, data in {
            "office": {"role": "office", "person": "王主任"},
            "dept_a": {"role": "department", "department": "财政局", "person": "李科长"},
            "dept_b": {"role": "department", "department": "住建局", "name": "住建局联络员"},
            "school": {"role": "school", "school": "城关一小", "name": "城关一小填报员"},
            "reviewer": {"role": "reviewer", "name": "市督导评估组"},
        }.items():
            api.users[username] = create_user(session, c, {"username": username, "password": PASSWORD, **data})

        other = build_world(session, code="other")
        api.users["outsider"] = create_user(session, other.campaign, {
            "username": "outsider", "password": PASSWORD, "role": "office", "person": "王主任"})

        phase = world.phases["self_check"]
        api.tasks["a"] = create_task(session, campaign=c, phase=phase, title="补足生均教学仪器设备值",
                                     measures="安排专项资金", origin=TaskOrigin.plan, origin_key="a",
                                     due_on=dt.date(2026, 12, 18), department=finance, cooperating=[housing],
                                     indicator="6", today=WORLD_ASSIGNED_ON)
        api.tasks["b"] = create_task(session, campaign=c, phase=phase, title="城关一小扩建运动场",
                                     measures="新建运动场", origin=TaskOrigin.plan, origin_key="b",
                                     due_on=dt.date(2026, 12, 18), department=housing, school=school,
                                     indicator="5", today=WORLD_ASSIGNED_ON)
        api.tasks["s"] = create_task(session, campaign=c, phase=phase, title="城关一小补充多媒体教室",
                                     measures="自筹配置", origin=TaskOrigin.shortfall,
                                     origin_key="school_value|7|primary|4101001", due_on=dt.date(2026, 12, 18),
                                     responsible_school=school, indicator="7", today=WORLD_ASSIGNED_ON)

        own = DataSubmission(campaign_id=c.id, label="自查", source_filename="schools.xlsx", submitted_by="王主任",
                             school_count=2)
        others = DataSubmission(campaign_id=c.id, label="补报", source_filename="more.xlsx", submitted_by="王主任",
                                school_count=1)
        session.add_all([own, others])
        session.flush()
        session.add_all([
            SchoolDataRow(submission_id=own.id, school_key=school.key, row=2,
                          data={"name": school.name, "row": 2, "school_type": "小学"}),
            SchoolDataRow(submission_id=own.id, school_key="4101002", row=3,
                          data={"name": "城关二小", "row": 3, "school_type": "小学"}),
            SchoolDataRow(submission_id=others.id, school_key="4101002", row=2,
                          data={"name": "城关二小", "row": 2, "school_type": "小学"}),
        ])
        api.submissions = {"own": own, "others": others}
        snapshot = AssessmentSnapshot(campaign_id=c.id, submission_id=own.id, standard_id=c.standard_id,
                                      ok=False, result={"ok": False})
        session.add(snapshot)
        session.flush()
        session.add_all([
            ShortfallRecord(campaign_id=c.id, assessment_id=snapshot.id, key="school_value|7|primary|4101001",
                            kind="school_value", indicator="7", stage="primary", school_id=school.id,
                            actual=1.5, required=2.3, missing=0.8, text="多媒体教室不足"),
            ShortfallRecord(campaign_id=c.id, assessment_id=snapshot.id, key="cv|6|primary|", kind="cv",
                            indicator="6", stage="primary", actual=0.6, required=0.5, text="差异系数超标"),
        ])
        api.assessment = snapshot
        review = Review(campaign_id=c.id, phase_id=world.phases["review_city"].id, level="市级")
        session.add(review)
        session.flush()
        api.finding = ReviewFinding(campaign_id=c.id, review_id=review.id, seq=1, text="财政投入不足",
                                    department_id=finance.id, due_on=dt.date(2027, 3, 1))
        session.add(api.finding)
        session.flush()
        # a 佐证材料 file of task a (财政局 leads, 住建局 cooperates), stored like an upload
        from tracker.evidence.service import add_evidence
        from tracker.evidence.storage import store_bytes

        pdf = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
        api.evidence["a"] = add_evidence(session, api.tasks["a"], store_bytes("采购合同.pdf", pdf),
                                         uploaded_by="李科长").evidence
    return api


@pytest.fixture
def api_world(engine) -> ApiWorld:
    return build_api_world(engine)


@pytest.fixture
def client(db_url):
    from api.app import create_app

    with TestClient(create_app()) as c:
        yield c


def bearer(engine, user: User) -> dict[str, str]:
    with session_scope(engine) as session:
        token, _ = issue_token(session, session.get(User, user.id))
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def headers(engine, api_world) -> dict[str, dict[str, str]]:
    """Authorization headers per role; ``anonymous`` has none."""
    out = {role: bearer(engine, api_world.users[role]) for role in ROLES}
    out["anonymous"] = {}
    return out


@pytest.fixture
def session(engine):
    with Session(engine, expire_on_commit=False) as s:
        yield s


# --- kept answers (task list API, 总览, 地区总览): none survives a test; one frozen now ---

KEPT_NOW = dt.datetime(2026, 12, 10, 2, 0, tzinfo=dt.timezone.utc)  # Thursday 10:00 in Beijing


@pytest.fixture(autouse=True)
def _no_kept_answers():
    """Every test starts and ends with the processes' kept answers empty (they are keyed on the
    store, so one test's could otherwise meet another's on the same PostgreSQL database)."""
    from api.pages import overview, region
    from api.v1 import task_list_cache

    caches = (task_list_cache.answers, overview.pages, region.pages)
    for cache in caches:
        cache.clear()
    yield
    for cache in caches:
        cache.clear()


@pytest.fixture
def frozen():
    """The clock frozen at ``KEPT_NOW`` (time-machine; shift it with ``frozen.shift``)."""
    import time_machine

    with time_machine.travel(KEPT_NOW, tick=False) as traveller:
        yield traveller
