"""交办 and 已退回 over HTTP and on the pages (issue 12 §1, §4), on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import io
from zoneinfo import ZoneInfo

import pytest
import time_machine
from openpyxl import Workbook
from sqlalchemy import func
from sqlmodel import select

from tests.api.test_pages import log_in
from tracker.events.models import Event
from tracker.notices.models import NoticeItem, Rung
from tracker.tasks.models import Task


# The bodies' dates (due 2027-01-15 …) are dates to come: "now" is frozen before them, so the
# no-born-overdue rule leaves them as written on any day the tests run (issue 9).
@pytest.fixture(autouse=True)
def _before_the_due_dates():
    with time_machine.travel(dt.datetime(2026, 12, 7, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai")), tick=True):
        yield

BODY = {"title": "迎检路线踏勘", "source": "会议决定", "source_ref": "领导小组第 3 次会议（2026-12-01）",
        "measures": "踏勘并拍照", "lead": "财政", "cooperating": ["住建局"], "phase": "整改",
        "due_on": "2027-01-15", "evidence_required": True}
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _count(session, model) -> int:
    session.expire_all()
    return session.exec(select(func.count()).select_from(model)).one()


def _sheet(rows) -> bytes:
    wb = Workbook()
    wb.active.title = "任务清单"
    wb.active.append(["序号", "任务名称", "事项来源", "牵头单位", "配合单位", "完成时限", "须上传佐证材料"])
    for row in rows:
        wb.active.append(row)
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def test_the_office_assigns_over_the_api(client, headers, api_world, session):
    url = f"/api/v1/campaigns/{api_world.code}/tasks"
    r = client.post(url, json=BODY, headers=headers["office"])
    assert r.status_code == 201, r.text
    task = r.json()
    assert task["status"] == "待签收" and task["due_on"] == "2027-01-15" and task["id"] >= 1
    assert (task["source"], task["evidence_required"], task["origin"], task["returned"]) == (
        "会议决定", True, "office", False)
    assert task["unit_name"] == "财政局" and len(task["cooperating"]) == 1
    assert session.get(Task, task["id"]).title == "迎检路线踏勘"


def test_a_bad_field_is_named_and_nothing_is_stored(client, headers, api_world, session):
    url = f"/api/v1/campaigns/{api_world.code}/tasks"
    tasks, events = _count(session, Task), _count(session, Event)
    r = client.post(url, json={**BODY, "lead": "教育局"}, headers=headers["office"])
    assert r.status_code == 422
    assert [p["location"] for p in r.json()["problems"]] == ["body.lead"]
    assert "教育局" in r.json()["detail"]
    r = client.post(url, json={**BODY, "due_on": "2027-02-30"}, headers=headers["office"])
    assert r.status_code == 422 and "due_on" in r.json()["problems"][0]["location"]
    r = client.post(url, json={**BODY, "source": "传闻"}, headers=headers["office"])
    assert r.status_code == 422 and "source" in r.json()["problems"][0]["location"]
    r = client.post(url, json={k: v for k, v in BODY.items() if k != "title"}, headers=headers["office"])
    assert r.status_code == 422 and "title" in r.json()["problems"][0]["location"]
    assert (_count(session, Task), _count(session, Event)) == (tasks, events)


def test_a_tasklist_over_the_api_is_checked_whole_and_imported_once(client, headers, api_world, session):
    url = f"/api/v1/campaigns/{api_world.code}/tasks/import"
    template = client.get(f"/api/v1/campaigns/{api_world.code}/tasks/template", headers=headers["office"])
    assert template.status_code == 200 and template.headers["content-type"] == XLSX
    tasks = _count(session, Task)
    bad = _sheet([[1, "踏勘", "会议决定", "教育局", "", "2027-01-15", ""], [2, "", "其他", "财政局", "", "2027-01-15", ""]])
    r = client.post(url, files={"file": ("清单.xlsx", bad, XLSX)}, headers=headers["office"])
    assert r.status_code == 422
    assert {(p["row"], p["column"]) for p in r.json()["problems"]} == {(2, "牵头单位"), (3, "任务名称")}
    assert _count(session, Task) == tasks
    good = _sheet([[1, "踏勘", "会议决定", "财政局", "住建局", "2027-01-15", "是"]])
    r = client.post(url, files={"file": ("清单.xlsx", good, XLSX)}, headers=headers["office"])
    assert r.status_code == 201 and len(r.json()["created"]) == 1
    r = client.post(url, files={"file": ("清单.xlsx", good, XLSX)}, headers=headers["office"])
    assert r.status_code == 201 and r.json() == {"created": [], "unchanged": 1}
    assert _count(session, Task) == tasks + 1


def test_the_office_edits_its_task_and_the_unit_is_told(client, headers, api_world, session):
    created = client.post(f"/api/v1/campaigns/{api_world.code}/tasks", json=BODY, headers=headers["office"]).json()
    r = client.patch(f"/api/v1/tasks/{created['id']}", json={"reason": "会议调整", "due_on": "2027-01-29"},
                     headers=headers["office"])
    assert r.status_code == 200 and r.json()["due_on"] == "2027-01-29"
    [event] = session.exec(select(Event).where(Event.task_id == created["id"], Event.type == "task.edited")).all()
    assert event.payload == {"changes": {"due_on": ["2027-01-15", "2027-01-29"]}, "reason": "会议调整"}
    assert session.exec(select(NoticeItem).where(NoticeItem.task_id == created["id"],
                                                 NoticeItem.rung == Rung.changed.value)).all()
    r = client.patch(f"/api/v1/tasks/{created['id']}", json={"due_on": "2027-01-30"}, headers=headers["office"])
    assert r.status_code == 422  # no reason
    derived = api_world.tasks["a"].id
    r = client.patch(f"/api/v1/tasks/{derived}", json={"reason": "x", "due_on": "2027-01-30"}, headers=headers["office"])
    assert r.status_code == 409 and "不是办公室交办的任务" in r.json()["detail"]


def test_submit_without_evidence_is_409_and_returned_shows_everywhere(client, headers, api_world, session):
    created = client.post(f"/api/v1/campaigns/{api_world.code}/tasks", json=BODY, headers=headers["office"]).json()
    task_id = created["id"]
    assert client.post(f"/api/v1/tasks/{task_id}/accept", headers=headers["dept_a"]).status_code == 200
    r = client.post(f"/api/v1/tasks/{task_id}/submit", json={"note": "完成"}, headers=headers["dept_a"])
    assert r.status_code == 409 and "要求上传佐证材料后才能提交" in r.json()["detail"]
    assert session.get(Task, task_id).status == "已签收"
    r = client.post(f"/api/v1/tasks/{task_id}/evidence", headers=headers["dept_a"],
                    files={"file": ("验收单.pdf", b"%PDF-1.4\n%x\n%%EOF\n", "application/pdf")})
    assert r.status_code == 201, r.text
    assert client.post(f"/api/v1/tasks/{task_id}/submit", json={"note": "完成"},
                       headers=headers["dept_a"]).status_code == 200
    r = client.post(f"/api/v1/tasks/{task_id}/return", json={"reason": "照片不清晰"}, headers=headers["office"])
    assert r.status_code == 200 and r.json()["returned"] is True and r.json()["return_reason"] == "照片不清晰"
    # the notice is queued at once
    assert session.exec(select(NoticeItem).where(NoticeItem.task_id == task_id,
                                                 NoticeItem.rung == Rung.returned.value)).all()
    # lists and filters show it, for the office and the unit
    base = f"/api/v1/campaigns/{api_world.code}/tasks"
    for role in ("office", "dept_a"):
        items = client.get(base + "?returned=true", headers=headers[role]).json()["items"]
        assert [t["id"] for t in items] == [task_id] and items[0]["returned"]
        assert task_id not in [t["id"] for t in client.get(base + "?returned=false", headers=headers[role]).json()["items"]]
    # pages: the task page and the unit's home page carry the reason, the list the mark
    log_in(client, "dept_a")
    assert "照片不清晰" in client.get(f"/tasks/{task_id}").text
    dept = api_world.world.departments["财政局"].id
    home = client.get(f"/departments/{dept}").text
    assert "已退回的任务" in home and "照片不清晰" in home
    listed = client.get("/tasks?returned=1").text
    assert "已退回" in listed and f'href="/tasks/{task_id}"' in listed
    assert f'href="/tasks/{api_world.tasks["a"].id}"' not in listed
    # submitted again: the mark is gone
    client.post(f"/api/v1/tasks/{task_id}/submit", json={"note": "已换照片"}, headers=headers["dept_a"])
    assert client.get(f"/api/v1/tasks/{task_id}", headers=headers["office"]).json()["returned"] is False
    assert "已退回的任务" not in client.get(f"/departments/{dept}").text


def test_the_office_assigns_and_edits_on_the_pages(client, api_world, session):
    token = log_in(client, "office")
    page = client.get("/tasks").text
    assert 'action="/tasks/new"' in page and 'action="/tasks/import"' in page
    r = client.post("/tasks/new", data={"csrf_token": token, "title": "迎检材料汇编", "lead": "财政局",
                                        "due_on": "2027-01-15", "source": "领导批示", "cooperating": ["住建局"],
                                        "evidence_required": "1"}, follow_redirects=False)
    assert r.status_code == 303, r.text
    task_id = int(r.headers["location"].rsplit("/", 1)[1])
    task = session.get(Task, task_id)
    assert task.evidence_required and task.source == "领导批示"
    page = client.get(f"/tasks/{task_id}").text
    assert "领导批示" in page and f'action="/tasks/{task_id}/edit"' in page
    tasks = _count(session, Task)
    r = client.post("/tasks/new", data={"csrf_token": token, "title": "x<script>", "lead": "教育局",
                                        "due_on": "2027-01-15", "source": "领导批示", "measures": "逐校核对",
                                        "cooperating": ["住建局"], "recurrence": "每月 25 日"})
    assert r.status_code == 422 and "任务未保存" in r.text and _count(session, Task) == tasks
    # the form comes back open with what was typed, escaped
    assert 'value="x&lt;script&gt;"' in r.text and ">逐校核对</textarea>" in r.text and 'value="每月 25 日"' in r.text
    assert '<option value="领导批示" selected>' in r.text and '<option value="住建局" selected>' in r.text
    assert 'value="2027-01-15"' in r.text
    r = client.post(f"/tasks/{task_id}/edit", data={"csrf_token": token, "reason": "会议调整", "title": "迎检材料汇编",
                                                    "measures": "", "cooperating": "住建局", "due_on": "2027-01-22"})
    assert "已调整任务" in r.text
    r = client.post(f"/tasks/{task_id}/edit", data={"csrf_token": token, "reason": "会议调整", "title": "迎检汇编（新）",
                                                    "measures": "按新要求", "cooperating": "不存在的局",
                                                    "due_on": "2027-01-29"})
    assert r.status_code == 422 and "未作改动" in r.text
    assert 'value="迎检汇编（新）"' in r.text and ">按新要求</textarea>" in r.text and 'value="不存在的局"' in r.text
    assert 'value="会议调整"' in r.text and 'value="2027-01-29"' in r.text
    session.expire_all()
    assert session.get(Task, task_id).due_on.isoformat() == "2027-01-22"
    r = client.post("/tasks/import", data={"csrf_token": token},
                    files={"file": ("清单.xlsx", _sheet([[1, "", "其他", "财政局", "", "2027-01-15", ""]]), XLSX)})
    assert "第 2 行「任务名称」" in r.text and _count(session, Task) == tasks
    assert client.get("/tasks/template.xlsx").headers["content-type"] == XLSX
    # a unit has neither the form nor the routes
    token = log_in(client, "dept_a")
    assert 'action="/tasks/new"' not in client.get("/tasks").text
    r = client.post("/tasks/new", data={"csrf_token": token, "title": "x", "lead": "财政局", "due_on": "2027-01-15"})
    assert r.status_code == 403 and _count(session, Task) == tasks
    assert client.get("/tasks/template.xlsx").status_code == 403
