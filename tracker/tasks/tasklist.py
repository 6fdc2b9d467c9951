"""任务清单: many office tasks (交办) at once from an .xlsx (issue 12 §1).

``write_tasklist_template`` writes the sheet the office fills in: the columns below, dropdowns of
the campaign's units, phases, 事项来源 and 是/否 (their lists on a hidden sheet, as a county has
more units than an inline list holds), and a 填写说明 sheet. ``import_tasklist`` reads it back:
the whole sheet is checked first and every problem is reported by row and column in Chinese
(``SheetError``, as the school sheet's); nothing is stored when there is one. Each row's task has
a stable ``origin_key`` (``assign.sheet_origin_key``: 任务名称 + 牵头单位 + 完成时限), so the same
sheet imported twice creates nothing the second time, and a sheet extended with new rows creates
only those.
"""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from sqlmodel import Session, select

from tracker.clock import local_date
from tracker.db import utcnow
from tracker.org.models import Campaign, Department, Person, Phase
from tracker.schooldata.sheet import MAX_BYTES, MAX_UNPACKED_BYTES, SheetError, SheetProblem
from tracker.spreadsheets import new_workbook, workbook_bytes
from tracker.tasks.assign import (
    SOURCE_NAMES,
    OfficeTaskInput,
    existing_keys,
    parse_date,
    require_office,
    resolve,
    sheet_origin_key,
    units_for,
)
from tracker.tasks.models import Task
from tracker.tasks.service import create_tasks

SHEET_NAME = "任务清单"
CHOICES_SHEET = "选项"
MAX_TASK_ROWS = 2000

# (header, field, required, help)
COLUMNS: tuple[tuple[str, str, bool, str], ...] = (
    ("序号", "number", False, "便于核对，可不填"),
    ("任务名称", "title", True, "必填，不超过 200 字"),
    ("事项来源", "source", True, "从下拉列表选择：" + "、".join(SOURCE_NAMES)),
    ("来源文号/会议", "source_ref", False, "文号，或会议名称和日期，例如「县政府第 12 次常务会议（2027-03-02）」"),
    ("措施/要求", "measures", False, "具体措施和工作要求"),
    ("牵头单位", "lead", True, "从下拉列表选择；也可填单位简称或学校名称"),
    ("配合单位", "cooperating", False, "多个单位用顿号（、）或逗号分隔"),
    ("阶段", "phase", False, "从下拉列表选择；不填为当前阶段"),
    ("完成时限", "due_on", True, "日期，格式 YYYY-MM-DD，例如 2027-03-31"),
    ("须上传佐证材料", "evidence_required", False, "是 或 否；填“是”则没有佐证材料不能提交。不填为否"),
    ("指标代码", "indicator", False, "选填，对应的评估指标代码"),
)
HEADERS = [c[0] for c in COLUMNS]
NOTES = (
    "每项任务填一行，表头（第 1 行）不要修改；从第 2 行开始填写。",
    "任务名称、事项来源、牵头单位、完成时限为必填。",
    "导入前系统会检查全部数据，任何一处有误整份文件都不会导入，并逐条列出问题所在的行和列。",
    "同一份清单重复导入不会重复创建任务（以任务名称、牵头单位和完成时限识别同一项任务）。",
)
_HEAD_FILL = PatternFill("solid", fgColor="F8CBAD")
_OPTIONAL_FILL = PatternFill("solid", fgColor="E7E6E6")


def _choices(session: Session, campaign: Campaign) -> dict[str, list[str]]:
    units = [d.name for d in session.exec(select(Department).where(Department.campaign_id == campaign.id,
                                                                   Department.active).order_by(Department.id))]
    phases = [p.name for p in session.exec(select(Phase).where(Phase.campaign_id == campaign.id)
                                           .order_by(Phase.ordinal, Phase.id))]
    return {"source": SOURCE_NAMES, "lead": units, "phase": phases, "evidence_required": ["是", "否"]}


def tasklist_template_bytes(session: Session, campaign: Campaign) -> bytes:
    """The 任务清单 template of ``campaign`` as .xlsx bytes."""
    wb = new_workbook()
    ws = wb.active
    ws.title = SHEET_NAME
    for index, (header, _name, required, help_text) in enumerate(COLUMNS, start=1):
        cell = ws.cell(row=1, column=index, value=header)
        cell.fill = _HEAD_FILL if required else _OPTIONAL_FILL
        cell.font = Font(bold=True)
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        ws.column_dimensions[get_column_letter(index)].width = 30 if header in ("任务名称", "措施/要求") else 16
    ws.freeze_panes = "B2"
    choices = _choices(session, campaign)
    lists = wb.create_sheet(CHOICES_SHEET)
    last = MAX_TASK_ROWS + 1
    for list_index, (name, values) in enumerate(choices.items(), start=1):
        letter = get_column_letter(list_index)
        lists.cell(row=1, column=list_index, value={"source": "事项来源", "lead": "单位", "phase": "阶段",
                                                    "evidence_required": "是否"}[name])
        for row, value in enumerate(values, start=2):
            lists.cell(row=row, column=list_index, value=value)
        if not values:
            continue
        column = HEADERS.index(next(c[0] for c in COLUMNS if c[1] == name)) + 1
        validation = DataValidation(type="list", formula1=f"'{CHOICES_SHEET}'!${letter}$2:${letter}${len(values) + 1}",
                                    allow_blank=True)
        # 牵头单位 also takes a 简称 or a school: a warning, not a refusal
        validation.errorStyle = "warning" if name == "lead" else "stop"
        validation.errorTitle = "填写有误"
        validation.error = "请从下拉列表中选择。"
        validation.showErrorMessage = True
        ws.add_data_validation(validation)
        target = get_column_letter(column)
        validation.add(f"{target}2:{target}{last}")
    lists.sheet_state = "hidden"
    notes = wb.create_sheet("填写说明")
    notes.append(["列名", "是否必填", "填写说明"])
    for header, _name, required, help_text in COLUMNS:
        notes.append([header, "必填" if required else "选填", help_text])
    notes.append([])
    for number, note in enumerate(NOTES, start=1):
        notes.append([f"{number}.", note])
    notes.column_dimensions["A"].width = 18
    notes.column_dimensions["C"].width = 70
    wb.active = 0
    return workbook_bytes(wb)


def write_tasklist_template(session: Session, campaign: Campaign, path: str | Path) -> Path:
    path = Path(path)
    path.write_bytes(tasklist_template_bytes(session, campaign))
    return path


@dataclass
class TasklistImport:
    created: list[Task] = field(default_factory=list)
    unchanged: int = 0  # rows whose task was already there (imported before)


def _file_problem(filename: str, message: str) -> SheetError:
    return SheetError(filename, [SheetProblem(None, None, message)])


def _read_rows(data: bytes, filename: str) -> list[tuple[int, dict[str, object]]]:
    from openpyxl import load_workbook

    if len(data) > MAX_BYTES:
        raise _file_problem(filename, f"文件过大，上限为 {MAX_BYTES // 1024 // 1024} MB")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as package:
            if sum(i.file_size for i in package.infolist()) > MAX_UNPACKED_BYTES:
                raise _file_problem(filename, "Excel 文件解压后过大，请检查是否误选了其他文件")
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except SheetError:
        raise
    except Exception as exc:  # openpyxl raises many kinds on a damaged or non-Excel file
        raise _file_problem(filename, f"无法读取 Excel 文件（文件损坏或不是 .xlsx 格式）：{type(exc).__name__}") from None
    try:
        ws = wb[SHEET_NAME] if SHEET_NAME in wb.sheetnames else wb.worksheets[0]
        ws.reset_dimensions()
        rows = ws.iter_rows(values_only=True)
        header = [str(v).strip() if v is not None else "" for v in next(rows, ())]
        missing = [h for h, _n, required, _h in COLUMNS if required and h not in header]
        if missing:
            raise _file_problem(filename, f"第 1 行表头缺少必填列：{'、'.join(missing)}（请使用任务清单模板）")
        positions = {name: header.index(h) for h, name, _r, _h in COLUMNS if h in header}
        out: list[tuple[int, dict[str, object]]] = []
        for number, values in enumerate(rows, start=2):
            values = list(values)
            row = {name: values[i] if i < len(values) else None for name, i in positions.items()}
            if all(v is None or (isinstance(v, str) and not v.strip()) for k, v in row.items() if k != "number"):
                continue
            if len(out) >= MAX_TASK_ROWS:
                raise _file_problem(filename, f"任务清单最多 {MAX_TASK_ROWS} 行")
            out.append((number, row))
    finally:
        wb.close()
    return out


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _split(value: object) -> list[str]:
    text = _cell_text(value)
    for sep in ("，", ",", ";", "；", "\n", "/"):
        text = text.replace(sep, "、")
    return [part.strip() for part in text.split("、") if part.strip()]


def import_tasklist(session: Session, campaign: Campaign, source: bytes | str | Path, actor: Person,
                    *, filename: str | None = None, today: dt.date | None = None) -> TasklistImport:
    """Check the whole 任务清单 and create its tasks (office only); ``SheetError`` lists every
    problem by row and column and nothing is stored. Rows already imported are left alone.
    Does not commit."""
    require_office(actor, campaign, "导入任务清单")
    if not isinstance(source, (bytes, bytearray)):
        path = Path(source)
        filename = filename or path.name
        try:
            source = path.read_bytes()
        except OSError:
            raise _file_problem(filename, f"找不到或无法读取文件：{path}") from None
    filename = filename or "任务清单.xlsx"
    today = today or local_date(utcnow())
    rows = _read_rows(bytes(source), filename)
    if not rows:
        raise _file_problem(filename, "任务清单没有任何任务（从第 2 行开始填写）")
    units = units_for(session, campaign)
    problems: list[SheetProblem] = []
    new_tasks = []
    seen: dict[str, int] = {}
    header_of = {name: header for header, name, _r, _h in COLUMNS}
    for number, row in rows:
        flag = _cell_text(row.get("evidence_required"))
        evidence: bool | None = None
        if flag in ("是", "Y", "y", "1", "true", "TRUE"):
            evidence = True
        elif flag in ("否", "N", "n", "0", "false", "FALSE", ""):
            evidence = False
        else:
            problems.append(SheetProblem(number, "须上传佐证材料",
                                         f"第 {number} 行「须上传佐证材料」应填 是 或 否，收到「{flag}」"))
        title, lead = _cell_text(row.get("title")), _cell_text(row.get("lead"))
        due_raw = row.get("due_on")
        key = None
        try:
            key = sheet_origin_key(title, lead, parse_date(due_raw)) if title and lead and due_raw else None
        except ValueError:
            pass
        data = OfficeTaskInput(
            title=title, lead=lead, due_on=due_raw if not isinstance(due_raw, str) else due_raw.strip(),
            source=_cell_text(row.get("source")), source_ref=_cell_text(row.get("source_ref")),
            measures=_cell_text(row.get("measures")), cooperating=_split(row.get("cooperating")),
            phase=_cell_text(row.get("phase")) or None, evidence_required=evidence,
            indicator=_cell_text(row.get("indicator")) or None, origin_key=key)
        resolved = resolve(units, data, today)
        for name, message in resolved.problems:
            column = header_of.get(name, name)
            message = message.removeprefix(f"{column}：")  # the row and column say it already
            problems.append(SheetProblem(number, column, f"第 {number} 行「{column}」：{message}"))
        if key is not None and not resolved.problems:
            if key in seen:
                problems.append(SheetProblem(number, "任务名称", f"第 {number} 行与第 {seen[key]} 行是同一项任务"
                                             f"（任务名称、牵头单位和完成时限都相同）"))
                continue
            seen[key] = number
            new_tasks.append(resolved.new)
    if problems:
        raise SheetError(filename, problems)
    already = existing_keys(session, campaign, [n.origin_key for n in new_tasks])
    wanted = [n for n in new_tasks if n.origin_key not in already]
    created = create_tasks(session, campaign, wanted, actor=actor, today=today) if wanted else []
    return TasklistImport(created=created, unchanged=len(new_tasks) - len(wanted))

