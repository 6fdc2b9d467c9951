"""A region account (市/省 督导, issue 15 §2) on the API and the pages: it reads its counties
as a 评估人员 would and changes nothing in them — every write route of a county refuses it — it
enters its own level's reviews (findings become the county's tasks) and notices, and another
region's counties do not exist for it. On SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import re

import pytest
import time_machine
from sqlmodel import Session, select

from tests.api.conftest import PASSWORD, bearer
from tests.api.test_access_matrix import EXPECTED, MINIMAL_PDF, XLSX, pending_extension, stored_briefing, tasklist_sheet
from tests.api.conftest import own_school_sheet
from tests.factories import make_school_rows, write_csv
from tracker.accounts.regional import create_region_user
from tracker.db import session_scope
from tracker.events.models import Event
from tracker.regions.service import apply_regions, region_by_code
from tracker.tasks.models import Task, TaskCooperator, TaskExtension

REGIONS = "市:\n  - {编号: wf, 名称: 潍坊市, 县: [demo]}\n  - {编号: qd, 名称: 青岛市, 县: [other]}\n"


@pytest.fixture
def region_users(engine, api_world):
    return make_region_users(engine)


def make_region_users(engine) -> dict:
    """The cities wf (with the world's county) and qd, and a log-in of each: their bearer headers."""
    with session_scope(engine) as session:
        apply_regions(session, REGIONS)
        city = create_region_user(session, region_by_code(session, "wf"), username="city", password=PASSWORD)
        far = create_region_user(session, region_by_code(session, "qd"), username="far", password=PASSWORD)
    return {"city": bearer(engine, city), "far": bearer(engine, far)}


def _tasks(engine) -> list[tuple]:
    with Session(engine) as session:
        return [(t.id, t.status, t.due_on, t.department_id, t.progress, t.notes, t.title, t.evidence_required)
                for t in session.exec(select(Task).order_by(Task.id))]


def _url(path: str, case, engine, api_world, n: int) -> str:
    url = path.replace("{campaign}", api_world.code).replace("{section}", "主要做法")
    task = api_world.tasks[case.task] if case.task in api_world.tasks else api_world.tasks["a"]
    url = url.replace("{task_id}", str(task.id)).replace("{assessment_id}", str(api_world.assessment.id))
    url = url.replace("{submission_id}", str(api_world.submissions[
        case.submission if case.submission in api_world.submissions else "own"].id))
    if case.review:
        url = url.replace("{review_id}", str(api_world.finding.review_id))
    if case.extension:
        url = url.replace("{extension_id}", str(pending_extension(engine, api_world, f"region-{n}")))
    if case.department:
        url = url.replace("{department_id}", str(api_world.world.departments[case.department].id))
    if case.evidence:
        url = url.replace("{evidence_id}", str(api_world.evidence[case.evidence].id))
    if "{which}" in url or "{number}" in url:
        number, _ = stored_briefing(engine, api_world.world.campaign.id, pdf=MINIMAL_PDF)
        url = url.replace("{which}", str(number)).replace("{number}", str(number))
    return url.replace("{region}", "wf")


def test_no_write_route_of_a_county_lets_a_region_account_change_anything(client, engine, api_world, region_users,
                                                                          tmp_path):
    """Every route of the county API, asked by the city's account with the body the access matrix
    uses: reads answer as they answer a reviewer; no write succeeds and no task changes."""
    sheet = write_csv(tmp_path / "schools.csv", make_school_rows(3, seed=5)).read_bytes()
    before = _tasks(engine)
    with Session(engine) as session:
        cooperators_before = len(session.exec(select(TaskCooperator)).all())
    wrong = []
    n = 0
    for (method, path), cases in EXPECTED.items():
        if path.startswith("/api/v1/regions") or path.startswith("/api/v1/auth"):
            continue  # the region's own routes (below); log-in and log-out are everyone's
        for case in cases:
            n += 1
            url = _url(path, case, engine, api_world, n)
            kwargs: dict = {"headers": region_users["city"]}
            if case.json is not None:
                kwargs["json"] = case.json
            if case.task_ids:
                kwargs["json"] = {"task_ids": [api_world.tasks["a"].id]}
            if case.form == "evidence":
                kwargs["files"] = {"file": ("整改报告.pdf", b"%PDF-1.4\n%region\n%%EOF\n", "application/pdf")}
            elif case.form == "sheet":
                kwargs["files"] = {"file": ("schools.csv", sheet, "text/csv")}
                kwargs["data"] = {"label": "权限检查"}
            elif case.form == "tasklist":
                kwargs["files"] = {"file": ("任务清单.xlsx", tasklist_sheet("region"), XLSX)}
            elif case.form == "own_sheet":
                kwargs["files"] = {"file": ("本校.csv", own_school_sheet(tmp_path, "own.csv"), "text/csv")}
            response = client.request(method, url, **kwargs)
            if method == "GET":
                # with the county's code in the path it reads as a reviewer; without, it sees nothing
                expected = {case.expect["reviewer"]} if "{campaign}" in path else {403, 404}
                if path == "/api/v1/campaigns":
                    expected = {200}  # the counties of its region (below)
                if path == "/api/v1/archive":
                    expected = {200, 403}  # the archive of the account's own default county, as a region: 403
                if response.status_code not in expected:
                    wrong.append(f"GET {path}: {response.status_code}, expected {expected}")
            elif response.status_code < 400:
                wrong.append(f"{method} {path}: {response.status_code} — a region account changed something")
    assert not wrong, "\n".join(wrong)
    made = {t[0] for t in _tasks(engine)} - {t[0] for t in before}  # the fresh 延期申请 tasks of the cases
    assert [t for t in _tasks(engine) if t[0] not in made] == before
    with Session(engine) as session:
        assert len([c for c in session.exec(select(TaskCooperator)) if c.task_id not in made]) == cooperators_before
        assert not session.exec(select(Event).where(Event.actor.like("%督导%"))).all()


def test_another_regions_counties_do_not_exist_for_it(client, api_world, region_users):
    far = region_users["far"]
    assert client.get(f"/api/v1/campaigns/{api_world.code}/tasks", headers=far).status_code == 404
    assert client.get("/api/v1/regions/wf/status", headers=far).status_code == 404
    assert client.post(f"/api/v1/regions/counties/{api_world.code}/reviews", headers=far,
                       json={"level": "市级"}).status_code == 404
    assert client.post(f"/api/v1/regions/reviews/{api_world.finding.review_id}/verdict", headers=far,
                       json={"verdict": "通过"}).status_code == 404
    mine = client.get("/api/v1/regions/mine/status", headers=far).json()
    assert [c["campaign"] for c in mine["counties"]] == ["other"]
    city = client.get("/api/v1/regions/mine/status", headers=region_users["city"]).json()
    assert city["region"] == "wf" and [c["campaign"] for c in city["counties"]] == ["demo"]
    # a county account does not see a region's roll-up either
    office = {"Authorization": client.post("/api/v1/auth/token", data={"username": "office", "password": PASSWORD})
              .json()["access_token"].join(["Bearer ", ""])}
    assert client.get("/api/v1/regions/wf/status", headers=office).status_code == 403


@pytest.fixture
def frozen():
    # the review's findings are due in 2027: now is before them (the world's 自查自评 phase is current)
    with time_machine.travel(dt.datetime(2026, 12, 7, 10, 0, tzinfo=dt.timezone(dt.timedelta(hours=8))), tick=False):
        yield


def test_the_citys_own_review_findings_become_the_countys_tasks(frozen, client, engine, api_world, region_users):
    city = region_users["city"]
    province_level = client.post(f"/api/v1/regions/counties/{api_world.code}/reviews", headers=city,
                                 json={"level": "省级"})
    assert province_level.status_code == 403 and "市级" in province_level.json()["detail"]
    opened = client.post(f"/api/v1/regions/counties/{api_world.code}/reviews", headers=city,
                         json={"level": "市级", "held_on": "2027-04-10"})
    assert opened.status_code == 201, opened.text
    review_id = opened.json()["id"]
    added = client.post(f"/api/v1/regions/reviews/{review_id}/findings", headers=city, json={"findings": [
        {"text": "部分学校功能室不足", "lead": "住建局", "due_on": "2027-05-30", "indicator": "5"}]})
    assert added.status_code == 201, added.text
    task_id = added.json()[0]["task_id"]
    with Session(engine) as session:
        task = session.get(Task, task_id)
        assert task.campaign_id == api_world.world.campaign.id and task.department_id == \
            api_world.world.departments["住建局"].id and task.due_on == dt.date(2027, 5, 30)
        event = session.exec(select(Event).where(Event.task_id == task_id)).first()
        assert event.actor == "潍坊市督导"
    # the task is the county's: the region account reads it (as a reviewer) and cannot move it
    county = f"/api/v1/campaigns/{api_world.code}/tasks"
    assert any(t["id"] == task_id for t in client.get(county, headers=city, params={"limit": 100}).json()["items"])
    assert client.post(f"/api/v1/tasks/{task_id}/actions/verify", headers=city, json={}).status_code in (403, 404)
    verdict = client.post(f"/api/v1/regions/reviews/{review_id}/verdict", headers=city, json={"verdict": "有条件通过"})
    assert verdict.status_code == 200 and verdict.json()["verdict"] == "有条件通过"
    notice = client.post("/api/v1/regions/mine/notices", headers=city, json={"title": "关于市级复评的通知"})
    assert notice.status_code == 201
    assert [n["title"] for n in client.get("/api/v1/regions/wf/notices", headers=city).json()] == ["关于市级复评的通知"]
    with Session(engine) as session:
        assert session.exec(select(TaskExtension)).all() == []


def _login(client, username: str) -> None:
    page = client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    r = client.post("/login", data={"username": username, "password": PASSWORD, "csrf_token": token},
                    follow_redirects=False)
    assert r.status_code == 303, r.text


def test_pages_roll_up_and_drill_down_read_only(client, engine, api_world, region_users):
    _login(client, "city")
    home = client.get("/")
    assert home.status_code == 200 and "潍坊市 · 各县创建进展" in home.text
    assert f'href="/region/counties/{api_world.code}"' in home.text
    overview = client.get(f"/region/counties/{api_world.code}")  # follows to the county's 总览
    assert overview.status_code == 200 and "地区总览" in overview.text
    task_page = client.get(f"/tasks/{api_world.tasks['a'].id}")
    assert task_page.status_code == 200
    assert "/actions/verify" not in task_page.text and "/actions/accept" not in task_page.text
    token = re.search(r'name="csrf_token" value="([^"]+)"', task_page.text)
    csrf = token.group(1) if token else ""
    refused = client.post(f"/tasks/{api_world.tasks['a'].id}/actions/accept", data={"csrf_token": csrf},
                          follow_redirects=False)
    assert refused.status_code in (303, 403)
    with Session(engine) as session:
        assert session.get(Task, api_world.tasks["a"].id).status == api_world.tasks["a"].status
    assert client.get("/region/counties/other").status_code == 404  # another city's county


def _csrf(page) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)


def test_the_kept_region_page_is_each_viewers_own_and_follows_changes(client, engine, api_world, region_users):
    """The 地区总览 page's bytes are kept per viewer: another account of the same city sees its own
    name and its own session's CSRF token, never the first's; a notice, a flash message and a
    renamed city show on the next request."""
    with session_scope(engine) as session:
        create_region_user(session, region_by_code(session, "wf"), username="city2", password=PASSWORD,
                           name="潍坊市第二督导")
    _login(client, "city")
    first = client.get("/region")
    assert first.status_code == 200 and "<span>潍坊市督导 · " in first.text
    token = _csrf(first)
    again = client.get("/region")
    assert again.text == first.text and set(re.findall(r'name="csrf_token" value="([^"]+)"', again.text)) == {token}
    posted = client.post("/region/notices", data={"title": "关于迎接市级复评的通知", "csrf_token": token},
                         follow_redirects=False)
    assert posted.status_code == 303
    shown = client.get("/region")
    assert "通知已发布" in shown.text and "关于迎接市级复评的通知" in shown.text
    assert "通知已发布" not in client.get("/region").text  # a flash is shown once
    client.post("/logout", data={"csrf_token": token})
    client.cookies.clear()
    _login(client, "city2")
    other = client.get("/region")
    other_token = _csrf(other)
    assert "<span>潍坊市第二督导 · " in other.text and "<span>潍坊市督导 · " not in other.text
    assert other_token != token and token not in other.text and "关于迎接市级复评的通知" in other.text
    with session_scope(engine) as session:
        city = region_by_code(session, "wf")
        city.name = "潍坊"
        session.add(city)
    renamed = client.get("/region")
    assert "潍坊 · 各县创建进展" in renamed.text and _csrf(renamed) == other_token
