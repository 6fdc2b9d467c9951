"""The office's 督办 moves on the pages (issue 12 §2–3): the forms a role is offered, each form's
move, a refusal shown and nothing stored, and 批量签收 on a unit's page."""

from __future__ import annotations

from sqlmodel import select

from tests.api.test_pages import log_in
from tracker.events.models import Event
from tracker.tasks.models import CooperatorReport, Evidence, Task, TaskExtension


def test_extension_asked_on_the_page_and_decided_by_the_office(client, api_world, engine, session):
    task = api_world.fresh_task(engine, "page-ext", unit="财政局", state="已签收")
    token = log_in(client, "dept_a")
    page = client.get(f"/tasks/{task.id}").text
    assert f'action="/tasks/{task.id}/moves/extension"' in page
    assert "/moves/due" not in page and "/moves/transfer" not in page  # office moves not offered
    r = client.post(f"/tasks/{task.id}/moves/extension", data={"csrf_token": token, "due_on": "2026-12-01",
                                                              "reason": "资金下达推迟"})
    assert "必须晚于当前截止日期" in r.text
    assert session.exec(select(TaskExtension).where(TaskExtension.task_id == task.id)).first() is None
    r = client.post(f"/tasks/{task.id}/moves/extension", data={"csrf_token": token, "due_on": "2026-12-31",
                                                              "reason": "资金下达推迟"}, follow_redirects=False)
    assert r.status_code == 303
    page = client.get(f"/tasks/{task.id}").text
    assert "延期申请（待审批）" in page and "资金下达推迟" in page and "/moves/extension" not in page

    token = log_in(client, "office")
    assert f'href="/tasks/{task.id}#extension"' in client.get("/overview").text  # the office's queue
    page = client.get(f"/tasks/{task.id}").text
    ext = session.exec(select(TaskExtension).where(TaskExtension.task_id == task.id)).one()
    assert f'action="/extensions/{ext.id}/approve"' in page
    client.post(f"/extensions/{ext.id}/approve", data={"csrf_token": token, "reason": "同意"})
    session.expire_all()
    assert str(session.get(Task, task.id).due_on) == "2026-12-31"
    page = client.get(f"/tasks/{task.id}").text
    assert "同意延期：2026-12-18 → 2026-12-31" in page

    # a unit deciding: 403
    token = log_in(client, "dept_a")
    assert client.post(f"/extensions/{ext.id}/refuse", data={"csrf_token": token, "reason": "x"}).status_code == 403


def test_the_office_redates_transfers_and_splits_on_the_page(client, api_world, engine, session):
    task = api_world.fresh_task(engine, "page-moves", unit="财政局", state="已签收")
    token = log_in(client, "office")
    page = client.get(f"/tasks/{task.id}").text
    for form in ("/moves/due", "/moves/transfer", "/moves/split"):
        assert f'action="/tasks/{task.id}{form}"' in page
    client.post(f"/tasks/{task.id}/moves/due", data={"csrf_token": token, "due_on": "2026-12-25", "reason": "上级调整"})
    r = client.post(f"/tasks/{task.id}/moves/split", data={"csrf_token": token, "title": "各学校 5 月底前完成",
                                                          "units": ["城关一小", "住建局"], "due_on": "2026-12-20"})
    assert r.status_code == 200 and "已分解任务" in r.text
    page = client.get(f"/tasks/{task.id}").text
    assert "分解的子任务（2）" in page and page.count("各学校 5 月底前完成") == 2
    kid = session.exec(select(Task).where(Task.parent_id == task.id).order_by(Task.id)).first()
    assert f'href="/tasks/{task.id}"' in client.get(f"/tasks/{kid.id}").text  # the child names its parent
    r = client.post(f"/tasks/{task.id}/moves/split", data={"csrf_token": token, "title": "晚了",
                                                          "units": ["城关一小"], "due_on": "2027-02-01"})
    assert "不能晚于" in r.text
    client.post(f"/tasks/{task.id}/moves/transfer", data={"csrf_token": token, "lead": "住建局", "reason": "职责调整"})
    session.expire_all()
    moved = session.get(Task, task.id)
    assert (moved.department_id, moved.status) == (api_world.world.departments["住建局"].id, "待签收")
    types = [e.type for e in session.exec(select(Event).where(Event.task_id == task.id).order_by(Event.id))]
    assert types[-3:] == ["task.due_changed", "task.split", "task.transferred"]


def test_a_cooperating_unit_reports_on_the_page_and_the_office_chases(client, api_world, engine, session):
    task = api_world.fresh_task(engine, "page-coop", unit="财政局", state="已签收")
    token = log_in(client, "dept_b")
    page = client.get(f"/tasks/{task.id}").text
    assert f'action="/tasks/{task.id}/moves/share"' in page and "尚未报告" in page
    client.post(f"/tasks/{task.id}/moves/share", data={"csrf_token": token, "percent": "70", "note": "图纸已审"})
    token = log_in(client, "dept_a")
    page = client.get(f"/tasks/{task.id}").text
    assert "图纸已审" in page and "/moves/share" not in page  # the lead unit sees it, does not report it
    token = log_in(client, "office")
    dept_b = api_world.world.departments["住建局"].id
    r = client.post(f"/tasks/{task.id}/moves/chase/{dept_b}", data={"csrf_token": token, "note": "请本周内完成"})
    assert "已向配合单位发出催办" in r.text


def test_batch_accept_on_the_units_page(client, api_world, engine, session):
    tasks = [api_world.fresh_task(engine, f"page-batch-{i}", unit="财政局", state="待签收") for i in range(3)]
    other = api_world.fresh_task(engine, "page-batch-b", unit="住建局", state="待签收")
    dept_a = api_world.world.departments["财政局"].id
    token = log_in(client, "dept_a")
    page = client.get(f"/departments/{dept_a}").text
    assert 'action="/units/accept"' in page
    assert all(f'name="task_ids" value="{t.id}"' in page for t in tasks)
    r = client.post("/units/accept", data={"csrf_token": token, "back": f"/departments/{dept_a}",
                                           "task_ids": [str(t.id) for t in tasks[:2]] + [str(other.id)]})
    assert r.status_code == 200 and "已签收 2 项任务" in r.text and "1 项未能签收" in r.text
    session.expire_all()
    assert [session.get(Task, t.id).status for t in tasks] == ["已签收", "已签收", "待签收"]
    assert session.get(Task, other.id).status == "待签收"
    r = client.post("/units/accept", data={"back": f"/departments/{dept_a}", "task_ids": [str(tasks[2].id)]})
    assert r.status_code == 403  # no CSRF token: nothing signed
    session.expire_all()
    assert session.get(Task, tasks[2].id).status == "待签收"


def test_a_refused_form_comes_back_with_what_was_typed(client, api_world, engine, session):
    """Refused input: the task page again (422) with the refusal and the typed values, escaped, in
    the same form's fields; nothing stored."""
    task = api_world.fresh_task(engine, "page-typed", unit="财政局", state="已签收")
    events = session.exec(select(Event).where(Event.task_id == task.id)).all()
    token = log_in(client, "dept_a")
    r = client.post(f"/tasks/{task.id}/moves/extension", data={"csrf_token": token, "due_on": "2026-12-01",
                                                              "reason": "资金<b>下达</b>推迟"})
    assert r.status_code == 422 and "必须晚于当前截止日期" in r.text
    assert 'value="2026-12-01"' in r.text and "资金&lt;b&gt;下达&lt;/b&gt;推迟</textarea>" in r.text
    r = client.post(f"/tasks/{task.id}/actions/progress", data={"csrf_token": token, "percent": "七成",
                                                              "note": "图纸已送审"})
    assert r.status_code == 422 and 'value="七成"' in r.text and ">图纸已送审</textarea>" in r.text
    token = log_in(client, "office")
    r = client.post(f"/tasks/{task.id}/moves/split", data={"csrf_token": token, "title": "各校自查",
                                                          "units": ["城关一小"], "due_on": "2027-02-01",
                                                          "measures": "逐校核对"})
    assert r.status_code == 422 and "不能晚于" in r.text
    assert 'value="各校自查"' in r.text and 'value="城关一小" selected' in r.text and ">逐校核对</textarea>" in r.text
    assert 'value="2027-02-01"' in r.text
    session.expire_all()
    assert session.exec(select(Event).where(Event.task_id == task.id)).all() == events
    assert session.exec(select(Task).where(Task.parent_id == task.id)).first() is None
    assert session.exec(select(TaskExtension).where(TaskExtension.task_id == task.id)).first() is None


def test_a_cooperating_unit_attaches_one_of_the_tasks_evidence_to_its_report(client, api_world, engine, session):
    task = api_world.fresh_task(engine, "page-coop-ev", unit="财政局", state="已签收")
    other = api_world.fresh_task(engine, "page-coop-ev2", unit="财政局", state="已签收")
    token = log_in(client, "dept_b")
    assert 'name="evidence_id"' not in client.get(f"/tasks/{task.id}").text  # no file yet: no picker
    pdf = ("图纸审查意见.pdf", b"%PDF-1.4\n%coop-page\n%%EOF\n", "application/pdf")
    assert client.post(f"/tasks/{task.id}/evidence", data={"csrf_token": token}, files={"file": pdf},
                       follow_redirects=False).status_code == 303
    client.post(f"/tasks/{other.id}/evidence", data={"csrf_token": token},
                files={"file": ("别的任务.pdf", b"%PDF-1.4\n%other\n%%EOF\n", "application/pdf")})
    mine = session.exec(select(Evidence).where(Evidence.task_id == task.id)).one()
    theirs = session.exec(select(Evidence).where(Evidence.task_id == other.id)).one()
    page = client.get(f"/tasks/{task.id}").text
    assert f'<option value="{mine.id}">图纸审查意见.pdf' in page and f'value="{theirs.id}"' not in page
    # another task's file: refused, nothing stored
    r = client.post(f"/tasks/{task.id}/moves/share", data={"csrf_token": token, "percent": "40", "note": "",
                                                          "evidence_id": str(theirs.id)})
    assert r.status_code == 422 and "不属于任务" in r.text and 'value="40"' in r.text
    assert session.exec(select(CooperatorReport).where(CooperatorReport.task_id == task.id)).first() is None
    # its own file, no note: reported, and shown with the report
    r = client.post(f"/tasks/{task.id}/moves/share", data={"csrf_token": token, "percent": "40", "note": "",
                                                          "evidence_id": str(mine.id)})
    assert r.status_code == 200 and "已报告配合事项进展" in r.text
    report = session.exec(select(CooperatorReport).where(CooperatorReport.task_id == task.id)).one()
    assert (report.percent, report.evidence_id) == (40, mine.id)
    log_in(client, "dept_a")
    assert f'（佐证：<a href="/evidence/{mine.id}">图纸审查意见.pdf</a>）' in client.get(f"/tasks/{task.id}").text
