"""The pages: who sees which, the task forms, evidence over a page, the data upload and its
approval. Logged in through the real login form; every form carries the CSRF token."""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from zoneinfo import ZoneInfo

import pytest
import time_machine
from sqlmodel import select

from tests.api.conftest import PASSWORD
from tests.factories import make_school_rows, write_csv
from tests.tracker.evidence import samples
from tracker.events.models import Event
from tracker.schooldata.models import DataSubmission
from tracker.settings import get_settings
from tracker.tasks.models import Evidence, Task

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def log_in(client, username: str) -> str:
    """Log in through the form; the session's CSRF token for later forms."""
    client.cookies.clear()
    form = client.get("/login")
    r = client.post("/login", data={"username": username, "password": PASSWORD, "next": "/",
                                    "csrf_token": CSRF.search(form.text).group(1)}, follow_redirects=False)
    assert r.status_code == 303, r.text
    return CSRF.search(client.get("/logout").text).group(1)


def stored_files() -> list:
    root = get_settings().data_dir / "evidence"
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def test_each_role_sees_its_pages(client, api_world):
    w = api_world.world
    a, s = api_world.tasks["a"].id, api_world.tasks["s"].id
    finance, housing, school = w.departments["财政局"].id, w.departments["住建局"].id, w.schools["城关一小"].id
    own = api_world.submissions["own"].id
    expect = {
        "/overview": dict(office=200, dept_a=403, dept_b=403, school=403, reviewer=200),
        "/indicators": dict(office=200, dept_a=403, dept_b=403, school=403, reviewer=200),
        "/tasks": dict(office=200, dept_a=200, dept_b=200, school=200, reviewer=200),
        f"/tasks/{a}": dict(office=200, dept_a=200, dept_b=200, school=403, reviewer=200),
        f"/tasks/{s}": dict(office=200, dept_a=403, dept_b=403, school=200, reviewer=200),
        "/departments": dict(office=200, dept_a=403, dept_b=403, school=403, reviewer=200),
        f"/departments/{finance}": dict(office=200, dept_a=200, dept_b=403, school=403, reviewer=200),
        f"/departments/{housing}": dict(office=200, dept_a=403, dept_b=200, school=403, reviewer=200),
        f"/schools/{school}": dict(office=200, dept_a=403, dept_b=403, school=200, reviewer=200),
        "/data": dict(office=200, dept_a=403, dept_b=403, school=200, reviewer=200),
        f"/data/{own}": dict(office=200, dept_a=403, dept_b=403, school=200, reviewer=200),
        "/briefings": dict(office=200, dept_a=200, dept_b=200, school=403, reviewer=200),
        "/appraisal": dict(office=200, dept_a=403, dept_b=403, school=403, reviewer=200),
    }
    wrong = []
    for role in ("office", "dept_a", "dept_b", "school", "reviewer"):
        log_in(client, role)
        home = client.get("/", follow_redirects=False)
        assert home.status_code == 303
        for path, codes in expect.items():
            r = client.get(path)
            if r.status_code != codes[role]:
                wrong.append(f"{role} {path}: {r.status_code}")
            elif r.status_code == 403:
                assert "无权" in r.text or "仅限" in r.text
            else:
                assert '<html lang="zh-CN">' in r.text
    assert not wrong, wrong
    client.cookies.clear()
    r = client.get("/overview", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/login?next=/overview"
    log_in(client, "outsider")
    assert client.get(f"/tasks/{a}").status_code == 404  # another campaign's task does not exist


def test_home_goes_where_the_role_works(client, api_world):
    w = api_world.world
    for role, target in [("office", "/overview"), ("reviewer", "/overview"),
                         ("dept_a", f"/departments/{w.departments['财政局'].id}"),
                         ("school", f"/schools/{w.schools['城关一小'].id}")]:
        log_in(client, role)
        assert client.get("/", follow_redirects=False).headers["location"] == target


def test_a_task_moves_through_its_forms(client, api_world, session):
    a = api_world.tasks["a"].id
    token = log_in(client, "dept_a")
    page = client.get(f"/tasks/{a}").text
    assert f'action="/tasks/{a}/actions/accept"' in page and "/actions/verify" not in page

    r = client.post(f"/tasks/{a}/actions/accept", data={"csrf_token": token}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == f"/tasks/{a}"
    page = client.get(f"/tasks/{a}").text
    assert "已签收任务" in page and "更新进度" in page

    r = client.post(f"/tasks/{a}/actions/progress", data={"csrf_token": token, "percent": "很多"})
    assert "进度必须是 0 到 100 之间的整数" in r.text  # shown on the task page, nothing changed
    assert session.get(Task, a).progress == 0
    client.post(f"/tasks/{a}/actions/progress", data={"csrf_token": token, "percent": "60", "note": "资金已到位"})
    client.post(f"/tasks/{a}/actions/submit", data={"csrf_token": token, "note": "设备已采购"})
    session.expire_all()
    assert (session.get(Task, a).status, session.get(Task, a).progress) == ("已提交", 100)
    # a unit cannot 销号 its own task: 403, logged
    r = client.post(f"/tasks/{a}/actions/verify", data={"csrf_token": token})
    assert r.status_code == 403

    token = log_in(client, "office")
    r = client.post(f"/tasks/{a}/actions/return", data={"csrf_token": token, "reason": " "})
    assert "必须说明原因" in r.text
    client.post(f"/tasks/{a}/actions/return", data={"csrf_token": token, "reason": "缺少验收单"})
    page = client.get(f"/tasks/{a}").text
    assert "退回：原因：缺少验收单" in page and "报告进度：进度 60%；资金已到位" in page
    session.expire_all()
    assert session.get(Task, a).status == "办理中"
    types = [e.type for e in session.exec(select(Event).where(Event.task_id == a).order_by(Event.id))]
    assert types == ["task.created", "evidence.added", "task.accepted", "task.progress", "task.submitted",
                     "task.returned"]


def test_a_form_without_its_token_changes_nothing(client, api_world, session):
    a = api_world.tasks["a"].id
    log_in(client, "dept_a")
    r = client.post(f"/tasks/{a}/actions/accept", data={})
    assert r.status_code == 403 and "安全校验未通过" in r.text
    assert session.get(Task, a).status == "待签收"


def test_evidence_upload_download_and_refusals(client, api_world, session):
    a = api_world.tasks["a"].id
    before = len(stored_files())
    token = log_in(client, "dept_a")
    r = client.post(f"/tasks/{a}/evidence", data={"csrf_token": token},
                    files={"file": ("C:\\材料\\验收报告.pdf", samples.pdf(), "application/pdf")}, follow_redirects=False)
    assert r.status_code == 303
    page = client.get(f"/tasks/{a}").text
    assert "已上传佐证材料「验收报告.pdf」" in page
    evidence = session.exec(select(Evidence).where(Evidence.task_id == a, Evidence.filename == "验收报告.pdf")).one()
    assert evidence.uploaded_by == "李科长"
    assert len(stored_files()) == before + 1

    # the same bytes again: kept once
    client.post(f"/tasks/{a}/evidence", data={"csrf_token": token}, files={"file": ("又一份.pdf", samples.pdf())})
    assert len(session.exec(select(Evidence).where(Evidence.task_id == a)).all()) == 2  # the fixture's and ours

    # a wrong type, a disguised file: the page again with the reason, nothing kept
    r = client.post(f"/tasks/{a}/evidence", data={"csrf_token": token}, files={"file": ("工具.exe", b"MZ\x90\x00")})
    assert r.status_code == 415 and "不支持的文件类型「.exe」" in r.text
    r = client.post(f"/tasks/{a}/evidence", data={"csrf_token": token}, files={"file": ("照片.png", samples.pdf())})
    assert r.status_code == 415 and "扩展名与文件内容不符" in r.text
    # no token: refused before the file is kept
    r = client.post(f"/tasks/{a}/evidence", files={"file": ("新.pdf", samples.pdf() + b"%x")})
    assert r.status_code == 403
    assert len(stored_files()) == before + 1

    # download: the cooperating unit may read it; the school may not
    log_in(client, "dept_b")
    r = client.get(f"/evidence/{evidence.id}")
    assert r.status_code == 200 and r.content == samples.pdf()
    disposition = r.headers["content-disposition"]
    assert disposition.startswith('attachment; filename="') and "filename*=UTF-8''%E9%AA%8C%E6%94%B6" in disposition
    assert r.headers["x-content-type-options"] == "nosniff"
    token_b = CSRF.search(client.get("/logout").text).group(1)
    # 联办 (issue 12 §3): the cooperating unit adds the evidence of its own share (it was read-only)
    r = client.post(f"/tasks/{a}/evidence", data={"csrf_token": token_b},
                    files={"file": ("配合.pdf", samples.pdf() + b"%coop")}, follow_redirects=False)
    assert r.status_code == 303
    assert session.exec(select(Evidence).where(Evidence.task_id == a, Evidence.filename == "配合.pdf")).one() \
        .uploaded_by == "住建局联络员"
    log_in(client, "school")
    assert client.get(f"/evidence/{evidence.id}").status_code == 403


def test_an_upload_over_the_limit_is_refused_with_413_and_nothing_kept(client, api_world, monkeypatch):
    monkeypatch.setenv("JUNHENG_EVIDENCE_MAX_BYTES", "2048")
    get_settings.cache_clear()
    a = api_world.tasks["a"].id
    before = stored_files()
    token = log_in(client, "dept_a")
    r = client.post(f"/tasks/{a}/evidence", data={"csrf_token": token},
                    files={"file": ("大文件.pdf", b"%PDF-" + b"0" * 5000)})
    assert r.status_code == 413 and "文件超过大小上限 2 KB" in r.text
    assert stored_files() == before
    r = client.post(f"/tasks/{a}/evidence", data={"csrf_token": token},
                    files={"file": ("小文件.pdf", b"%PDF-" + b"0" * 1000)}, follow_redirects=False)
    assert r.status_code == 303


def test_the_indicator_binder_for_office_and_reviewers(client, api_world):
    a = api_world.tasks["a"].id
    token = log_in(client, "dept_a")
    client.post(f"/tasks/{a}/evidence", data={"csrf_token": token}, files={"file": ("合同.pdf", samples.pdf())})
    assert client.get("/indicators/archive?indicator=6").status_code == 403
    log_in(client, "reviewer")
    r = client.get("/indicators/archive", params={"indicator": "6"})
    assert r.status_code == 200 and r.headers["content-type"] == "application/zip"
    assert "filename*=UTF-8''" in r.headers["content-disposition"]
    with zipfile.ZipFile(io.BytesIO(r.content)) as z:
        names = z.namelist()
    assert names[0] == "目录.xlsx" and any(n.endswith("/合同.pdf") for n in names)
    assert list((get_settings().data_dir / "evidence" / "tmp").iterdir()) == []  # the temporary zip is gone


def _school_sheet(tmp_path, **changes) -> bytes:
    row = dict(make_school_rows(1, seed=2)[0], 学校名称="城关一小", 学校标识码="4101001", 学校类型="小学", **changes)
    return write_csv(tmp_path / "本校.csv", [row]).read_bytes()


def test_a_bad_sheet_comes_back_row_by_row(client, api_world, tmp_path, session):
    token = log_in(client, "office")
    rows = make_school_rows(4, seed=9)
    rows[1]["小学在校生数"] = "两百"
    rows[3]["学校类型"] = "大学"
    data = write_csv(tmp_path / "全县.csv", rows).read_bytes()
    before = len(session.exec(select(DataSubmission)).all())
    r = client.post("/data/upload", data={"csrf_token": token, "label": "复测"},
                    files={"file": ("全县.csv", data, "text/csv")})
    assert r.status_code == 422
    assert "有 2 处问题，未导入任何数据" in r.text
    assert re.search(r'<td class="num">3</td><td>小学在校生数</td>', r.text)
    assert re.search(r'<td class="num">5</td><td>学校类型</td>', r.text)
    assert len(session.exec(select(DataSubmission)).all()) == before


def test_a_schools_row_is_approved_and_traceable(client, api_world, tmp_path, session):
    token = log_in(client, "school")
    r = client.post("/data/upload", data={"csrf_token": token},
                    files={"file": ("本校.csv", _school_sheet(tmp_path), "text/csv")}, follow_redirects=False)
    assert r.status_code == 303
    sent = session.exec(select(DataSubmission).where(DataSubmission.school_id.is_not(None))).one()
    assert sent.submitted_by == "城关一小填报员" and sent.status == "imported"
    # another school's row is a problem of its row
    other = dict(make_school_rows(1, seed=2)[0], 学校名称="城关二小", 学校标识码="4101002", 学校类型="小学")
    r = client.post("/data/upload", data={"csrf_token": token},
                    files={"file": ("别校.csv", write_csv(tmp_path / "x.csv", [other]).read_bytes())})
    assert r.status_code == 422 and "不是本校" in r.text

    token = log_in(client, "office")
    assert f'action="/data/{sent.id}/approve"' in client.get(f"/data/{sent.id}").text
    r = client.post(f"/data/{sent.id}/approve", data={"csrf_token": token}, follow_redirects=False)
    assert r.status_code == 303
    merged_id = int(r.headers["location"].rsplit("/", 1)[1])
    merged = session.get(DataSubmission, merged_id)
    assert merged.approved_by == "王主任" and merged.based_on_id is not None

    log_in(client, "school")
    page = client.get(f"/schools/{api_world.world.schools['城关一小'].id}").text
    assert "由 <strong>城关一小填报员</strong>" in page and "<strong>王主任</strong>" in page and "审核" in page
    assert client.post(f"/data/{merged_id}/approve", data={"csrf_token": token}).status_code == 403


def test_the_office_returns_a_schools_row_with_a_reason(client, api_world, tmp_path, session):
    token = log_in(client, "school")
    client.post("/data/upload", data={"csrf_token": token}, files={"file": ("本校.csv", _school_sheet(tmp_path))})
    sent = session.exec(select(DataSubmission).where(DataSubmission.school_id.is_not(None))).one()
    token = log_in(client, "office")
    r = client.post(f"/data/{sent.id}/return", data={"csrf_token": token, "reason": ""})
    assert "必须说明原因" in r.text
    client.post(f"/data/{sent.id}/return", data={"csrf_token": token, "reason": "在校生数与学籍系统不符"})
    session.expire_all()
    assert session.get(DataSubmission, sent.id).status == "returned"
    assert "在校生数与学籍系统不符" in client.get("/data").text or "已退回" in client.get("/data").text


@pytest.mark.parametrize("path", ["/static/app.css", "/static/vendor/echarts/echarts.min.js",
                                  "/static/vendor/echarts/LICENSE", "/static/charts.js"])
def test_static_files_are_served_from_the_project(client, path):
    r = client.get(path)
    assert r.status_code == 200 and len(r.content) > 100


def test_the_indicator_page_embeds_its_chart_data_and_a_table(client, api_world, engine):
    from tracker.assessment.models import AssessmentSnapshot
    from tracker.db import session_scope

    with session_scope(engine) as s:
        snapshot = s.get(AssessmentSnapshot, api_world.assessment.id)
        snapshot.result = {"ok": False, "stages": {"primary": {"schools": [], "indicators": {
            "6": {"county_value": 1800.0, "cv": 0.61, "cv_limit": 0.5, "cv_ok": False, "threshold": 2000.0,
                  "county_met": False, "sections": 3, "schools_below": 2}}}},
            "shortfalls": [], "county": [], "checks": []}
        s.add(snapshot)
    log_in(client, "office")
    page = client.get("/indicators").text
    data = re.search(r'<script type="application/json" id="indicator-data">(.*?)</script>', page).group(1)
    assert '"value_ratio": [90.0]' in data and '"cv": [0.61]' in data
    assert "1,800.00" in page and "0.610" in page and "超标" in page
    assert "/static/vendor/echarts/echarts.min.js" in page and "cdn" not in page.lower()


def test_the_overview_warns_of_a_year_whose_holidays_are_unknown(client, api_world, engine):
    import datetime as dt

    api_world.fresh_task(engine, "far", due_on=dt.date(2031, 3, 3))
    for role in ("office", "reviewer"):
        log_in(client, role)
        page = client.get("/overview").text
        warning = re.search(r'<div class="msg warn">(2031 年[^<]*)</div>', page)
        assert warning, "the overview names 2031, whose holiday notice is unknown"
        assert "法定节假日安排未知" in warning.group(1) and "junheng calendar import" in warning.group(1)


def test_a_unit_sees_which_listed_tasks_it_only_cooperates_on(client, api_world):
    log_in(client, "dept_b")  # 住建局: leads b, cooperates on a
    page = client.get("/tasks").text
    items = re.findall(r'<li>\s*<div>\s*<a class="title" href="/tasks/(\d+)">.*?</li>', page, re.S)
    assert {int(i) for i in items} == {api_world.tasks["a"].id, api_world.tasks["b"].id}
    for block in re.findall(r'<li>\s*<div>\s*<a class="title".*?</li>', page, re.S):
        cooperating = f'href="/tasks/{api_world.tasks["a"].id}"' in block
        assert ("配合 · 只读" in block) == cooperating
    log_in(client, "school")  # 城关一小: responsible for s, the subject of b
    page = client.get("/tasks").text
    assert page.count("涉及本校 · 只读") == 1


def test_the_task_page_shows_the_original_deadline_of_a_re_dated_task(client, api_world, engine):
    now = dt.datetime(2026, 12, 7, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
    with time_machine.travel(now, tick=False):
        late = api_world.fresh_task(engine, "late", due_on=dt.date(2026, 12, 4), assigned_on=now.date())
        log_in(client, "office")
        page = client.get(f"/tasks/{late.id}").text
        listing = client.get("/tasks").text
        timely = client.get(f"/tasks/{api_world.tasks['a'].id}").text
    assert "<dt>原定时限</dt><dd>2026年12月4日<span class=\"small muted\">（交办时已过，办理时限顺延至 2026年12月14日）</span>" in page
    assert "逾期" not in page.split("<h1>", 1)[1].split("</p>", 1)[0]
    assert "原定 2026-12-04（已顺延）" in listing
    assert "原定时限" not in timely


def test_the_data_page_tells_the_office_which_new_tasks_were_re_dated(client, api_world, engine):
    """A reassessment started by the dispatcher has no one to tell: the page of the data it
    assessed lists the tasks it created after their plan date, for the office only. Here the
    self-check gate (12-23) has passed when the data is assessed on 12-24: the attestation tasks
    it opens are due five working days on."""
    from tracker.assessment.models import AssessmentSnapshot
    from tracker.db import session_scope
    from tracker.org.models import Campaign
    from tracker.tasks.reconcile import reconcile_tasks

    own = api_world.submissions["own"]
    now = dt.datetime(2026, 12, 24, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
    with time_machine.travel(now, tick=False):
        with session_scope(engine) as session:
            campaign = session.get(Campaign, own.campaign_id)
            # the test world's rows are not a real sheet: an assessment that found no shortfall
            snapshot = AssessmentSnapshot(campaign_id=campaign.id, submission_id=own.id,
                                          standard_id=campaign.standard_id, ok=True, result={})
            session.add(snapshot)
            session.flush()
            result = reconcile_tasks(session, campaign, snapshot)
            redated = result.redated
        log_in(client, "office")
        page = client.get(f"/data/{own.id}").text
        log_in(client, "reviewer")
        seen_by_reviewer = client.get(f"/data/{own.id}").text
    assert redated and all((r.planned_due_on, r.due_on) == (dt.date(2026, 12, 23), dt.date(2026, 12, 31))
                           for r in redated)
    assert f"有 {len(redated)} 项建立时原定时限已过，未计为逾期，办理时限已顺延" in page
    first = redated[0]
    assert (f"#{first.task_id} {first.title}</a>：原定时限 2026-12-23 → 2026-12-31（顺延 5 个工作日）"
            in page.replace("&amp;", "&"))
    assert "原定时限已过的任务" not in seen_by_reviewer


def test_the_overview_names_a_due_date_change_in_chinese(client, api_world, engine):
    """本周动态 shows 调整截止日期 with the dates, never the raw type task.due_changed."""
    import datetime as dt

    import time_machine
    from sqlmodel import Session

    from tracker.calendar import CHINA
    from tracker.tasks.service import change_due_date

    with time_machine.travel(dt.datetime(2026, 12, 9, 10, 0, tzinfo=CHINA), tick=False):  # a Wednesday
        with Session(engine) as session:
            task = session.get(Task, api_world.tasks["a"].id)
            change_due_date(session, task, dt.date(2026, 12, 31), actor="王主任", reason="按方案顺延")
            session.commit()
        log_in(client, "office")
        page = client.get("/overview").text
    assert "task.due_changed" not in page
    assert "调整截止日期 1" in page  # the week's count by kind
    assert re.search(r"调整截止日期：\d{4}-\d\d-\d\d → 2026-12-31；原因：按方案顺延", page)


def test_the_appraisal_page_and_its_xlsx_for_a_period(client, api_world):
    log_in(client, "office")
    assert 'href="/appraisal"' in client.get("/departments").text  # linked from the units page
    page = client.get("/appraisal", params={"from": "2026-12-01", "to": "2026-12-31"})
    assert page.status_code == 200
    assert "2026-12-01 至 2026-12-31" in page.text and "财政局" in page.text and "城关一小" in page.text
    assert "考核办法" in page.text and "满分 100 分" in page.text
    assert 'href="/appraisal.xlsx?from=2026-12-01&amp;to=2026-12-31"' in page.text
    xlsx = client.get("/appraisal.xlsx", params={"from": "2026-12-01", "to": "2026-12-31"})
    assert xlsx.status_code == 200 and zipfile.is_zipfile(io.BytesIO(xlsx.content))
    bad = client.get("/appraisal", params={"from": "2026-12-31", "to": "2026-12-01"})
    assert bad.status_code == 422 and "晚于结束日期" in bad.text
    log_in(client, "dept_a")
    assert client.get("/appraisal.xlsx").status_code == 403
