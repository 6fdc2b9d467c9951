"""学校数据: the office uploads the county sheet; a school sends its own row, which the office
approves (merged into the county data, then reassessed) or returns with a reason. A sheet with
problems is shown back row by row and nothing is stored. Every figure says who entered it and
who approved it."""

from __future__ import annotations

import tempfile
from pathlib import Path as FilePath
from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, Path, Request, UploadFile
from fastapi.responses import FileResponse, HTMLResponse, Response
from sqlmodel import Session
from starlette.background import BackgroundTask

from api.deps import MAX_ID, CsrfChecked, DbSession, PageUser
from api.pages.common import flash, redirect, render
from api.schemas.common import TEXT_PATTERN
from tracker.accounts.access import (
    check_reads_school_data,
    data_row_clause,
    require_role,
    role_of,
    submission_clause,
    visible_submission,
)
from tracker.accounts.models import User, UserRole
from tracker.org.models import Campaign, School
from tracker.org.queries import school_names
from tracker.evidence.storage import sanitize_filename
from tracker.schooldata.approval import (
    IMPORTED,
    SubmissionError,
    approve_submission,
    import_county_data,
    provenance,
    receive_school_row,
    return_submission,
    status_name,
)
from tracker.schooldata import queries as schooldata
from tracker.schooldata.columns import COLUMNS
from tracker.schooldata.form import FILENAME as FORM_FILENAME
from tracker.schooldata.form import form_groups, sheet_from_form
from tracker.schooldata.models import DataSubmission
from tracker.schooldata.sheet import MAX_BYTES, SheetError
from tracker.schooldata.template import write_template

router = APIRouter(include_in_schema=False)

SubmissionId = Annotated[int, Path(ge=1, le=MAX_ID)]
SHEET_SUFFIXES = (".xlsx", ".csv")
# the columns a batch's table shows: (header, SchoolRecord attribute, decimals) — counts whole
_SHOWN = ("name", "school_type", "primary_students", "junior_students", "teaching_area", "sports_area",
          "equipment_value")
ROW_COLUMNS = [(c.header, c.attribute, 0 if c.kind == "int" else 2)
               for a in _SHOWN for c in COLUMNS if c.attribute == a]


def _school(session: Session, user: User) -> School | None:
    return session.get(School, user.school_id) if role_of(user) is UserRole.school and user.school_id else None


def _data_page(request: Request, session: Session, user: User, *, problems=None, problem_file: str = "",
               status_code: int = 200, label: str = "") -> Response:
    check_reads_school_data(user)
    submissions = schooldata.submissions(session, user.campaign_id, submission_clause(user), limit=100)
    pending = [s for s in submissions if s.school_id is not None and s.status == IMPORTED]
    schools = school_names(session, user.campaign_id)
    return render(request, session, user, "data.html", {
        "submissions": submissions, "pending": pending, "schools": schools, "status_name": status_name,
        "problems": problems or [], "problem_file": problem_file, "school": _school(session, user),
        "label": label,
    }, status_code=status_code, nav_path="/data")


@router.get("/data", response_class=HTMLResponse, name="data")
def data_page(request: Request, session: DbSession, user: PageUser) -> Response:
    return _data_page(request, session, user)


@router.get("/data/template", name="data_template")
def data_template(user: PageUser) -> Response:
    """The school sheet template (the same as ``junheng template``)."""
    require_role(user, UserRole.office, UserRole.school, what="下载填报模板")
    tmp = FilePath(tempfile.mkdtemp(prefix="junheng-template-"))
    path = write_template(tmp / "学校数据填报模板.xlsx")
    return FileResponse(path, filename="学校数据填报模板.xlsx",
                        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                        background=BackgroundTask(lambda: (path.unlink(missing_ok=True), tmp.rmdir())))


# --- a school's own row as a form, pre-filled with its current figures (issue 12 §8) ---
# (before /data/{submission_id}, whose path would otherwise take "form")


def _school_form(request: Request, session: Session, user: User, school: School, *, typed=None, problems=None,
                 status_code: int = 200, label: str = "") -> Response:
    current = schooldata.current_school_row(session, user.campaign_id, school.key)
    row, source = current if current is not None else (None, None)
    data = row.data if row is not None else None
    code = (data or {}).get("school_code") or (school.key if school.key != school.name else None)
    by_column = {p["column"]: p["message"] for p in problems or [] if p.get("column")}
    return render(request, session, user, "data_form.html", {
        "school": school, "source": source, "status_name": status_name,
        "groups": form_groups(data, name=school.name, key_code=code, typed=typed, problems=by_column),
        "problems": problems or [], "label": label,
    }, status_code=status_code, nav_path="/data")


@router.get("/data/form", response_class=HTMLResponse, name="data_form")
def data_form(request: Request, session: DbSession, user: PageUser) -> Response:
    require_role(user, UserRole.school, what="在线填报本校数据")
    return _school_form(request, session, user, _school(session, user))


async def _posted_form(request: Request) -> dict[str, str]:
    """The posted fields (parsed once: the CSRF check has read them already), for a sync route."""
    form = await request.form()
    return {key: value for key, value in form.items() if isinstance(value, str)}


@router.post("/data/form", response_class=HTMLResponse, name="data_form_send")
def data_form_send(request: Request, session: DbSession, user: PageUser, _csrf: CsrfChecked,
                   form: Annotated[dict[str, str], Depends(_posted_form)]) -> Response:
    """The form as a one-row sheet through ``receive_school_row``: the sheet's checks, problems shown
    by field (422) and nothing stored; else it waits for the office like an uploaded row."""
    require_role(user, UserRole.school, what="在线填报本校数据")
    school = _school(session, user)
    typed = {c.attribute: str(form.get(f"f_{c.attribute}", ""))[:200] for c in COLUMNS}
    label = str(form.get("label", ""))[:100].strip()
    current = schooldata.current_school_row(session, user.campaign_id, school.key)
    data = current[0].data if current is not None else {}
    typed["name"] = school.name  # who the row is stays the school's own
    code = data.get("school_code") or (school.key if school.key != school.name else "")
    typed["school_code"] = code or ""
    sheet = sheet_from_form(typed, data.get("extra") or {})
    campaign = session.get(Campaign, user.campaign_id)
    from tracker.accounts.service import acting_person

    actor = acting_person(session, user)
    try:
        submission = receive_school_row(session, campaign, school, sheet, FORM_FILENAME, actor.name,
                                        actor_id=actor.id, label=label or f"{school.name} 网页填报")
        session.commit()
    except SheetError as exc:
        session.rollback()
        problems = [{"row": p.row, "column": p.column, "message": p.message} for p in exc.problems]
        return _school_form(request, session, user, school, typed=typed, problems=problems, status_code=422,
                            label=label)
    flash(request, f"已报送本校数据（批次 #{submission.id}），等待办公室审核")
    return redirect(f"/data/{submission.id}")


@router.post("/data/upload", response_class=HTMLResponse, name="data_upload")
def data_upload(
    request: Request, session: DbSession, user: PageUser, _csrf: CsrfChecked,
    file: Annotated[UploadFile, File()],
    label: Annotated[str, Form(max_length=100, pattern=TEXT_PATTERN)] = "",
) -> Response:
    """The office's county sheet, or a school's own row. Problems come back row by row (422)."""
    require_role(user, UserRole.office, UserRole.school, what="上传学校数据")
    if not file.filename:  # the file input left empty
        return _data_page(request, session, user, status_code=422, problem_file="", label=label, problems=[
            {"row": None, "column": None, "message": "没有收到文件：请先选择要上传的学校数据表"}])
    filename = sanitize_filename(file.filename)
    if not filename.lower().endswith(SHEET_SUFFIXES):  # no extension or another one: 415, as for evidence
        return _data_page(request, session, user, status_code=415, problem_file=filename, label=label, problems=[
            {"row": None, "column": None,
             "message": f"文件「{filename}」不是 .xlsx 或 .csv 文件：请下载填报模板填写后上传"}])
    data = file.file.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        return _data_page(request, session, user, status_code=413, problem_file=filename, label=label, problems=[
            {"row": None, "column": None, "message": f"文件超过 {MAX_BYTES // (1024 * 1024)} MB，不是一份学校数据表"}])
    campaign = session.get(Campaign, user.campaign_id)
    from tracker.accounts.service import acting_person

    actor = acting_person(session, user)
    try:
        school = _school(session, user)
        if school is not None:
            submission = receive_school_row(session, campaign, school, data, filename, actor.name,
                                            actor_id=actor.id, label=label.strip())
            message = f"已报送本校数据（批次 #{submission.id}），等待办公室审核"
        else:
            submission = import_county_data(session, campaign, data, filename, actor.name, label=label.strip())
            message = (f"已导入 {submission.school_count} 所学校的数据（批次 #{submission.id}），"
                       f"系统将重新评估并更新任务")
        session.commit()
    except SheetError as exc:
        session.rollback()
        problems = [{"row": p.row, "column": p.column, "message": p.message} for p in exc.problems]
        return _data_page(request, session, user, problems=problems, problem_file=exc.filename,
                          status_code=422, label=label)
    flash(request, message)
    return redirect(f"/data/{submission.id}")


@router.get("/data/{submission_id}", response_class=HTMLResponse, name="submission_page")
def submission_page(request: Request, session: DbSession, user: PageUser, submission_id: SubmissionId) -> Response:
    submission = visible_submission(session, user, submission_id)
    school = _school(session, user)
    rows = schooldata.submission_rows(session, submission.id, data_row_clause(user, school.key if school else None))
    sources = {}
    for row in rows:
        if row.source_submission_id and row.source_submission_id not in sources:
            sources[row.source_submission_id] = session.get(DataSubmission, row.source_submission_id)
    redated = []
    if role_of(user) is UserRole.office:
        # the office is told which tasks this data's assessment created after their plan date
        from tracker.assessment.queries import snapshots_of_submission
        from tracker.tasks.reconcile import redated_by_assessment

        for snapshot in snapshots_of_submission(session, submission.id):
            redated += redated_by_assessment(session, snapshot)
    return render(request, session, user, "submission.html", {
        "redated": redated,
        "sub": submission, "rows": rows, "columns": ROW_COLUMNS, "sources": sources,
        "status_name": status_name, "owner": session.get(School, submission.school_id) if submission.school_id else None,
        "base": session.get(DataSubmission, submission.based_on_id) if submission.based_on_id else None,
        "can_review": role_of(user) is UserRole.office and submission.status == IMPORTED and submission.school_id,
        "origin": provenance(session, submission, rows[0].school_key) if school is not None and rows else None,
    }, nav_path="/data")


@router.post("/data/{submission_id}/approve", name="submission_approve")
def approve(request: Request, session: DbSession, user: PageUser, _csrf: CsrfChecked,
            submission_id: SubmissionId) -> Response:
    require_role(user, UserRole.office, what="审核学校数据")
    submission = visible_submission(session, user, submission_id)
    campaign = session.get(Campaign, user.campaign_id)
    from tracker.accounts.service import acting_person

    actor = acting_person(session, user)
    try:
        merged = approve_submission(session, campaign, submission, actor.name, actor_id=actor.id)
        session.commit()
    except SubmissionError as exc:
        session.rollback()
        flash(request, exc.message, "error")
        return redirect(f"/data/{submission_id}")
    if merged.id != submission.id:
        flash(request, f"已审核通过，并入全县数据（批次 #{merged.id}），系统将重新评估")
        return redirect(f"/data/{merged.id}")
    flash(request, "已审核通过")
    return redirect(f"/data/{submission_id}")


@router.post("/data/{submission_id}/return", name="submission_return")
def return_(request: Request, session: DbSession, user: PageUser, _csrf: CsrfChecked, submission_id: SubmissionId,
            reason: Annotated[str, Form(max_length=2000, pattern=TEXT_PATTERN)] = "") -> Response:
    require_role(user, UserRole.office, what="退回学校数据")
    submission = visible_submission(session, user, submission_id)
    campaign = session.get(Campaign, user.campaign_id)
    from tracker.accounts.service import acting_person

    actor = acting_person(session, user)
    try:
        return_submission(session, campaign, submission, actor.name, reason, actor_id=actor.id)
        session.commit()
    except SubmissionError as exc:
        session.rollback()
        flash(request, exc.message, "error")
        return redirect(f"/data/{submission_id}")
    flash(request, f"已退回数据批次 #{submission_id}")
    return redirect(f"/data/{submission_id}")
