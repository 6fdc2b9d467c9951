"""The office's 督办 moves over HTTP (issue 12 §2–3): 延期申请 → approve / refuse, 调整时限, 转办,
分解, 联办, 批量签收 — each answer, each refusal (409 / 403 / 422, Chinese) and that a refusal
stores nothing."""

from __future__ import annotations

from sqlalchemy import func
from sqlmodel import select

from tracker.events.models import Event
from tracker.notices.models import NoticeItem
from tracker.tasks.models import TaskExtension


def _count(engine_session, model, *where) -> int:
    return engine_session.exec(select(func.count()).select_from(model).where(*where)).one()


def _events(client, headers, task_id) -> list[str]:
    return [e["type"] for e in client.get(f"/api/v1/tasks/{task_id}/events", headers=headers).json()]


def test_extension_requested_shown_approved_and_the_unit_told(client, headers, api_world, engine, session):
    task = api_world.fresh_task(engine, "ext-1", unit="财政局", state="已签收")
    a, office = headers["dept_a"], headers["office"]
    r = client.post(f"/api/v1/tasks/{task.id}/extension", headers=a,
                    json={"due_on": "2026-12-31", "reason": "资金下达推迟"})
    assert r.status_code == 201, r.text
    ext_id = r.json()["id"]
    assert r.json()["status"] == "待审批" and r.json()["due_from"] == "2026-12-18"

    shown = client.get(f"/api/v1/tasks/{task.id}", headers=office).json()
    assert shown["pending_extension"]["id"] == ext_id and shown["pending_extension"]["due_on"] == "2026-12-31"
    listed = client.get(f"/api/v1/campaigns/{api_world.code}/tasks", headers=a, params={"limit": 500}).json()
    assert [t["pending_extension"]["id"] for t in listed["items"] if t["id"] == task.id] == [ext_id]
    # the list joins the request in (tracker.accounts.task_list): the same answer as the task's own
    [in_list] = [t for t in listed["items"] if t["id"] == task.id]
    assert in_list == client.get(f"/api/v1/tasks/{task.id}", headers=a).json()

    # the office's queue; a unit that does not see the task does not see its request
    queue = client.get(f"/api/v1/campaigns/{api_world.code}/extensions", headers=office, params={"status": "待审批"})
    assert [e["id"] for e in queue.json()] == [ext_id]
    assert client.get(f"/api/v1/campaigns/{api_world.code}/extensions", headers=headers["school"]).json() == []

    # one pending request per task
    again = client.post(f"/api/v1/tasks/{task.id}/extension", headers=a, json={"due_on": "2027-01-08", "reason": "再延"})
    assert again.status_code == 409 and "已有待审批的延期申请" in again.json()["detail"]

    r = client.post(f"/api/v1/extensions/{ext_id}/approve", headers=office, json={"note": "同意"})
    assert (r.status_code, r.json()["status"]) == (200, "已同意"), r.text
    shown = client.get(f"/api/v1/tasks/{task.id}", headers=a).json()
    assert shown["due_on"] == "2026-12-31" and shown["pending_extension"] is None
    assert _events(client, office, task.id)[-2:] == ["task.extension_requested", "task.extension_approved"]
    told = session.exec(select(NoticeItem).where(NoticeItem.task_id == task.id, NoticeItem.rung == "extension")).all()
    assert told and all("2026年12月31日" in n.payload["reason"] for n in told)

    # decided: deciding again is refused, nothing changes
    events_before = _count(session, Event)
    r = client.post(f"/api/v1/extensions/{ext_id}/refuse", headers=office, json={"reason": "不行"})
    assert r.status_code == 409 and "不能再审批" in r.json()["detail"]
    session.expire_all()
    assert _count(session, Event) == events_before


def test_extension_refused_with_a_reason(client, headers, api_world, engine):
    task = api_world.fresh_task(engine, "ext-2", unit="财政局", state="已签收")
    ext_id = client.post(f"/api/v1/tasks/{task.id}/extension", headers=headers["dept_a"],
                         json={"due_on": "2026-12-31", "reason": "资金下达推迟"}).json()["id"]
    r = client.post(f"/api/v1/extensions/{ext_id}/refuse", headers=headers["office"], json={"reason": " "})
    assert r.status_code == 422
    r = client.post(f"/api/v1/extensions/{ext_id}/refuse", headers=headers["office"], json={"reason": "时间节点不能后延"})
    assert (r.status_code, r.json()["status"], r.json()["decision_note"]) == (200, "不同意", "时间节点不能后延")
    assert client.get(f"/api/v1/tasks/{task.id}", headers=headers["office"]).json()["due_on"] == "2026-12-18"


def test_bad_extension_requests_are_422_and_store_nothing(client, headers, api_world, engine, session):
    task = api_world.fresh_task(engine, "ext-3", unit="财政局", state="已签收")
    a = headers["dept_a"]
    for body, word in [({"due_on": "2026-12-10", "reason": "理由"}, "必须晚于"),
                       ({"due_on": "2026-13-40", "reason": "理由"}, "due_on"),
                       ({"due_on": "2026-12-31", "reason": ""}, "reason")]:
        r = client.post(f"/api/v1/tasks/{task.id}/extension", headers=a, json=body)
        assert r.status_code == 422, r.text
        assert word in r.text
    assert _count(session, TaskExtension, TaskExtension.task_id == task.id) == 0


def test_the_office_redates_and_transfers(client, headers, api_world, engine):
    task = api_world.fresh_task(engine, "redate-1", unit="财政局", state="已签收")
    office = headers["office"]
    r = client.post(f"/api/v1/tasks/{task.id}/due", headers=office, json={"due_on": "2027-01-15", "reason": "上级调整"})
    assert (r.status_code, r.json()["due_on"]) == (200, "2027-01-15"), r.text
    r = client.post(f"/api/v1/tasks/{task.id}/due", headers=office, json={"due_on": "2027-01-15", "reason": "再调"})
    assert r.status_code == 422 and "已是" in r.json()["detail"]

    r = client.post(f"/api/v1/tasks/{task.id}/transfer", headers=office, json={"lead": "住建", "reason": "职责调整"})
    assert r.status_code == 200, r.text
    assert (r.json()["unit_name"], r.json()["status"], r.json()["cooperating"]) == ("住建局", "待签收", [])
    assert _events(client, office, task.id)[-2:] == ["task.due_changed", "task.transferred"]
    r = client.post(f"/api/v1/tasks/{task.id}/transfer", headers=office, json={"lead": "不存在局", "reason": "x"})
    assert r.status_code == 422 and "新的牵头单位「不存在局」" in r.json()["detail"]
    # the old lead unit no longer sees it; the new one signs
    assert client.get(f"/api/v1/tasks/{task.id}", headers=headers["dept_a"]).status_code == 403
    assert client.post(f"/api/v1/tasks/{task.id}/accept", headers=headers["dept_b"]).status_code == 200


def test_split_children_and_the_parent_waits_for_them(client, headers, api_world, engine):
    task = api_world.fresh_task(engine, "split-1", unit="财政局", state="办理中")
    a, office, school = headers["dept_a"], headers["office"], headers["school"]
    r = client.post(f"/api/v1/tasks/{task.id}/split", headers=a, json={"children": [
        {"title": "城关一小完善功能室", "lead": "城关一小", "due_on": "2026-12-18"},
        {"title": "住建局审核图纸", "lead": "住建局", "due_on": "2026-12-11", "measures": "本周完成"}]})
    assert r.status_code == 201, r.text
    kids = r.json()
    assert [k["parent_id"] for k in kids] == [task.id, task.id]
    assert [k["unit_name"] for k in kids] == ["城关一小", "住建局"]
    listed = client.get(f"/api/v1/tasks/{task.id}/children", headers=a).json()
    assert [k["id"] for k in listed] == [k["id"] for k in kids]

    r = client.post(f"/api/v1/tasks/{task.id}/submit", headers=a, json={"note": "完成"})
    assert r.status_code == 409 and "分解任务尚未全部销号" in r.json()["detail"]
    for kid, who in zip(kids, (school, headers["dept_b"])):
        for move in ("accept", "submit"):
            assert client.post(f"/api/v1/tasks/{kid['id']}/{move}", headers=who).status_code == 200
        assert client.post(f"/api/v1/tasks/{kid['id']}/verify", headers=office).status_code == 200
    r = client.post(f"/api/v1/tasks/{task.id}/submit", headers=a, json={"note": "完成"})
    assert (r.status_code, r.json()["status"]) == (200, "已提交")

    bad = api_world.fresh_task(engine, "split-2", unit="财政局", state="已签收")
    r = client.post(f"/api/v1/tasks/{bad.id}/split", headers=office, json={"children": [
        {"title": "甲", "lead": "城关一小", "due_on": "2026-12-18"}, {"title": "乙", "lead": "无此校", "due_on": "2026-12-18"}]})
    assert r.status_code == 422 and "第 2 项子任务的责任单位「无此校」" in r.json()["detail"]
    assert client.get(f"/api/v1/tasks/{bad.id}/children", headers=office).json() == []


def test_a_cooperating_unit_reports_and_the_office_chases_it(client, headers, api_world, engine, session):
    task = api_world.fresh_task(engine, "coop-1", unit="财政局", state="已签收")
    b, office = headers["dept_b"], headers["office"]
    r = client.post(f"/api/v1/tasks/{task.id}/cooperator-report", headers=b, json={"percent": 101, "note": "x"})
    assert r.status_code == 422
    # the cooperating unit uploads the evidence of its share (today it could only read), then reports
    up = client.post(f"/api/v1/tasks/{task.id}/evidence", headers=b,
                     files={"file": ("图纸审查意见.pdf", b"%PDF-1.4\n%coop\n%%EOF\n", "application/pdf")})
    assert up.status_code == 201, up.text
    r = client.post(f"/api/v1/tasks/{task.id}/cooperator-report", headers=b,
                    json={"percent": 60, "note": "图纸已审", "evidence_id": up.json()["id"]})
    assert r.status_code == 201, r.text
    assert r.json()["department_id"] == api_world.world.departments["住建局"].id
    assert r.json()["evidence_id"] == up.json()["id"]
    other = api_world.fresh_task(engine, "coop-other", unit="财政局", state="已签收")
    r = client.post(f"/api/v1/tasks/{other.id}/cooperator-report", headers=b,
                    json={"percent": 60, "note": "x", "evidence_id": up.json()["id"]})
    assert r.status_code == 422 and "不属于任务" in r.json()["detail"]
    reports = client.get(f"/api/v1/tasks/{task.id}/cooperator-reports", headers=headers["dept_a"]).json()
    assert [(x["percent"], x["note"]) for x in reports] == [(60, "图纸已审")]
    assert client.get(f"/api/v1/tasks/{task.id}", headers=b).json()["status"] == "已签收"  # the task does not move

    dept_b = api_world.world.departments["住建局"].id
    r = client.post(f"/api/v1/tasks/{task.id}/cooperators/{dept_b}/chase", headers=office, json={"note": "请本周内完成"})
    assert (r.status_code, r.json()["occurrence"], r.json()["unit"]) == (201, 1, "住建局"), r.text
    items = session.exec(select(NoticeItem).where(NoticeItem.task_id == task.id, NoticeItem.rung == "coop_chase")).all()
    assert items and items[0].payload["reason"] == "请本周内完成"
    dept_a = api_world.world.departments["财政局"].id
    r = client.post(f"/api/v1/tasks/{task.id}/cooperators/{dept_a}/chase", headers=office)
    assert r.status_code == 422 and "不是任务" in r.json()["detail"]


def test_batch_accept_signs_what_it_can_and_lists_the_rest(client, headers, api_world, engine, session):
    tasks = [api_world.fresh_task(engine, f"batch-{i}", unit="财政局", state="待签收") for i in range(3)]
    signed = api_world.fresh_task(engine, "batch-signed", unit="财政局", state="已签收")
    theirs = api_world.fresh_task(engine, "batch-b", unit="住建局", state="待签收")
    ids = [t.id for t in tasks] + [signed.id, theirs.id, 2_000_000]
    r = client.post(f"/api/v1/campaigns/{api_world.code}/tasks/accept", headers=headers["dept_a"],
                    json={"task_ids": ids})
    assert r.status_code == 200, r.text
    assert r.json()["accepted"] == [t.id for t in tasks]
    refused = {x["task_id"]: x["reason"] for x in r.json()["refused"]}
    assert set(refused) == {signed.id, theirs.id, 2_000_000}
    assert "已签收" in refused[signed.id] and "没有编号" in refused[2_000_000]
    for t in tasks:
        assert _events(client, headers["office"], t.id).count("task.accepted") == 1
    assert client.get(f"/api/v1/tasks/{theirs.id}", headers=headers["office"]).json()["status"] == "待签收"
    r = client.post(f"/api/v1/campaigns/{api_world.code}/tasks/accept", headers=headers["dept_a"], json={"task_ids": []})
    assert r.status_code == 422
