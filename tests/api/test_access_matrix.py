"""Every route under /api/v1, asked by every role, answers as declared here.

``EXPECTED`` has one entry per (method, path) of the app: a route added without an entry fails
``test_every_api_route_has_an_expectation``, so no endpoint goes unchecked. Each entry lists
cases: which object the path points at, the body, and the status code per role. Moves are made
on a fresh task in the state the move needs, so each answer depends only on who asks.

Roles: office, dept_a (财政局, leads task a), dept_b (住建局: cooperates on a, leads b), school
(城关一小: responsible for s, the subject of b), reviewer, anonymous (no token) and outsider
(the office of another campaign: the campaign's things do not exist for it, 404).
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.routing import APIRoute

try:
    from fastapi.routing import iter_route_contexts  # FastAPI ≥ 0.150 nests included routers
except ImportError:  # pragma: no cover — older FastAPI keeps app.routes flat
    class _Flat:
        def __init__(self, route):
            self.original_route = self.route = route
            self.path, self.methods = getattr(route, "path", None), getattr(route, "methods", None)

    def iter_route_contexts(routes):
        return [_Flat(r) for r in routes]

from tests.api.conftest import PASSWORD, ROLES, bearer, own_school_sheet, pending_school_submission
from tests.api.test_briefings_api import MINIMAL_PDF, stored_briefing
from tests.factories import make_school_rows, write_csv

ALL_ROLES = (*ROLES, "anonymous")


def codes(office: int, dept_a: int, dept_b: int, school: int, reviewer: int, *, anonymous: int = 401,
          outsider: int = 404) -> dict[str, int]:
    return {"office": office, "dept_a": dept_a, "dept_b": dept_b, "school": school, "reviewer": reviewer,
            "anonymous": anonymous, "outsider": outsider}


EVERYONE = codes(200, 200, 200, 200, 200)
COUNTY = codes(200, 403, 403, 403, 200)  # county-wide results: office and reviewers
SCHOOL_DATA = codes(200, 403, 403, 200, 200)  # school data: not for departments
LEAD_A_MOVES = codes(200, 200, 403, 403, 403)  # a unit move on a task 财政局 leads (住建局 cooperates)
SCHOOL_MOVES = codes(200, 403, 403, 200, 403)  # a unit move on the school's own task
OFFICE_MOVES = codes(200, 403, 403, 403, 403)
BRIEFING_READERS = codes(200, 200, 200, 403, 200)
NOT_A_PROGRAMME = codes(404, 404, 404, 404, 404)
PROGRAMME_ROUTES = (
    ("GET", "", None), ("GET", "/certificates", None), ("GET", "/notice", None),
    ("POST", "/applications", {"school": "城关一小", "scores": {"A": 1}, "reasons": "申请"}),
    ("POST", "/nominations", {"school": "城关一小", "unit": "财政局", "reasons": "圈定"}),
    ("POST", "/reviews", {"school": "城关一小", "passed": True, "reason": "达标"}),
    ("POST", "/publicity", {"subject": "seeds", "starts_on": "2026-12-01", "ends_on": "2026-12-07"}),
    ("POST", "/objections", {"subject": "seeds", "text": "异议"}),
    ("POST", "/objections/{objection_id}/resolution", {"upheld": False, "resolution": "不成立"}),
    ("POST", "/scores", {"round": "mentor", "school": "城关一小", "points": {"A": 1}}),
    ("POST", "/promotions", {"school": "城关一小", "practices": ["A", "B"]}),
    ("POST", "/pairings", {"mentor": "城关一小", "schools": ["城关一小"]}),
    ("POST", "/pairing-tasks", {"school": "城关一小", "title": "共建教研组", "due_on": "2027-07-01"}),
    ("POST", "/pairing-reports", {"text": "进展"}),
    ("POST", "/awards", {"action": "compute"}),
)
NOT_REGION = codes(403, 403, 403, 403, 403, outsider=403)  # a region account's own routes


@dataclass
class Case:
    expect: dict[str, int]
    task: str | None = None  # "a" | "b" | "s", or a fresh task: "fresh:<unit>:<state>"
    submission: str | None = None  # "own" | "others", or "pending": a school's row waiting, fresh per call
    json: Any = None
    form: str | None = None  # "login": the role's own credentials; "sheet": a three-school sheet;
    # "own_sheet": 城关一小's row only; "evidence": a PDF upload (multipart, field file)
    evidence: str | None = None  # the evidence of this task key ("a")
    fresh_token: bool = False  # the call ends the token: use one made for it
    briefing: bool = False  # {which} and {number}: a stored briefing (Word and PDF), issued once
    review: bool = False  # {review_id}: the world's 市级 review (its finding belongs to 财政局)
    extension: bool = False  # {extension_id}: a pending 延期申请 of a fresh 财政局 task, fresh per call
    department: str | None = None  # {department_id}: this department's id
    task_ids: bool = False  # the body is {"task_ids": [the case's task]}


EXPECTED: dict[tuple[str, str], list[Case]] = {
    ("POST", "/api/v1/auth/token"): [Case(codes(200, 200, 200, 200, 200, anonymous=422, outsider=200), form="login")],
    ("DELETE", "/api/v1/auth/token"): [Case(codes(204, 204, 204, 204, 204, outsider=204), fresh_token=True)],
    ("GET", "/api/v1/auth/me"): [Case(codes(200, 200, 200, 200, 200, outsider=200))],
    ("GET", "/api/v1/campaigns"): [Case(codes(200, 200, 200, 200, 200, outsider=200))],
    ("GET", "/api/v1/campaigns/{campaign}"): [Case(EVERYONE)],
    ("GET", "/api/v1/campaigns/{campaign}/phases"): [Case(EVERYONE)],
    ("GET", "/api/v1/campaigns/{campaign}/departments"): [Case(EVERYONE)],
    ("GET", "/api/v1/campaigns/{campaign}/schools"): [Case(EVERYONE)],
    ("GET", "/api/v1/campaigns/{campaign}/status"): [Case(codes(200, 403, 403, 403, 200, outsider=404))],
    ("GET", "/api/v1/campaigns/{campaign}/gap-plan"): [Case(codes(200, 403, 403, 403, 200, outsider=404))],
    ("GET", "/api/v1/campaigns/{campaign}/tasks"): [Case(EVERYONE)],
    ("GET", "/api/v1/campaigns/{campaign}/tasks.xlsx"): [Case(EVERYONE)],  # issue 12 §8: what the list shows
    ("GET", "/api/v1/tasks/{task_id}"): [
        Case(codes(200, 200, 200, 403, 200), task="a"),
        Case(codes(200, 403, 200, 200, 200), task="b"),
        Case(codes(200, 403, 403, 200, 200), task="s"),
    ],
    ("GET", "/api/v1/tasks/{task_id}/events"): [Case(codes(200, 200, 200, 403, 200), task="a"),
                                                Case(codes(200, 403, 403, 200, 200), task="s")],
    ("GET", "/api/v1/tasks/{task_id}/evidence"): [Case(codes(200, 200, 200, 403, 200), task="a"),
                                                  Case(codes(200, 403, 200, 200, 200), task="b")],
    ("POST", "/api/v1/tasks/{task_id}/accept"): [Case(LEAD_A_MOVES, task="fresh:财政局:待签收"),
                                                 Case(SCHOOL_MOVES, task="fresh:城关一小:待签收")],
    ("POST", "/api/v1/tasks/{task_id}/progress"): [Case(LEAD_A_MOVES, task="fresh:财政局:已签收",
                                                        json={"percent": 40, "note": "推进中"}),
                                                   Case(SCHOOL_MOVES, task="fresh:城关一小:已签收", json={"percent": 10})],
    ("POST", "/api/v1/tasks/{task_id}/submit"): [Case(LEAD_A_MOVES, task="fresh:财政局:办理中", json={"note": "完成"})],
    ("POST", "/api/v1/tasks/{task_id}/verify"): [Case(OFFICE_MOVES, task="fresh:财政局:已提交"),
                                                 Case(OFFICE_MOVES, task="fresh:城关一小:已提交")],
    ("POST", "/api/v1/tasks/{task_id}/return"): [Case(OFFICE_MOVES, task="fresh:财政局:已提交",
                                                      json={"reason": "材料不全"})],
    ("POST", "/api/v1/tasks/{task_id}/withdraw"): [Case(OFFICE_MOVES, task="fresh:财政局:待签收",
                                                        json={"reason": "方案调整"})],
    # issue 12 §2–3 (api/v1/task_moves.py): 延期申请 by the lead unit, decided by the office; 调整时限,
    # 转办 by the office; 分解 by the lead unit or the office; 联办 reports by the cooperating unit
    # (住建局 on 财政局's tasks), 催办 of it by the office; 批量签收 by whoever signs (refusals listed)
    ("POST", "/api/v1/tasks/{task_id}/extension"): [
        Case(codes(403, 201, 403, 403, 403), task="fresh:财政局:已签收",
             json={"due_on": "2026-12-31", "reason": "资金下达推迟"}),
        Case(codes(403, 403, 403, 201, 403), task="fresh:城关一小:待签收",
             json={"due_on": "2026-12-31", "reason": "施工队未进场"})],
    ("GET", "/api/v1/tasks/{task_id}/extensions"): [Case(codes(200, 200, 200, 403, 200), task="a")],
    ("GET", "/api/v1/campaigns/{campaign}/extensions"): [Case(EVERYONE)],
    ("POST", "/api/v1/extensions/{extension_id}/approve"): [Case(OFFICE_MOVES, extension=True)],
    ("POST", "/api/v1/extensions/{extension_id}/refuse"): [Case(OFFICE_MOVES, extension=True,
                                                                json={"reason": "时间节点不能后延"})],
    ("POST", "/api/v1/tasks/{task_id}/due"): [Case(OFFICE_MOVES, task="fresh:财政局:待签收",
                                                   json={"due_on": "2027-01-15", "reason": "上级调整时间节点"})],
    ("POST", "/api/v1/tasks/{task_id}/transfer"): [Case(OFFICE_MOVES, task="fresh:财政局:已签收",
                                                        json={"lead": "住建局", "reason": "职责调整"})],
    ("POST", "/api/v1/tasks/{task_id}/split"): [
        Case(codes(201, 201, 403, 403, 403), task="fresh:财政局:已签收",
             json={"children": [{"title": "城关一小完善功能室", "lead": "城关一小", "due_on": "2026-12-18"}]})],
    ("GET", "/api/v1/tasks/{task_id}/children"): [Case(codes(200, 200, 200, 403, 200), task="a")],
    ("POST", "/api/v1/tasks/{task_id}/cooperator-report"): [
        Case(codes(403, 403, 201, 403, 403), task="fresh:财政局:已签收", json={"percent": 50, "note": "图纸已审"})],
    ("GET", "/api/v1/tasks/{task_id}/cooperator-reports"): [Case(codes(200, 200, 200, 403, 200), task="a")],
    ("POST", "/api/v1/tasks/{task_id}/cooperators/{department_id}/chase"): [
        Case(codes(201, 403, 403, 403, 403), task="fresh:财政局:已签收", department="住建局",
             json={"note": "请本周内完成"})],
    ("POST", "/api/v1/campaigns/{campaign}/tasks/accept"): [
        Case(codes(200, 200, 200, 200, 403), task="fresh:财政局:待签收", task_ids=True)],
    # 交办 (issue 12 §1): the office only
    ("POST", "/api/v1/campaigns/{campaign}/tasks"): [Case(codes(201, 403, 403, 403, 403), json={
        "title": "迎检材料汇编", "source": "会议决定", "source_ref": "县创建工作领导小组第 3 次会议（2026-12-01）",
        "measures": "按迎检清单汇编", "lead": "财政局", "cooperating": ["住建局"], "phase": None,
        "due_on": "2027-01-15", "evidence_required": True})],
    ("GET", "/api/v1/campaigns/{campaign}/tasks/template"): [Case(OFFICE_MOVES)],
    ("POST", "/api/v1/campaigns/{campaign}/tasks/import"): [Case(codes(201, 403, 403, 403, 403), form="tasklist")],
    ("PATCH", "/api/v1/tasks/{task_id}"): [Case(OFFICE_MOVES, task="office",
                                                json={"reason": "县政府会议调整", "due_on": "2027-01-29"})],
    ("GET", "/api/v1/campaigns/{campaign}/submissions"): [Case(SCHOOL_DATA)],
    # the office imports county data; a school sends its own row only (another school's row: 422)
    ("POST", "/api/v1/campaigns/{campaign}/submissions"): [Case(codes(201, 403, 403, 422, 403), form="sheet"),
                                                           Case(codes(201, 403, 403, 201, 403), form="own_sheet")],
    ("POST", "/api/v1/submissions/{submission_id}/approve"): [Case(OFFICE_MOVES, submission="pending")],
    ("POST", "/api/v1/submissions/{submission_id}/return"): [Case(OFFICE_MOVES, submission="pending",
                                                                  json={"reason": "在校生数与学籍系统不符"})],
    ("GET", "/api/v1/submissions/{submission_id}"): [Case(SCHOOL_DATA, submission="own"),
                                                     Case(codes(200, 403, 403, 403, 200), submission="others")],
    ("GET", "/api/v1/submissions/{submission_id}/rows"): [Case(SCHOOL_DATA, submission="own")],
    ("GET", "/api/v1/campaigns/{campaign}/assessments"): [Case(COUNTY)],
    ("GET", "/api/v1/assessments/{assessment_id}"): [Case(COUNTY)],
    ("GET", "/api/v1/campaigns/{campaign}/shortfalls"): [Case(EVERYONE)],
    ("GET", "/api/v1/campaigns/{campaign}/findings"): [Case(EVERYONE)],
    ("GET", "/api/v1/campaigns/{campaign}/reviews"): [Case(COUNTY)],
    ("POST", "/api/v1/campaigns/{campaign}/reviews"): [Case(codes(201, 403, 403, 403, 403),
                                                           json={"level": "县级督查", "team": "督查小组"})],
    ("POST", "/api/v1/reviews/{review_id}/findings"): [
        Case(codes(201, 403, 403, 403, 403), review=True,
             json={"findings": [{"text": "台账不全", "lead": "财政局", "due_on": "2027-03-01"}]})],
    ("POST", "/api/v1/reviews/{review_id}/verdict"): [Case(OFFICE_MOVES, review=True, json={"verdict": "通过"})],
    ("GET", "/api/v1/campaigns/{campaign}/events"): [Case(EVERYONE)],
    ("GET", "/api/v1/campaigns/{campaign}/lights"): [Case(EVERYONE)],
    # evidence (佐证材料): the office, the responsible unit and (联办, issue 12) a cooperating unit
    # upload; whoever sees the task downloads
    ("POST", "/api/v1/tasks/{task_id}/evidence"): [Case(codes(201, 201, 201, 403, 403), task="a", form="evidence"),
                                                   Case(codes(201, 403, 403, 201, 403), task="s", form="evidence")],
    ("GET", "/api/v1/evidence/{evidence_id}"): [Case(codes(200, 200, 200, 403, 200), evidence="a")],
    # 资料清单 (issue 13 §4): who may upload to the task may tag its file (untag here: no item needed)
    ("PUT", "/api/v1/evidence/{evidence_id}/item"): [Case(codes(200, 200, 200, 403, 403), evidence="a",
                                                          json={"item": None})],
    ("GET", "/api/v1/materials"): [Case(codes(200, 403, 403, 403, 200, outsider=200))],
    ("GET", "/api/v1/materials/missing"): [Case(codes(200, 403, 403, 403, 200, outsider=200))],
    ("GET", "/api/v1/archive"): [Case(codes(200, 403, 403, 403, 200, outsider=200))],
    # 调度通报: as on the dashboard page, everyone but schools
    ("GET", "/api/v1/campaigns/{campaign}/briefings"): [Case(BRIEFING_READERS)],
    ("GET", "/api/v1/campaigns/{campaign}/briefings/{which}"): [Case(BRIEFING_READERS, briefing=True)],
    ("GET", "/api/v1/campaigns/{campaign}/briefings/{number}/docx"): [Case(BRIEFING_READERS, briefing=True)],
    ("GET", "/api/v1/campaigns/{campaign}/briefings/{number}/pdf"): [Case(BRIEFING_READERS, briefing=True)],
    # 考核: everyone reads the table (a unit gets its own row only: tests/api/test_appraisal_api.py);
    # the .xlsx is the county's; the office alone issues a 通报表扬 / 通报批评
    ("GET", "/api/v1/campaigns/{campaign}/appraisal"): [Case(EVERYONE)],
    ("GET", "/api/v1/campaigns/{campaign}/appraisal/xlsx"): [Case(COUNTY)],
    ("POST", "/api/v1/campaigns/{campaign}/appraisal/notices"): [
        Case(OFFICE_MOVES, json={"kind": "批评", "units": ["财政局"], "reason": "任务逾期未办结"})],
    # 申报材料 (issue 13): the 自评报告's texts are the office's to read and write
    ("GET", "/api/v1/campaigns/{campaign}/report-texts"): [Case(OFFICE_MOVES)],
    ("PUT", "/api/v1/campaigns/{campaign}/report-texts/{section}"): [Case(OFFICE_MOVES,
                                                                          json={"text": "一是高位推动。"})],
    # the world has no survey: the office and reviewers get its 404 (tests/api/test_survey_pages.py has one)
    ("GET", "/api/v1/campaigns/{campaign}/survey/results"): [Case(codes(404, 403, 403, 403, 404))],
    ("POST", "/api/v1/campaigns/{campaign}/survey/close"): [Case(codes(404, 403, 403, 403, 403))],
    # 示范校 (issue 15 §1): a county campaign is no programme, for anyone (each role's own answers
    # on a programme: tests/api/test_programme_api.py)
    **{(method, f"/api/v1/campaigns/{{campaign}}/programme{tail}"): [Case(NOT_A_PROGRAMME, json=body)]
       for method, tail, body in PROGRAMME_ROUTES},
    # the region level (issue 15 §2): a 市/省 督导 account's own routes; nobody of a county may
    # (tests/api/test_region_access.py asks them as region accounts)
    ("GET", "/api/v1/regions/mine/status"): [Case(NOT_REGION)],
    ("GET", "/api/v1/regions/{region}/status"): [Case(NOT_REGION)],
    ("POST", "/api/v1/regions/counties/{campaign}/reviews"): [Case(NOT_REGION, json={"level": "市级"})],
    ("POST", "/api/v1/regions/reviews/{review_id}/findings"): [
        Case(NOT_REGION, review=True, json={"findings": [{"text": "台账不全", "lead": "财政局", "due_on": "2027-03-01"}]})],
    ("POST", "/api/v1/regions/reviews/{review_id}/verdict"): [Case(NOT_REGION, review=True, json={"verdict": "通过"})],
    ("GET", "/api/v1/regions/{region}/notices"): [Case(NOT_REGION)],
    ("POST", "/api/v1/regions/mine/notices"): [Case(NOT_REGION, json={"title": "关于迎检的通知"})],
}


def pending_extension(engine, api_world, key: str) -> int:
    """A fresh 财政局 task with a pending 延期申请 by 李科长; its id."""
    import datetime as dt

    from tracker.db import session_scope
    from tracker.org.models import Person
    from tracker.tasks import moves
    from tracker.tasks.models import Task

    task = api_world.fresh_task(engine, key, unit="财政局", state="已签收")
    with session_scope(engine) as session:
        ext = moves.request_extension(session, session.get(Task, task.id),
                                      session.get(Person, api_world.world.people["李科长"].id),
                                      dt.date(2026, 12, 31), "资金下达推迟")
        session.flush()
        return ext.id
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def tasklist_sheet(tag: str) -> bytes:
    """A one-row 任务清单 (each role's its own title: nothing is a re-import)."""
    from openpyxl import Workbook

    wb = Workbook()
    wb.active.title = "任务清单"
    wb.active.append(["序号", "任务名称", "事项来源", "牵头单位", "完成时限"])
    wb.active.append([1, f"迎检路线踏勘（{tag}）", "领导批示", "财政局", "2027-01-20"])
    import io

    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def office_task(engine, api_world, title: str):
    from tracker.db import session_scope
    from tracker.org.models import Campaign, Person
    from tracker.tasks.assign import OfficeTaskInput, create_office_task

    with session_scope(engine) as session:
        campaign = session.get(Campaign, api_world.world.campaign.id)
        office = session.get(Person, api_world.world.people["王主任"].id)
        return create_office_task(session, campaign, OfficeTaskInput(title=title, lead="财政局", due_on="2027-01-15"),
                                  office, today=dt.date(2026, 12, 7))


def api_routes(app) -> set[tuple[str, str]]:
    """(method, path) of every route under /api/v1: from the router (hidden routes too) and
    from the OpenAPI schema, so neither can leave one out."""
    found = set()
    for route in iter_route_contexts(app.routes):
        path = route.path or ""
        if isinstance(route.original_route, APIRoute) and path.startswith("/api/v1"):
            for method in set(route.methods or ()) - {"HEAD", "OPTIONS"}:
                found.add((method, path))
    for path, operations in app.openapi()["paths"].items():
        if path.startswith("/api/v1"):
            found |= {(method.upper(), path) for method in operations}
    return found


def test_every_api_route_has_an_expectation(client):
    routes = api_routes(client.app)
    missing = sorted(routes - set(EXPECTED))
    stale = sorted(set(EXPECTED) - routes)
    assert not missing, f"routes without an expectation in EXPECTED: {missing}"
    assert not stale, f"expectations for routes that no longer exist: {stale}"
    for key, cases in EXPECTED.items():
        for case in cases:
            assert set(case.expect) == set(ALL_ROLES), key


class DeniedLog(logging.Handler):
    def __init__(self):
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def test_every_route_answers_every_role_as_declared(client, engine, api_world, headers, tmp_path):
    sheet = write_csv(tmp_path / "schools.csv", make_school_rows(3, seed=5))
    own_sheet = own_school_sheet(tmp_path, "own.csv")
    denied_log = DeniedLog()
    logging.getLogger("junheng.access").addHandler(denied_log)
    fresh = 0
    briefing_number: int | None = None
    wrong: list[str] = []
    try:
        for (method, path), cases in EXPECTED.items():
            for number, case in enumerate(cases):
                for role in ALL_ROLES:
                    url = (path.replace("{campaign}", api_world.code).replace("{section}", "主要做法")
                           .replace("{objection_id}", "1"))
                    if case.task:
                        if case.task == "office":  # a task the office assigned, fresh per call
                            fresh += 1
                            task = office_task(engine, api_world, f"交办 {fresh}")
                        elif case.task.startswith("fresh:"):
                            _, unit, state = case.task.split(":")
                            fresh += 1
                            task = api_world.fresh_task(engine, f"matrix-{fresh}", unit=unit, state=state)
                        else:
                            task = api_world.tasks[case.task]
                        url = url.replace("{task_id}", str(task.id))
                    if case.submission == "pending":
                        pending = pending_school_submission(engine, tmp_path)
                        url = url.replace("{submission_id}", str(pending.id))
                    elif case.submission:
                        url = url.replace("{submission_id}", str(api_world.submissions[case.submission].id))
                    url = url.replace("{assessment_id}", str(api_world.assessment.id))
                    if case.review:
                        url = url.replace("{review_id}", str(api_world.finding.review_id))
                    if case.extension:
                        fresh += 1
                        url = url.replace("{extension_id}", str(pending_extension(engine, api_world, f"matrix-{fresh}")))
                    if case.department:
                        url = url.replace("{department_id}", str(api_world.world.departments[case.department].id))
                    if case.evidence:
                        url = url.replace("{evidence_id}", str(api_world.evidence[case.evidence].id))
                    if case.briefing:
                        if briefing_number is None:
                            briefing_number, _ = stored_briefing(engine, api_world.world.campaign.id,
                                                                 pdf=MINIMAL_PDF)
                        url = url.replace("{which}", str(briefing_number)).replace("{number}", str(briefing_number))
                    auth = headers[role]
                    if case.fresh_token and role != "anonymous":
                        auth = bearer(engine, api_world.users[role])
                    kwargs: dict[str, Any] = {"headers": auth}
                    if case.json is not None:
                        kwargs["json"] = case.json
                    if case.task_ids:
                        kwargs["json"] = {"task_ids": [task.id]}
                    if case.form == "login" and role != "anonymous":
                        kwargs["data"] = {"username": role, "password": PASSWORD}
                        kwargs.pop("headers")
                    elif case.form == "evidence":
                        kwargs["files"] = {"file": ("整改报告.pdf", b"%PDF-1.4\n%" + role.encode() + b"\n%%EOF\n",
                                                    "application/pdf")}
                    elif case.form == "sheet":
                        kwargs["files"] = {"file": ("schools.csv", sheet.read_bytes(), "text/csv")}
                        kwargs["data"] = {"label": "权限检查"}
                    elif case.form == "tasklist":
                        kwargs["files"] = {"file": ("任务清单.xlsx", tasklist_sheet(role), XLSX)}
                    elif case.form == "own_sheet":
                        kwargs["files"] = {"file": ("本校.csv", own_sheet, "text/csv")}
                    denied_before = len(denied_log.messages)
                    response = client.request(method, url, **kwargs)
                    expected = case.expect[role]
                    if response.status_code != expected:
                        wrong.append(f"{method} {path} [{number}] as {role}: {response.status_code} "
                                     f"(expected {expected}) {response.text[:200]}")
                        continue
                    if response.status_code >= 400:
                        body = response.json()
                        assert isinstance(body["detail"], str) and body["detail"], (method, path, role)
                        assert any("\u4e00" <= ch <= "\u9fff" for ch in body["detail"]), body  # Chinese
                    if response.status_code == 403:
                        assert len(denied_log.messages) == denied_before + 1, f"403 not logged: {method} {path}"
                        assert role in denied_log.messages[-1] or role == "anonymous"
    finally:
        logging.getLogger("junheng.access").removeHandler(denied_log)
    assert not wrong, "\n".join(wrong)


def test_lists_hold_only_what_the_role_may_see(client, api_world, headers):
    base = f"/api/v1/campaigns/{api_world.code}"

    def get(role, path):
        r = client.get(base + path, headers=headers[role])
        assert r.status_code == 200, r.text
        return r.json()

    school_id = api_world.world.schools["城关一小"].id
    # shortfalls: all for the office; the school's own for the school; those behind its tasks for a unit
    assert len(get("office", "/shortfalls")["items"]) == 2
    assert [s["school_id"] for s in get("school", "/shortfalls")["items"]] == [school_id]
    assert get("dept_a", "/shortfalls")["items"] == []
    # findings: addressed to 财政局
    assert [f["text"] for f in get("dept_a", "/findings")] == ["财政投入不足"]
    assert get("dept_b", "/findings") == [] and get("school", "/findings") == []
    assert len(get("reviewer", "/findings")) == 1
    # events: units see the events of the tasks they see
    task_ids = {e["task_id"] for e in get("dept_a", "/events")["items"]}
    assert task_ids == {api_world.tasks["a"].id}
    # submissions: the school sees the batch holding its row, and only its row
    assert [s["id"] for s in get("school", "/submissions")] == [api_world.submissions["own"].id]
    rows = client.get(f"/api/v1/submissions/{api_world.submissions['own'].id}/rows", headers=headers["school"]).json()
    assert [r["school_key"] for r in rows] == ["4101001"]
    rows = client.get(f"/api/v1/submissions/{api_world.submissions['own'].id}/rows", headers=headers["office"]).json()
    assert len(rows) == 2
    # lights: a unit sees its own light only
    assert {(u["unit_kind"], u["unit_name"]) for u in get("dept_b", "/lights")} == {("department", "住建局")}
    assert {u["unit_name"] for u in get("office", "/lights")} == {"财政局", "住建局", "城关一小"}


@pytest.mark.parametrize("path", ["/api/v1/campaigns/other", "/api/v1/campaigns/other/tasks"])
def test_another_campaigns_things_do_not_exist_for_a_user(client, headers, path):
    r = client.get(path, headers=headers["office"])
    assert r.status_code == 404
    assert r.json()["detail"] == "没有编号为「other」的创建工作"
