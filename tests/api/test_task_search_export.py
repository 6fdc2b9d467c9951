"""Issue 12 §8: text search (``q``) on the task list and the list's .xlsx export — the same rows as
the list with the same filters, all pages, a unit's only its own, text never a formula; on SQLite and
PostgreSQL alike (the ``engine`` fixtures run both)."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from openpyxl import load_workbook
from sqlmodel import Session

from tests.api.conftest import WORLD_ASSIGNED_ON
from tracker.accounts import task_export
from tracker.accounts.models import User
from tracker.accounts.task_export import HEADERS, TooManyToExport, export_rows
from tracker.accounts.task_list import TaskFilters
from tracker.tasks.search import like_pattern
from tracker.tasks.models import Task, TaskOrigin
from tracker.tasks.service import create_task


def _add(engine, api_world, title, measures="措施", key=None, department="财政局"):
    with Session(engine) as s:
        world = api_world.world
        task = create_task(s, campaign=world.campaign, phase=world.phases["self_check"], title=title,
                           measures=measures, origin=TaskOrigin.plan, origin_key=key or title,
                           due_on=dt.date(2026, 12, 20), department=world.departments[department],
                           today=WORLD_ASSIGNED_ON)
        s.commit()
        return task.id


def _ids(client, headers, role, api_world, **params):
    r = client.get(f"/api/v1/campaigns/{api_world.code}/tasks", headers=headers[role], params={"limit": 500, **params})
    assert r.status_code == 200, r.text
    return [t["id"] for t in r.json()["items"]]


def _sheet(client, headers, role, api_world, **params):
    r = client.get(f"/api/v1/campaigns/{api_world.code}/tasks.xlsx", headers=headers[role], params=params)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("application/vnd.openxmlformats")
    return load_workbook(io.BytesIO(r.content)).active


def test_like_pattern_takes_wildcards_literally():
    assert like_pattern(" 50%_A\\ ") == "%50\\%\\_a\\\\%"


def test_search_finds_title_measures_unit_school_and_indicator_case_insensitively(client, headers, api_world):
    t = api_world.tasks
    assert _ids(client, headers, "office", api_world, q="运动场") == [t["b"].id]  # title
    assert _ids(client, headers, "office", api_world, q="专项资金") == [t["a"].id]  # measures
    assert _ids(client, headers, "office", api_world, q="财政") == [t["a"].id]  # the unit's name
    assert set(_ids(client, headers, "office", api_world, q="城关一小")) == {t["b"].id, t["s"].id}  # school
    assert _ids(client, headers, "office", api_world, q="7") == [t["s"].id]  # indicator code
    assert _ids(client, headers, "office", api_world, q="没有这样的任务") == []


def test_percent_and_underscore_are_literal_and_case_does_not_matter(client, headers, api_world, engine):
    pct = _add(engine, api_world, "达标率100%的学校", key="pct")
    under = _add(engine, api_world, "File_Name 整理", key="under")
    _add(engine, api_world, "达标率1000的学校", key="nopct")  # matches 100% only if % were a wildcard
    _add(engine, api_world, "FileXName 整理", key="nounder")  # matches _ only if _ were a wildcard
    assert _ids(client, headers, "office", api_world, q="100%") == [pct]
    assert _ids(client, headers, "office", api_world, q="e_n") == [under]
    assert _ids(client, headers, "office", api_world, q="FILE_NAME") == [under]
    assert _ids(client, headers, "office", api_world, q="%") == [pct]
    assert _ids(client, headers, "office", api_world, q="_") == [under]


def test_search_combines_with_the_other_filters(client, headers, api_world):
    t = api_world.tasks
    school_id = api_world.world.schools["城关一小"].id
    housing = api_world.world.departments["住建局"].id
    assert _ids(client, headers, "office", api_world, q="城关一小", department=housing) == [t["b"].id]
    assert _ids(client, headers, "office", api_world, q="城关一小", indicator="7") == [t["s"].id]
    assert _ids(client, headers, "office", api_world, q="城关一小", school=school_id, status="已销号") == []
    # a unit searches only within what it sees: 住建局 cooperates on a, leads b, never sees s
    assert set(_ids(client, headers, "dept_b", api_world, q="城关一小")) == {t["b"].id}
    r = client.get(f"/api/v1/campaigns/{api_world.code}/tasks", headers=headers["office"],
                   params={"q": "城关一小", "limit": 1})
    assert r.json()["total"] == 2 and len(r.json()["items"]) == 1  # the "of N" counts the search


@pytest.mark.parametrize("params", [{}, {"q": "城关一小"}, {"indicator": "6"}, {"q": "局", "status": "待签收"}])
def test_the_export_holds_the_lists_rows_for_the_same_filters(client, headers, api_world, engine, params):
    for n in range(3):
        _add(engine, api_world, f"局属任务{n}", key=f"extra{n}")
    listed = client.get(f"/api/v1/campaigns/{api_world.code}/tasks", headers=headers["office"],
                        params={"limit": 500, **params}).json()["items"]
    ws = _sheet(client, headers, "office", api_world, **params)
    lines = list(ws.iter_rows(values_only=True))
    assert lines[0] == HEADERS
    names = {d.id: d.name for d in api_world.world.departments.values()}
    phase = api_world.world.phases["self_check"].name
    expected = [(t["id"], t["title"], t["unit_name"], "、".join(names[d] for d in t["cooperating"]), t["status"],
                 dt.date.fromisoformat(t["due_on"]), t["days_overdue"], t["indicator"] or "", phase, "不重复")
                for t in listed]
    got = [(r[0], r[1], r[2], r[3] or "", r[4], r[5].date(), r[6], r[7] or "", r[8], r[9]) for r in lines[1:]]
    assert got == expected
    assert len(got) == len(listed) and listed  # not vacuous


def test_the_export_has_every_page_not_just_the_first(client, headers, api_world, engine):
    for n in range(5):
        _add(engine, api_world, f"分页任务{n}", key=f"page{n}")
    first_page = client.get(f"/api/v1/campaigns/{api_world.code}/tasks", headers=headers["office"],
                            params={"q": "分页", "limit": 2}).json()
    assert len(first_page["items"]) == 2 and first_page["total"] == 5
    ws = _sheet(client, headers, "office", api_world, q="分页")
    assert ws.max_row == 1 + 5


def test_a_units_export_holds_only_its_tasks(client, headers, api_world):
    ws = _sheet(client, headers, "dept_a", api_world)
    assert [r[0] for r in ws.iter_rows(min_row=2, values_only=True)] == [api_world.tasks["a"].id]
    ws = _sheet(client, headers, "school", api_world)
    school_sees = set(_ids(client, headers, "school", api_world))
    assert {r[0] for r in ws.iter_rows(min_row=2, values_only=True)} == school_sees
    assert api_world.tasks["a"].id not in school_sees


def test_the_export_names_a_recurring_tasks_rule(client, headers, api_world, engine):
    monthly = _add(engine, api_world, "月报任务", key="monthly")
    weekly = _add(engine, api_world, "周报任务", key="weekly")
    with Session(engine) as s:
        for task_id, rule in ((monthly, "monthly:25"), (weekly, "weekly:5")):
            task = s.get(Task, task_id)
            task.recurrence = rule
            s.add(task)
        s.commit()
    ws = _sheet(client, headers, "office", api_world, q="报任务")
    assert ws["J1"].value == "重复"
    assert {r[1]: r[9] for r in ws.iter_rows(min_row=2, values_only=True)} == {"月报任务": "每月 25 日",
                                                                               "周报任务": "每周五"}
    plain = _sheet(client, headers, "office", api_world, q="运动场")
    assert [r[9] for r in plain.iter_rows(min_row=2, values_only=True)] == ["不重复"]


def test_a_hostile_title_stays_text(client, headers, api_world, engine):
    title = '=HYPERLINK("http://evil.example/","点我")'
    task_id = _add(engine, api_world, title, measures="+cmd|' /C calc'!A0", key="evil")
    ws = _sheet(client, headers, "office", api_world, q="HYPERLINK")
    (row,) = list(ws.iter_rows(min_row=2))
    assert row[0].value == task_id
    assert row[1].value == title and row[1].data_type == "s" and row[1].quotePrefix


def test_beyond_the_cap_the_export_refuses_in_chinese(client, headers, api_world, monkeypatch, session):
    monkeypatch.setattr(task_export, "MAX_EXPORT_ROWS", 2)
    r = client.get(f"/api/v1/campaigns/{api_world.code}/tasks.xlsx", headers=headers["office"])
    assert r.status_code == 422
    assert "超过导出上限 2 条" in r.json()["detail"]
    office = session.get(User, api_world.users["office"].id)
    with pytest.raises(TooManyToExport):
        export_rows(session, office, api_world.world.campaign.id, TaskFilters(), WORLD_ASSIGNED_ON)
    assert len(export_rows(session, office, api_world.world.campaign.id, TaskFilters(q="城关一小"),
                           WORLD_ASSIGNED_ON)) == 2


def test_the_page_keeps_the_filters_in_its_search_and_export(client, api_world, engine):
    from tests.api.test_pages import log_in

    log_in(client, "office")
    page = client.get("/tasks", params={"q": "城关一小", "indicator": "7"})
    assert page.status_code == 200
    assert 'name="q" value="城关一小"' in page.text
    assert "城关一小补充多媒体教室" in page.text and "城关一小扩建运动场" not in page.text
    assert "/tasks.xlsx?indicator=7&amp;q=" in page.text and "导出 Excel" in page.text
    r = client.get("/tasks.xlsx", params={"q": "城关一小", "indicator": "7"})
    assert r.status_code == 200
    ws = load_workbook(io.BytesIO(r.content)).active
    assert [row[0] for row in ws.iter_rows(min_row=2, values_only=True)] == [api_world.tasks["s"].id]


def test_the_units_lists_search_and_link_their_export(client, api_world, engine):
    from tests.api.test_pages import log_in

    t, w = api_world.tasks, api_world.world
    other = _add(engine, api_world, "财政局另一项100%任务", key="unit-other")
    finance, housing, school = w.departments["财政局"].id, w.departments["住建局"].id, w.schools["城关一小"].id
    log_in(client, "dept_a")
    page = client.get(f"/departments/{finance}", params={"q": "100%"}).text
    assert 'name="q" value="100%"' in page
    assert "财政局另一项100%任务" in page and "补足生均教学仪器设备值" not in page
    assert f"/tasks.xlsx?department={finance}&amp;q=100%25" in page
    ws = load_workbook(io.BytesIO(client.get(f"/tasks.xlsx?department={finance}&q=100%25").content)).active
    assert [r[0] for r in ws.iter_rows(min_row=2, values_only=True)] == [other]
    log_in(client, "dept_b")  # its cooperating list is searched too
    page = client.get(f"/departments/{housing}", params={"q": "仪器"}).text
    assert "补足生均教学仪器设备值" in page and "城关一小扩建运动场" not in page
    log_in(client, "school")
    page = client.get(f"/schools/{school}", params={"q": "多媒体"}).text
    assert "城关一小补充多媒体教室" in page and "城关一小扩建运动场" not in page
    assert f"/tasks.xlsx?school={school}&amp;q=" in page
    ws = load_workbook(io.BytesIO(client.get(f"/tasks.xlsx?school={school}&q=%E5%A4%9A%E5%AA%92%E4%BD%93").content)).active
    assert [r[0] for r in ws.iter_rows(min_row=2, values_only=True)] == [t["s"].id]
