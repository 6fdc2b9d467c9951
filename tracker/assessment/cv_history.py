"""The CV history sheet (E2): a year's basic-balance 综合差异系数 per stage, as the county's
基本均衡 monitoring reported it. ``write_cv_template`` writes the year's sheet; ``import_cv_history``
takes a filled one (any years), validated whole — a bad cell names its row and column, and nothing
is stored — and replaces the (year, stage) figures it gives."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

from openpyxl.styles import Font
from openpyxl.worksheet.datavalidation import DataValidation
from sqlmodel import Session, select

from tracker.assessment.inputs import number
from tracker.assessment.models import CvHistory
from tracker.db import utcnow
from tracker.events.service import record_event
from tracker.org.models import Campaign
from tracker.schooldata.sheet import SheetError, SheetProblem
from tracker.spreadsheets import new_workbook, save_workbook
from tracker.standards.schema import STAGE_NAMES, STAGES

SHEET_NAME = "差异系数历史"
HEADER = ["年度", "学段", "综合差异系数", "备注"]
STAGE_BY_NAME = {STAGE_NAMES[s]: s for s in STAGES}
MAX_BYTES = 2_000_000
MAX_ROWS = 200


def write_cv_template(path: str | Path, year: int) -> Path:
    """The year's sheet: one row per stage, the CV to fill in."""
    wb = new_workbook()
    ws = wb.active
    ws.title = SHEET_NAME
    ws.append(HEADER)
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for stage in STAGES:
        ws.append([year, STAGE_NAMES[stage], None, ""])
    stages = DataValidation(type="list", formula1='"' + ",".join(STAGE_BY_NAME) + '"', allow_blank=False)
    ws.add_data_validation(stages)
    stages.add("B2:B50")
    for column, width in zip("ABCD", (8, 8, 14, 40), strict=True):
        ws.column_dimensions[column].width = width
    path = Path(path)
    save_workbook(wb, path)
    return path


def _rows(data: bytes, filename: str) -> list[tuple[int, list[object]]]:
    from openpyxl import load_workbook

    def whole(message: str) -> SheetError:
        return SheetError(filename, [SheetProblem(None, None, message)])

    if len(data) > MAX_BYTES:
        raise whole(f"文件过大，上限为 {MAX_BYTES // 1_000_000} MB")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as package:
            if sum(i.file_size for i in package.infolist()) > 20 * MAX_BYTES:
                raise whole("Excel 文件解压后过大")
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except SheetError:
        raise
    except Exception as exc:  # openpyxl raises many kinds on a damaged or non-Excel file
        raise whole(f"无法读取 Excel 文件（文件损坏或不是 .xlsx 格式）：{type(exc).__name__}") from None
    ws = wb[SHEET_NAME] if SHEET_NAME in wb.sheetnames else wb.worksheets[0]
    rows = ws.iter_rows(values_only=True)
    header = [str(v).strip() if v is not None else "" for v in next(rows, ())]
    if header[:3] != HEADER[:3]:
        raise whole(f"第 1 行表头应为 {'、'.join(HEADER[:3])}（请使用 junheng conditions cv-template 生成的模板）")
    out = []
    for n, values in enumerate(rows, start=2):
        values = list(values)[:3]
        if all(v is None or (isinstance(v, str) and not v.strip()) for v in values):
            continue
        if len(out) >= MAX_ROWS:
            raise whole(f"最多 {MAX_ROWS} 行")
        out.append((n, values + [None] * (3 - len(values))))
    return out


def import_cv_history(session: Session, campaign: Campaign, path: str | Path, actor: str) -> list[CvHistory]:
    """Store the sheet's figures (replacing those of the same year and stage). ``SheetError``
    lists every bad cell; then nothing is stored. One ``conditions.cv_history_imported`` event."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise SheetError(path.name, [SheetProblem(None, None, f"无法读取文件：{exc.strerror or exc}")]) from None
    problems: list[SheetProblem] = []
    parsed: dict[tuple[int, str], tuple[int, float]] = {}
    for row, (year_cell, stage_cell, cv_cell) in _rows(data, path.name):
        if cv_cell is None or (isinstance(cv_cell, str) and not cv_cell.strip()):
            continue  # a template row left empty: that stage's figure is not given
        year = number(year_cell)
        if year is None or year != int(year) or not 2000 <= year <= 2100:
            problems.append(SheetProblem(row, "年度", f"第 {row} 行「年度」应为 2000–2100 的年份，现为「{year_cell or ''}」"))
            continue
        stage = STAGE_BY_NAME.get(str(stage_cell or "").strip())
        if stage is None:
            problems.append(SheetProblem(row, "学段", f"第 {row} 行「学段」应为 小学 或 初中，现为「{stage_cell or ''}」"))
            continue
        cv = number(cv_cell)
        if cv is None or not 0 <= cv <= 5:
            problems.append(SheetProblem(row, "综合差异系数",
                                         f"第 {row} 行「综合差异系数」应为 0 到 5 之间的数，现为「{cv_cell if cv_cell is not None else ''}」"))
            continue
        key = (int(year), stage)
        if key in parsed:
            problems.append(SheetProblem(row, "学段", f"第 {row} 行与第 {parsed[key][0]} 行重复（{int(year)}年{STAGE_NAMES[stage]}）"))
            continue
        parsed[key] = (row, cv)
    if not parsed and not problems:
        problems.append(SheetProblem(None, None, "表中没有填写任何差异系数"))
    if problems:
        raise SheetError(path.name, problems)
    existing = {(r.year, r.stage): r for r in session.exec(
        select(CvHistory).where(CvHistory.campaign_id == campaign.id))}
    stored = []
    for (year, stage), (_row, cv) in sorted(parsed.items(), key=lambda kv: (kv[0][0], STAGES.index(kv[0][1]))):
        entry = existing.get((year, stage)) or CvHistory(campaign_id=campaign.id, year=year, stage=stage, cv=cv)
        entry.cv, entry.source, entry.entered_by, entry.entered_at = cv, path.name, actor, utcnow()
        session.add(entry)
        stored.append(entry)
    session.flush()
    record_event(session, type="conditions.cv_history_imported", actor=actor, campaign_id=campaign.id,
                 payload={"source": path.name, "rows": [[e.year, e.stage, e.cv] for e in stored]})
    return stored
