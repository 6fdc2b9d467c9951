"""The task list as an .xlsx (issue 12 §8): exactly the rows the list shows with its filters, all
pages at once, read by the list's own query (``tracker.accounts.task_list.visible_to``) so a unit
exports only what it sees; a recurring task's rule in words (重复: 每月 25 日, 每周五, 不重复). Written through ``tracker.spreadsheets`` (text never a formula).

At most ``MAX_EXPORT_ROWS`` rows: a county's whole campaign is a few thousand tasks; beyond the cap
the export refuses with a Chinese message asking for narrower filters rather than writing a file
that is silently cut short.
"""

from __future__ import annotations

import datetime as dt

from sqlmodel import Session, select

from tracker.accounts.models import User
from tracker.accounts.task_list import TaskFilters, cooperating_of, visible_to
from tracker.errors import ErrorKind, JunhengError
from tracker.org.models import Department, Phase
from tracker.spreadsheets import new_workbook, workbook_bytes
from tracker.tasks.lifecycle import days_overdue
from tracker.tasks.recurrence import describe as describe_recurrence

MAX_EXPORT_ROWS = 20_000
XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
HEADERS = ("编号", "任务", "责任单位", "配合单位", "状态", "截止日期", "逾期工作日", "指标", "阶段", "重复")
NOT_RECURRING = "不重复"


class TooManyToExport(JunhengError, kind=ErrorKind.invalid):
    """The filtered list is longer than an export may be."""


def export_rows(session: Session, user: User, campaign_id: int, filters: TaskFilters,
                today: dt.date) -> list[tuple]:
    """The list's rows as the export's lines (in ``HEADERS`` order), in the list's order."""
    found = visible_to(session, user, campaign_id, filters, limit=MAX_EXPORT_ROWS + 1, offset=0, today=today)
    if found.total > MAX_EXPORT_ROWS or len(found.rows) > MAX_EXPORT_ROWS:
        raise TooManyToExport(f"筛选出的任务共 {found.total} 条，超过导出上限 {MAX_EXPORT_ROWS} 条；"
                              "请加筛选条件（状态、单位、阶段或搜索）后再导出")
    departments = dict(session.exec(select(Department.id, Department.name)
                                    .where(Department.campaign_id == campaign_id)).all())
    phases = dict(session.exec(select(Phase.id, Phase.name).where(Phase.campaign_id == campaign_id)).all())
    lines = []
    for row in found.rows:
        unit = row.department_name if row.department_id is not None else row.school_name
        cooperating = "、".join(departments.get(d, f"#{d}") for d in cooperating_of(row))
        lines.append((row.id, row.title, unit or "未指定单位", cooperating, str(row.status), row.due_on,
                      days_overdue(row, today), row.indicator or "", phases.get(row.phase_id, ""),
                      describe_recurrence(row.recurrence) if row.recurrence else NOT_RECURRING))
    return lines


def task_list_workbook(session: Session, user: User, campaign_id: int, filters: TaskFilters,
                       today: dt.date) -> bytes:
    """The .xlsx of ``export_rows``: one sheet 任务清单, a header line, dates as dates."""
    lines = export_rows(session, user, campaign_id, filters, today)
    wb = new_workbook()
    ws = wb.active
    ws.title = "任务清单"
    ws.append(HEADERS)
    for number, line in enumerate(lines, start=2):  # not ws.max_row: it walks every cell each time
        ws.append(line)
        ws.cell(row=number, column=6).number_format = "yyyy-mm-dd"
    for column, width in zip("ABCDEFGHIJ", (8, 48, 20, 28, 10, 12, 10, 10, 16, 12)):
        ws.column_dimensions[column].width = width
    ws.freeze_panes = "A2"
    return workbook_bytes(wb)
