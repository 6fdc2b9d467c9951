"""Tasks over HTTP: a task's whole life, the refusals on the way, filters and pagination."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import time_machine
from sqlmodel import select

from tests.api.conftest import bearer
from tracker.clock import local_date
from tracker.db import utcnow
from tracker.events.models import Event
from tracker.tasks.models import Task


def _post(client, headers, task_id, action, body=None):
    return client.post(f"/api/v1/tasks/{task_id}/{action}", headers=headers, json=body)


def test_a_task_lives_its_life_over_http(client, headers, api_world, session):
    task_id = api_world.tasks["a"].id
    a, office = headers["dept_a"], headers["office"]

    shown = client.get(f"/api/v1/tasks/{task_id}", headers=a).json()
    assert shown["status"] == "待签收"
    assert shown["unit_name"] == "财政局"
    assert shown["cooperating"] == [api_world.world.departments["住建局"].id]
    assert shown["actions"] == ["accept"]

    r = _post(client, a, task_id, "accept")
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "已签收"
    assert r.json()["assignee_id"] == api_world.world.people["李科长"].id  # the linked person signs

    r = _post(client, a, task_id, "progress", {"percent": 60, "note": "资金已到位一半"})
    assert (r.status_code, r.json()["status"], r.json()["progress"]) == (200, "办理中", 60)
    r = _post(client, a, task_id, "submit", {"note": "已采购"})
    assert r.json()["status"] == "已提交"
    assert set(r.json()["actions"]) == set()  # the unit waits for the office now

    # the office sees what it may do, returns with a reason, the unit submits again, the office verifies
    assert set(client.get(f"/api/v1/tasks/{task_id}", headers=office).json()["actions"]) == {
        "verify", "return", "withdraw"}
    r = _post(client, office, task_id, "return", {"reason": "缺少验收单"})
    assert (r.status_code, r.json()["status"]) == (200, "办理中")
    assert _post(client, a, task_id, "submit").json()["status"] == "已提交"
    r = _post(client, office, task_id, "verify", {"note": "材料齐全"})
    assert (r.status_code, r.json()["status"]) == (200, "已销号")
    assert r.json()["light"] == "绿"

    history = [e for e in client.get(f"/api/v1/tasks/{task_id}/events", headers=office).json()
               if e["type"].startswith("task.")]  # evidence events come in between too
    assert [e["type"] for e in history] == ["task.created", "task.accepted", "task.progress", "task.submitted",
                                            "task.returned", "task.submitted", "task.verified"]
    assert [e["actor"] for e in history[1:]] == ["李科长", "李科长", "李科长", "王主任", "李科长", "王主任"]
    assert history[4]["payload"]["reason"] == "缺少验收单"


def test_a_unit_without_a_linked_person_acts_under_its_user_name(client, headers, api_world, session):
    task_id = api_world.tasks["b"].id  # 住建局's; its user has no person of the plan
    r = _post(client, headers["dept_b"], task_id, "accept")
    assert r.status_code == 200, r.text
    event = session.exec(select(Event).where(Event.task_id == task_id, Event.type == "task.accepted")).one()
    assert (event.actor, event.actor_id) == ("住建局联络员", None)

    # a school signs its own task through its user
    r = _post(client, headers["school"], api_world.tasks["s"].id, "accept")
    assert (r.status_code, r.json()["status"]) == (200, "已签收")


def test_refusals_are_json_in_chinese_and_change_nothing(client, headers, api_world, session):
    task_id = api_world.tasks["a"].id
    r = _post(client, headers["dept_a"], task_id, "submit")  # not signed yet
    assert r.status_code == 409
    assert "待签收" in r.json()["detail"] and "不能提交" in r.json()["detail"]

    r = _post(client, headers["dept_b"], task_id, "accept")  # only cooperating
    assert r.status_code == 403
    assert "配合单位" in r.json()["detail"]

    r = _post(client, headers["reviewer"], task_id, "accept")
    assert r.status_code == 403 and "评估人员" in r.json()["detail"]

    _post(client, headers["dept_a"], task_id, "accept")
    r = _post(client, headers["dept_a"], task_id, "progress", {"percent": 140})
    assert r.status_code == 422
    assert r.json()["problems"][0]["location"] == "body.percent"
    assert "不能大于" in r.json()["problems"][0]["message"]

    r = _post(client, headers["office"], task_id, "withdraw", {"reason": "   "})
    assert r.status_code == 422

    r = client.get("/api/v1/tasks/999999", headers=headers["office"])
    assert r.status_code == 404 and r.json()["detail"] == "没有编号为 #999999 的任务"

    session.expire_all()
    task = session.get(Task, task_id)
    assert task.status == "已签收"
    assert task.progress == 0


def test_filters_and_pagination(client, headers, api_world, engine):
    today = local_date(utcnow())
    late = [api_world.fresh_task(engine, f"late-{i}", due_on=today - dt.timedelta(days=10 + i)) for i in range(2)]
    later = [api_world.fresh_task(engine, f"later-{i}", due_on=today + dt.timedelta(days=60 + i), indicator="3")
             for i in range(3)]
    submitted = api_world.fresh_task(engine, "done-late", state="已提交", due_on=today - dt.timedelta(days=30))
    url = f"/api/v1/campaigns/{api_world.code}/tasks"
    office = headers["office"]

    def ids(**params):
        body = client.get(url, headers=office, params=params).json()
        return body["total"], [t["id"] for t in body["items"]]

    total, all_ids = ids()
    assert total == 3 + 6 and len(all_ids) == 9

    base = {t.id for t in api_world.tasks.values()} if today > dt.date(2026, 12, 18) else set()
    total, overdue = ids(overdue="true")
    assert set(overdue) == {t.id for t in late} | base  # not 已提交 (the clock stops), not the later ones
    assert total == len(overdue)
    assert set(ids(overdue="false")[1]) == set(all_ids) - set(overdue)
    assert ids(indicator="3") == (3, [t.id for t in later])
    assert ids(status="已提交") == (1, [submitted.id])
    finance = api_world.world.departments["财政局"].id
    assert ids(department=finance)[0] == 1 + 6
    school = api_world.world.schools["城关一小"].id
    assert set(ids(school=school)[1]) == {api_world.tasks["b"].id, api_world.tasks["s"].id}

    pages = [ids(limit=4, offset=offset) for offset in (0, 4, 8)]
    assert [len(p[1]) for p in pages] == [4, 4, 1]
    assert all(p[0] == 9 for p in pages)
    assert [i for p in pages for i in p[1]] == all_ids  # in due-date order, no gaps, no repeats

    r = client.get(url, headers=office, params={"limit": 0})
    assert r.status_code == 422 and r.json()["problems"][0]["location"] == "query.limit"
    r = client.get(url, headers=office, params={"status": "完成"})
    assert r.status_code == 422


def test_units_see_only_their_tasks_in_lists(client, headers, api_world):
    url = f"/api/v1/campaigns/{api_world.code}/tasks"
    t = api_world.tasks

    def seen(role):
        return {task["id"] for task in client.get(url, headers=headers[role]).json()["items"]}

    assert seen("office") == seen("reviewer") == {t["a"].id, t["b"].id, t["s"].id}
    assert seen("dept_a") == {t["a"].id}
    assert seen("dept_b") == {t["a"].id, t["b"].id}  # its own and the one it cooperates on
    assert seen("school") == {t["b"].id, t["s"].id}  # its own and the one about it

    # a cooperating unit reads the task but is offered no move
    task = client.get(f"/api/v1/tasks/{t['a'].id}", headers=headers["dept_b"]).json()
    assert task["actions"] == []


def test_a_task_created_after_its_plan_date_carries_its_original_deadline(client, api_world, engine):
    """学习培训 due 12-04 in the plan, assigned on Monday 12-07: due 12-14, not overdue, and the
    API says what the plan date was."""
    now = dt.datetime(2026, 12, 7, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
    with time_machine.travel(now, tick=False):
        today = local_date(utcnow())
        late = api_world.fresh_task(engine, "late", due_on=today - dt.timedelta(days=3), assigned_on=today)
        timely = api_world.tasks["a"]
        office = bearer(engine, api_world.users["office"])
        shown = client.get(f"/api/v1/tasks/{late.id}", headers=office).json()
        listed = {t["id"]: t for t in client.get(f"/api/v1/campaigns/{api_world.code}/tasks",
                                                 headers=office).json()["items"]}
        overdue = client.get(f"/api/v1/campaigns/{api_world.code}/tasks?overdue=true", headers=office).json()
    assert (shown["planned_due_on"], shown["due_on"]) == ("2026-12-04", "2026-12-14")
    assert shown["overdue"] is False and shown["days_overdue"] == 0 and shown["light"] != "红"
    assert listed[late.id]["planned_due_on"] == "2026-12-04"
    assert listed[timely.id]["planned_due_on"] is None and listed[timely.id]["due_on"] == "2026-12-18"
    assert late.id not in [t["id"] for t in overdue["items"]]


def test_lights_follow_the_campaigns_yellow_light_days(client, headers, api_world, session):
    """The plan's 黄灯临期工作日 decides yellow on the API as in mail and briefings (not a fixed 3)."""
    import time_machine

    from tracker.calendar import CHINA
    from tracker.org.models import Campaign

    now = dt.datetime(2026, 12, 7, 10, 0, tzinfo=CHINA)  # a Monday
    task = session.get(Task, api_world.tasks["a"].id)
    task.created_at = now  # nothing expected done yet: only the date can make it yellow
    task.due_on = dt.date(2026, 12, 14)  # 5 working days on
    session.add(task)
    session.commit()
    path = f"/api/v1/campaigns/{api_world.world.campaign.code}/tasks"

    def light() -> str:
        with time_machine.travel(now, tick=False):
            items = client.get(path, headers=headers["office"]).json()["items"]
            return next(i["light"] for i in items if i["id"] == task.id)

    assert light() == "绿"  # the default: yellow within 3 working days
    campaign = session.get(Campaign, api_world.world.campaign.id)
    campaign.plan = {**(campaign.plan or {}), "reminders": {"yellow_within_working_days": 5}}
    session.add(campaign)
    session.commit()
    assert light() == "黄"
