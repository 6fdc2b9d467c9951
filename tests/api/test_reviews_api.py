"""Reviews and the county's own 县级督查 over HTTP: open a round, enter its findings (each a task),
record a verdict; every bad field a 422 naming it with nothing stored; the pages show the rounds."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from sqlmodel import Session, func, select

from tests.api.test_pages import log_in
from tracker.events.models import Event
from tracker.reviews.models import Review, ReviewFinding
from tracker.tasks.models import Task


@pytest.fixture(autouse=True)
def _frozen():
    # the world's 自查自评 phase is current; the findings' deadlines lie ahead
    with time_machine.travel(dt.datetime(2026, 12, 7, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai")), tick=False):
        yield


def stored(engine) -> tuple[int, int, int, int]:
    with Session(engine) as s:
        return tuple(s.exec(select(func.count()).select_from(m)).one() for m in (Review, ReviewFinding, Task, Event))


def test_a_county_round_and_its_findings_over_http(client, headers, api_world, engine):
    office, code = headers["office"], api_world.code
    r = client.post(f"/api/v1/campaigns/{code}/reviews", headers=office, json={
        "level": "县级督查", "held_on": "2026-12-10", "team": "督查小组：刘局长（组长）、陈督学", "scope": "城关镇各校"})
    assert r.status_code == 201, r.text
    made = r.json()
    assert (made["label"], made["round_name"], made["phase"], made["verdict"], made["verdict_needed"]) == (
        "县级督查第一轮", "第一轮", "自查自评", None, False)

    r = client.post(f"/api/v1/reviews/{made['id']}/findings", headers=office, json={"findings": [
        {"text": "采购台账不全", "lead": "财政局", "cooperating": ["住建"], "due_on": "2026-12-31", "indicator": "5"},
        {"text": "功能室使用记录缺失", "lead": "城关一小", "due_on": "2027-01-15"},
    ]})
    assert r.status_code == 201, r.text
    findings = r.json()
    assert [(f["seq"], f["review_label"], f["review_level"]) for f in findings] == [
        (1, "县级督查第一轮", "县级督查"), (2, "县级督查第一轮", "县级督查")]
    with Session(engine) as s:
        tasks = [s.get(Task, f["task_id"]) for f in findings]
        assert [t.title for t in tasks] == ["【县级督查第一轮问题1】采购台账不全", "【县级督查第一轮问题2】功能室使用记录缺失"]
        assert {t.phase_id for t in tasks} == {api_world.world.phases["self_check"].id}
        assert tasks[1].responsible_school_id == api_world.world.schools["城关一小"].id
    # a finding entered later is numbered on
    r = client.post(f"/api/v1/reviews/{made['id']}/findings", headers=office,
                    json={"findings": [{"text": "运动场地不足", "lead": "住建局", "due_on": "2027-03-31"}]})
    assert r.status_code == 201 and r.json()[0]["seq"] == 3, r.text

    listed = client.get(f"/api/v1/campaigns/{code}/reviews", headers=headers["reviewer"]).json()
    assert [(x["level"], x["label"], x["findings"], x["open_tasks"]) for x in listed] == [
        ("市级", "市级", 1, 0), ("县级督查", "县级督查第一轮", 3, 3)]
    # the unit sees its own findings (with the round they came from) and its task
    mine = client.get(f"/api/v1/campaigns/{code}/findings", headers=headers["dept_a"]).json()
    assert [(f["text"], f["review_label"]) for f in mine] == [("财政投入不足", "市级"), ("采购台账不全", "县级督查第一轮")]
    assert client.get(f"/api/v1/tasks/{findings[0]['task_id']}", headers=headers["dept_a"]).status_code == 200
    assert client.get(f"/api/v1/tasks/{findings[0]['task_id']}", headers=headers["school"]).status_code == 403
    assert [f["text"] for f in client.get(f"/api/v1/campaigns/{code}/findings", headers=headers["school"]).json()] == [
        "功能室使用记录缺失"]

    # a verdict is optional for a 督查; recorded once
    r = client.post(f"/api/v1/reviews/{made['id']}/verdict", headers=office, json={"verdict": "有条件通过"})
    assert r.status_code == 200 and r.json()["verdict"] == "有条件通过", r.text
    r = client.post(f"/api/v1/reviews/{made['id']}/verdict", headers=office, json={"verdict": "通过"})
    assert r.status_code == 409 and "不能重复录入" in r.json()["detail"]


def test_a_city_check_opens_in_a_phase_named_by_name(client, headers, api_world):
    r = client.post(f"/api/v1/campaigns/{api_world.code}/reviews", headers=headers["office"],
                    json={"level": "市督导室复核", "phase": "自查自评", "held_on": "2026-12-15"})
    assert r.status_code == 201, r.text
    assert (r.json()["level"], r.json()["phase"], r.json()["verdict_needed"]) == ("市级", "自查自评", True)
    phases = {p["code"]: p for p in client.get(f"/api/v1/campaigns/{api_world.code}/phases",
                                               headers=headers["office"]).json()}
    assert "self_check" in phases


FINDING = {"text": "台账不全", "lead": "财政局", "due_on": "2027-01-29"}


@pytest.mark.parametrize("path, body, location, words", [
    ("reviews", {"level": "区级"}, "body.level", "评估级别「区级」无效"),
    ("reviews", {"level": "县级督查", "phase": "迎检"}, "body.phase", "没有编号或名称为「迎检」的阶段"),
    ("reviews", {"level": "县级督查", "round_name": "第一轮"}, "body.round_name", "已登记"),
    ("reviews", {"level": "县级督查", "team": "组" * 501}, "body.team", "过长"),
    ("reviews", {"level": "县级督查", "held_on": "2026-02-30"}, "body.held_on", ""),
    ("reviews", {"level": "县级督查", "verdict": "通过"}, "body.verdict", "不认识的字段"),
    ("reviews", {}, "body.level", "必须提供"),
    ("findings", {"findings": []}, "body.findings", "请求体 findings：至少 1 项"),
    ("findings", {"findings": [FINDING, {**FINDING, "lead": "教育局"}]}, None, "findings[1]「责任单位」：未知单位「教育局」"),
    ("findings", {"findings": [{**FINDING, "indicator": "99"}]}, None, "findings[0]「指标」：未知的指标「99」"),
    ("findings", {"findings": [{**FINDING, "due_on": "明年"}]}, "body.findings.0.due_on", ""),
    ("findings", {"findings": [{**FINDING, "text": ""}]}, "body.findings.0.text", "不能为空"),
    ("findings", {"findings": [{**FINDING, "seq": 1, "text": "另一个问题"}]}, None, "序号 1 已录入为「财政投入不足」"),
    ("verdict", {"verdict": "合格"}, "body.verdict", "评估结论「合格」无效"),
])
def test_a_bad_field_is_a_422_naming_it_and_nothing_is_stored(client, headers, api_world, engine, path, body,
                                                             location, words):
    office = headers["office"]
    first = client.post(f"/api/v1/campaigns/{api_world.code}/reviews", headers=office,
                        json={"level": "县级督查", "round_name": "第一轮"})
    assert first.status_code == 201
    url = (f"/api/v1/campaigns/{api_world.code}/reviews" if path == "reviews"
           else f"/api/v1/reviews/{api_world.finding.review_id}/{path}")
    before = stored(engine)
    r = client.post(url, headers=office, json=body)
    assert r.status_code == 422, r.text
    problems = r.json()["problems"]
    assert problems, r.text
    if location:
        assert location in [p["location"] for p in problems], problems
    assert words in r.json()["detail"] + "".join(p["message"] for p in problems)
    assert stored(engine) == before


def test_another_campaigns_review_does_not_exist(client, headers, api_world):
    review_id = api_world.finding.review_id
    r = client.post(f"/api/v1/reviews/{review_id}/verdict", headers=headers["outsider"], json={"verdict": "通过"})
    assert r.status_code == 404 and "没有编号为" in r.json()["detail"]
    r = client.post("/api/v1/reviews/999/findings", headers=headers["office"], json={"findings": [FINDING]})
    assert r.status_code == 404


def test_the_pages_show_the_county_rounds(client, headers, api_world, engine):
    office = headers["office"]
    made = client.post(f"/api/v1/campaigns/{api_world.code}/reviews", headers=office, json={
        "level": "县级督查", "round_name": "第二轮", "team": "包校督学组", "scope": "全县小学"}).json()
    task_id = client.post(f"/api/v1/reviews/{made['id']}/findings", headers=office,
                          json={"findings": [FINDING]}).json()[0]["task_id"]
    log_in(client, "office")
    page = client.get("/overview").text
    for text in ("评估与督查", "县级督查第二轮", "包校督学组", "全县小学", "无需结论", "待录入"):
        assert text in page, text
    log_in(client, "dept_a")
    page = client.get(f"/tasks/{task_id}").text
    assert "县级督查第二轮" in page and "台账不全" in page
