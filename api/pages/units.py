"""A department's page (its tasks, light, deadlines; the tasks it cooperates on) and a school's
page (its data and where each figure came from, its values against the standard, its
shortfalls, its tasks — 一校一案)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from urllib.parse import urlencode

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import HTMLResponse, Response
from api.deps import MAX_ID, DbSession, PageUser
from api.pages.common import render, today
from api.pages.task_moves import unsigned_of
from api.pages.tasks import task_rows
from tracker.accounts.access import AccessDenied, require_role, role_of
from tracker.accounts.models import User, UserRole
from tracker.campaigns.board import latest_snapshot
from tracker.assessment.queries import school_shortfalls
from tracker.org.models import Campaign, Department, School
from tracker.campaigns.overview import unit_figures
from tracker.schooldata.submissions import latest_submission
from tracker.org.service import UnknownName
from tracker.schooldata.approval import provenance, status_name
from tracker.schooldata.columns import COLUMNS
from tracker.schooldata.queries import school_row, school_submissions
from tracker.standards import load_standard
from tracker.standards.schema import STAGE_NAMES, Judged
from tracker.tasks.lifecycle import OPEN
from tracker.tasks.queries import cooperating_tasks, department_tasks, school_tasks

router = APIRouter(include_in_schema=False)

UnitId = Annotated[int, Path(ge=1, le=MAX_ID)]
LIST_LIMIT = 200


@router.get("/departments", response_class=HTMLResponse, name="departments")
def departments(request: Request, session: DbSession, user: PageUser) -> Response:
    require_role(user, UserRole.office, UserRole.reviewer, what="查看各单位")
    campaign = session.get(Campaign, user.campaign_id)
    units = unit_figures(session, campaign, today(session))
    return render(request, session, user, "departments.html", {"units": units})


@router.get("/departments/{department_id}", response_class=HTMLResponse, name="department_page")
def department_page(request: Request, session: DbSession, user: PageUser, department_id: UnitId,
                    q: Annotated[str | None, Query(max_length=100)] = None) -> Response:
    department = session.get(Department, department_id)
    if department is None or department.campaign_id != user.campaign_id:
        raise UnknownName(f"没有编号为 #{department_id} 的单位")
    role = role_of(user)
    if role not in (UserRole.office, UserRole.reviewer) and not (
            role is UserRole.department and user.department_id == department.id):
        raise AccessDenied(f"「{department.name}」不是本单位，无权查看")
    day = today(session)
    campaign = session.get(Campaign, user.campaign_id)
    figures = unit_figures(session, campaign, day, department_id=department.id)
    q = q or None  # issue 12 §8: the search box narrows the unit's lists
    own = department_tasks(session, campaign.id, department.id, LIST_LIMIT, q=q)
    cooperating = cooperating_tasks(session, campaign.id, department.id, LIST_LIMIT, q=q)
    rows = task_rows(session, own, campaign.id, day)
    upcoming = [r for r in rows if r.task.status in {s.value for s in OPEN} and not r.overdue][:5]
    return render(request, session, user, "department.html", {
        "d": department, "f": figures[0] if figures else None, "rows": rows,
        "overdue_rows": [r for r in rows if r.overdue], "upcoming": upcoming,
        "cooperating": task_rows(session, cooperating, campaign.id, day), "limit": LIST_LIMIT,
        # 批量签收 (issue 12 §3): the unit's own people and the office sign several at once
        "unsigned": unsigned_of(rows) if role is UserRole.office or user.department_id == department.id else [],
        "back": f"/departments/{department.id}",
        "q": q, "export_url": "/tasks.xlsx?" + urlencode({"department": department.id, **({"q": q} if q else {})}),
    }, nav_path=f"/departments/{department.id}" if role is UserRole.department else "/departments")


@dataclass
class SchoolValue:
    stage: str
    code: str
    title: str
    unit: str
    value: float | None
    threshold: float | None
    met: bool


def field_text(column, value) -> str:
    """A stored sheet value as the school wrote it: counts and years whole, shares in percent."""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, (int, float)):
        if column.kind == "share":
            return f"{value * 100:.1f}%"
        if column.kind == "int":
            return f"{value:.0f} {column.unit}".strip()
        return f"{value:,.2f} {column.unit}".strip()
    return str(value)


def _check_school(user: User, school: School) -> None:
    role = role_of(user)
    if role in (UserRole.office, UserRole.reviewer):
        return
    if role is UserRole.school and user.school_id == school.id:
        return
    raise AccessDenied(f"「{school.name}」不是本校，无权查看")


@router.get("/schools/{school_id}", response_class=HTMLResponse, name="school_page")
def school_page(request: Request, session: DbSession, user: PageUser, school_id: UnitId,
                q: Annotated[str | None, Query(max_length=100)] = None) -> Response:
    school = session.get(School, school_id)
    if school is None or school.campaign_id != user.campaign_id:
        raise UnknownName(f"没有编号为 #{school_id} 的学校")
    _check_school(user, school)
    day = today(session)
    campaign = session.get(Campaign, user.campaign_id)
    standard = load_standard(campaign.standard_id)

    snapshot = latest_snapshot(session, campaign)
    values: list[SchoolValue] = []
    if snapshot is not None:
        resources = {i.code: i for i in standard.indicators if i.judged is Judged.per_school_value}
        for stage, data in (snapshot.result.get("stages") or {}).items():
            for s in data.get("schools") or []:
                if s.get("school_key") != school.key:
                    continue
                for code, value in sorted((s.get("values") or {}).items(),
                                          key=lambda kv: standard.indicator_sort_key(kv[0])):
                    ind = resources.get(code)
                    values.append(SchoolValue(stage=STAGE_NAMES.get(stage, stage), code=code,
                                              title=ind.title if ind else code, unit=ind.unit if ind else "",
                                              value=value, threshold=ind.thresholds.get(stage) if ind else None,
                                              met=code in (s.get("met") or [])))
    shortfalls = school_shortfalls(session, snapshot.id, school.id) if snapshot is not None else []
    shortfalls.sort(key=lambda r: standard.indicator_sort_key(r.indicator))  # "10" after "9", not after "1"

    county = latest_submission(session, campaign)
    data_row = origin = None
    if county is not None:
        data_row = school_row(session, county.id, school.key)
        origin = provenance(session, county, school.key)
    own_submissions = school_submissions(session, school.id, 10)
    q = q or None  # issue 12 §8: the search box narrows the school's list
    tasks = school_tasks(session, campaign.id, school.id, LIST_LIMIT, q=q)
    fields = [(c.header, field_text(c, data_row.data.get(c.attribute))) for c in COLUMNS
              if data_row is not None and data_row.data.get(c.attribute) not in (None, "")]
    return render(request, session, user, "school.html", {
        "s": school, "values": values, "snapshot": snapshot, "shortfalls": shortfalls,
        "county": county, "origin": origin, "fields": fields, "own_submissions": own_submissions,
        "status_name": status_name, "rows": task_rows(session, tasks, campaign.id, day),
        "unsigned": [r for r in unsigned_of(task_rows(session, tasks, campaign.id, day))
                     if r.task.responsible_school_id == school.id
                     and role_of(user) in (UserRole.office, UserRole.school)],
        "back": f"/schools/{school.id}",
        "q": q, "export_url": "/tasks.xlsx?" + urlencode({"school": school.id, **({"q": q} if q else {})}),
    }, nav_path=f"/schools/{school.id}" if role_of(user) is UserRole.school else "/departments")
