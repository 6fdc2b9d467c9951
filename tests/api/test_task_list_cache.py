"""The task list API's kept answers (api/v1/task_list_cache.py): a list asked for again costs one
statement and gives the very bytes; every write to what the list shows (each move over the API,
the office's 交办 and 督办 moves, and writes to units, phases, the plan and the calendar in the
store) is seen by the next request (no stale read); another view, a bad token, another day get
their own answer. The clock is frozen: lights and days overdue count from the Beijing date."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import update
from sqlmodel import Session

from api.v1 import task_list_cache
from api.v1.task_list_cache import AnswerCache
from tests.api.conftest import bearer
from tests.api.test_task_list_statements import Statements
from tracker.calendar.models import CalendarYear, WorkdayOverride
from tracker.db import get_engine
from tracker.org.models import Campaign, Department, Phase, School
from tracker.tasks.models import Task, TaskCooperator
from tracker.tasks.queries import list_stamp

from tests.api.conftest import KEPT_NOW as NOW  # the ``frozen`` fixture's now


def _get(client, who, code, query=""):
    with Statements(get_engine()) as counted:
        r = client.get(f"/api/v1/campaigns/{code}/tasks{query}", headers=who)
    assert r.status_code == 200, r.text
    return r, len(counted.seen)


def _stamp(engine, campaign_id):
    with Session(engine) as session:
        return list_stamp(session, campaign_id)


def test_a_kept_answer_costs_one_statement_and_is_the_same_answer(client, engine, api_world, frozen):
    office = bearer(engine, api_world.users["office"])
    first, made = _get(client, office, api_world.code, "?limit=2")
    again, kept = _get(client, office, api_world.code, "?limit=2")
    assert made > 1 and kept == 1
    assert again.content == first.content
    assert again.headers["content-type"] == first.headers["content-type"] == "application/json"
    assert again.headers["content-length"] == first.headers["content-length"]
    # the query string as sent is the key: another page is its own answer
    other, costs = _get(client, office, api_world.code, "?limit=1")
    assert costs > 1 and other.json()["items"] == first.json()["items"][:1]


def test_a_kept_answer_is_not_given_to_another_view_nor_without_a_good_token(client, engine, api_world, frozen,
                                                                               session):
    from tracker.accounts.models import User

    users = api_world.users
    office, dept_b, school = (bearer(engine, users[r]) for r in ("office", "dept_b", "school"))
    everything = _get(client, office, api_world.code)[0].json()
    _get(client, office, api_world.code)
    seen_by_b = _get(client, dept_b, api_world.code)[0].json()
    seen_by_school = _get(client, school, api_world.code)[0].json()
    assert len(seen_by_b["items"]) < len(everything["items"]) and seen_by_school != seen_by_b
    assert {tuple(t["actions"]) for t in seen_by_b["items"]} != {tuple(t["actions"]) for t in everything["items"]}
    path = f"/api/v1/campaigns/{api_world.code}/tasks"
    assert client.get(path, headers={"Authorization": "Bearer not-a-token"}).status_code == 401
    assert client.get(path).status_code == 401
    assert client.get(path, headers=bearer(engine, users["outsider"])).status_code == 404
    # a user switched off: their token no longer opens the kept list
    user = session.get(User, users["office"].id)
    user.active = False
    session.add(user)
    session.commit()
    assert client.get(path, headers=office).status_code == 401


def test_the_next_day_is_a_new_answer(client, engine, api_world, frozen):
    office = bearer(engine, api_world.users["office"])
    _get(client, office, api_world.code)
    assert _get(client, office, api_world.code)[1] == 1
    frozen.shift(dt.timedelta(days=9))  # Beijing 12-19: task a (due 12-18) is now overdue
    office = bearer(engine, api_world.users["office"])  # (the first token has expired by then)
    later, costs = _get(client, office, api_world.code)
    assert costs > 1
    task_a = next(t for t in later.json()["items"] if t["id"] == api_world.tasks["a"].id)
    assert task_a["overdue"] is True


def _office_moves(client, engine, api_world):
    """(name, write) pairs: each changes what the office's list shows."""
    users, tasks = api_world.users, api_world.tasks
    office, a, b = (bearer(engine, users[r]) for r in ("office", "dept_a", "dept_b"))
    task_a, task_b = tasks["a"].id, tasks["b"].id
    w = api_world.world
    cid = w.campaign.id
    ext: dict[str, int] = {}

    def post(path, who, body=None, code=200):
        r = client.post(f"/api/v1{path}", headers=who, json=body)
        assert r.status_code == code, (path, r.text)
        return r.json()

    def store(change):
        with Session(engine) as session:
            session.execute(change)
            session.commit()

    return [
        ("accept", lambda: post(f"/tasks/{task_a}/accept", a)),
        ("progress", lambda: post(f"/tasks/{task_a}/progress", a, {"percent": 40, "note": "推进"})),
        ("extension asked", lambda: ext.update(id=post(f"/tasks/{task_a}/extension", a,
                                                        {"due_on": "2026-12-31", "reason": "资金推迟"}, 201)["id"])),
        ("extension refused", lambda: post(f"/extensions/{ext['id']}/refuse", office, {"reason": "不能后延"})),
        ("extension asked again", lambda: ext.update(id=post(f"/tasks/{task_a}/extension", a,
                                                              {"due_on": "2026-12-30", "reason": "再申请"}, 201)["id"])),
        ("extension approved", lambda: post(f"/extensions/{ext['id']}/approve", office, {"note": "同意"})),
        ("submit", lambda: post(f"/tasks/{task_a}/submit", a, {"note": "完成"})),
        ("return", lambda: post(f"/tasks/{task_a}/return", office, {"reason": "材料不全"})),
        ("submit again", lambda: post(f"/tasks/{task_a}/submit", a, {"note": "补齐"})),
        ("verify", lambda: post(f"/tasks/{task_a}/verify", office, {"note": "合格"})),
        ("due date set", lambda: post(f"/tasks/{task_b}/due", office, {"due_on": "2027-01-15", "reason": "上级调整"})),
        ("transfer", lambda: post(f"/tasks/{task_b}/transfer", office, {"lead": "财政", "reason": "职责调整"})),
        ("batch accept", lambda: post(f"/campaigns/{api_world.code}/tasks/accept", a, {"task_ids": [task_b]})),
        ("progress before split", lambda: post(f"/tasks/{task_b}/progress", a, {"percent": 10, "note": ""})),
        ("split", lambda: post(f"/tasks/{task_b}/split", a, {"children": [
            {"title": "住建局审核图纸", "lead": "住建局", "due_on": "2026-12-11"}]}, 201)),
        ("assign (交办)", lambda: post(f"/campaigns/{api_world.code}/tasks", office, {
            "title": "迎检路线踏勘", "source": "会议决定", "lead": "财政", "cooperating": ["住建局"],
            "due_on": "2027-01-15"}, 201)),
        ("withdraw", lambda: post(f"/tasks/{task_b}/withdraw", office, {"reason": "不再需要"})),
        ("cooperator added in the store", lambda: store(TaskCooperator.__table__.insert().values(
            task_id=task_a, department_id=w.departments["城关镇"].id))),
        ("department renamed", lambda: store(update(Department).where(Department.id == w.departments["财政局"].id)
                                             .values(name="县财政局"))),
        ("school renamed", lambda: store(update(School).where(School.campaign_id == cid).values(name=School.name + "（新）"))),
        ("tasks changed in bulk", lambda: store(update(Task).where(Task.campaign_id == cid).values(notes="统一备注"))),
        ("plan's light rule", lambda: store(update(Campaign).where(Campaign.id == cid).values(
            plan={"reminders": {"yellow_within_working_days": 10}}))),
        ("phase recoded", lambda: store(update(Phase).where(Phase.campaign_id == cid).values(code=Phase.code + "_x"))),
        ("calendar: tomorrow a holiday", lambda: (store(CalendarYear.__table__.insert().values(
            year=2026, source="示例", illustrative=True, file_name="", entered_by="韩静", entered_at=NOW)),
            store(WorkdayOverride.__table__.insert().values(
                date=dt.date(2026, 12, 11), year=2026, is_working_day=False, name="示例假日", source="示例",
                entered_by="韩静", entered_at=NOW)))),
    ]


# writes that change what a list may show, not necessarily what these lists show now (the phase
# filter; lights of tasks that may all be done by then)
NOT_ALWAYS_VISIBLE = {"phase recoded", "plan's light rule", "calendar: tomorrow a holiday"}


def test_every_write_to_what_the_list_shows_is_seen_by_the_next_request(client, engine, api_world, frozen):
    """Each write, then the office's and 财政局's lists: the revision moved, and what comes back is
    what the list computed afresh (the kept answers thrown away) says: never a stale answer."""
    cid = api_world.world.campaign.id
    views = {"office": bearer(engine, api_world.users["office"]), "dept_a": bearer(engine, api_world.users["dept_a"])}
    queries = ("", "?limit=3", "?status=办理中")

    def answers() -> dict:
        out = {}
        for name, who in views.items():
            for query in queries:
                out[name, query] = _get(client, who, api_world.code, query)[0].content
        return out

    before = answers()
    assert {k: c for k, c in answers().items()} == before  # now kept
    for name, write in _office_moves(client, engine, api_world):
        stamp = _stamp(engine, cid)
        write()
        assert _stamp(engine, cid) != stamp, name
        seen = answers()
        task_list_cache.answers.clear()
        assert answers() == seen, name  # what was served is what the store says now
        if name not in NOT_ALWAYS_VISIBLE:
            assert seen != before, name
        before = seen


def test_the_cache_is_bounded_in_bytes_least_recently_used_first():
    cache = AnswerCache(max_bytes=10)
    cache.put("a", b"1234")
    cache.put("b", b"5678")
    assert cache.get("a") == b"1234"  # a used last: b goes first
    cache.put("c", b"90ab")
    assert (cache.get("a"), cache.get("b"), cache.get("c")) == (b"1234", None, b"90ab")
    assert cache.size == 8 and len(cache) == 2
    cache.put("big", b"x" * (task_list_cache.MAX_ANSWER + 1))  # larger than one answer may be: not kept
    assert cache.get("big") is None and len(cache) == 2
