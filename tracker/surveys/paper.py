"""Paper answer sheets: the entry sheet of one group's questionnaire, and reading it back.

The sheet (``答卷`` ) has the columns 群体, 学校, then one column per question headed by the
question's text, one row per respondent; every answer cell has a dropdown of the choices, 群体 one
of the group, 学校 one of the campaign's schools (a hidden list sheet). Reading it checks the whole
file first and names every problem's row and column; one problem and nothing is stored.
"""

from __future__ import annotations

import io
import zipfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.worksheet.datavalidation import DataValidation
from sqlalchemy import insert
from sqlmodel import Session

from tracker.db import utcnow
from tracker.errors import ErrorDetail, ErrorKind, JunhengError
from tracker.org.models import Campaign
from tracker.schooldata.cells import blank, show, strip_invisible
from tracker.schooldata.sheet import MAX_BYTES, MAX_UNPACKED_BYTES
from tracker.spreadsheets import new_workbook, save_workbook
from tracker.surveys import queries
from tracker.surveys.models import Survey, SurveyResponse
from tracker.surveys.results import rule_text
from tracker.surveys.service import COUNTY_GROUPS, group_of, questionnaire_of, standard_of

SHEET = "答卷"
LISTS = "选项"
FIXED = ("群体", "学校")
MAX_ROWS = 20_000  # respondents per file
TEMPLATE_ROWS = 500  # rows the dropdowns cover


class SurveySheetError(JunhengError, ValueError, kind=ErrorKind.invalid):
    def __init__(self, filename: str, problems: list[ErrorDetail]):
        self.problems = problems
        head = f"答卷文件 {filename} 有 {len(problems)} 处问题，未导入任何答卷"
        lines = []
        for p in problems[:200]:
            where = ""
            if p.row is not None:
                where += f"第 {p.row} 行"
            if p.column:
                where += f"「{p.column}」"
            lines.append(f"{where}{'：' if where else ''}{p.message}")
        more = f"\n……另有 {len(problems) - 200} 处" if len(problems) > 200 else ""
        super().__init__(head + "：\n" + "\n".join(lines) + more, summary=head, details=problems)


def template_workbook(survey: Survey, group: str, schools: list[str], campaign: Campaign):  # noqa: ANN201
    questionnaire = questionnaire_of(survey)
    questions = group_of(survey, group).questions
    rule = standard_of(campaign).survey
    wb = new_workbook()
    ws = wb.active
    ws.title = SHEET
    headers = [*FIXED, *(q.text for q in questions)]
    bold = Font(bold=True)
    fill = PatternFill("solid", fgColor="FFE8F3FF")
    for col, text in enumerate(headers, start=1):
        cell = ws.cell(row=1, column=col, value=text)
        cell.font, cell.fill = bold, fill
        cell.alignment = Alignment(wrap_text=True, vertical="top")
        ws.column_dimensions[cell.column_letter].width = 12 if col <= 2 else 22
    ws.cell(row=1, column=1).comment = Comment(f"本表为“{group}”问卷；每行一位答卷人", "均衡督办")
    ws.row_dimensions[1].height = 60
    ws.freeze_panes = "C2"

    lists = wb.create_sheet(LISTS)
    for row, name in enumerate(schools, start=1):
        lists.cell(row=row, column=1, value=name)
    lists.sheet_state = "hidden"
    last = TEMPLATE_ROWS + 1
    group_dv = DataValidation(type="list", formula1=f'"{group}"', allow_blank=False)
    group_dv.add(f"A2:A{last}")
    ws.add_data_validation(group_dv)
    if schools:
        school_dv = DataValidation(type="list", formula1=f"{LISTS}!$A$1:$A${len(schools)}",
                                   allow_blank=group in COUNTY_GROUPS)
        school_dv.add(f"B2:B{last}")
        ws.add_data_validation(school_dv)
    answer_dv = DataValidation(type="list", formula1='"' + ",".join(questionnaire.choices) + '"', allow_blank=True,
                               showErrorMessage=True, errorTitle="答案无效", error="请从下拉列表中选择")
    answer_dv.add(f"C2:{ws.cell(row=last, column=len(headers)).coordinate}")
    ws.add_data_validation(answer_dv)
    for row in range(2, 4):
        ws.cell(row=row, column=1, value=group)

    notes = wb.create_sheet("填报说明")
    lines = [
        f"{survey.title}（{group}问卷）" + ("——示例问卷，非官方文本" if survey.illustrative else ""),
        "每行录入一份纸质答卷：群体、学校，再逐题从下拉列表选择答案；未作答的题留空。",
        "学校：人大代表和政协委员、社会人士可不填；其他群体须从下拉列表选择本县学校。",
        "导入：junheng survey import 本文件.xlsx；整份文件检查无误才导入，有错时列出行和列，什么也不导入。",
        f"计算规则：{rule_text(rule)}" if rule else "",
        f"可选答案：{'、'.join(questionnaire.choices)}",
    ]
    for row, line in enumerate(filter(None, lines), start=1):
        notes.cell(row=row, column=1, value=line)
    notes.column_dimensions["A"].width = 100
    return wb


def write_template(survey: Survey, group: str, schools: list[str], campaign: Campaign, path: str | Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    save_workbook(template_workbook(survey, group, schools, campaign), path)
    return path


@dataclass(frozen=True)
class PaperImport:
    group: str
    responses: int
    answers: int


def _grid(data: bytes, filename: str) -> list[tuple[int, list[object]]]:
    from openpyxl import load_workbook

    fail = lambda message: SurveySheetError(filename, [ErrorDetail(message)])  # noqa: E731
    if len(data) > MAX_BYTES:
        raise fail(f"文件过大（{len(data) / 1024 / 1024:.1f} MB），上限为 {MAX_BYTES // 1024 // 1024} MB")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as package:
            if sum(i.file_size for i in package.infolist()) > MAX_UNPACKED_BYTES:
                raise fail(f"Excel 文件解压后过大，上限为 {MAX_UNPACKED_BYTES // 1024 // 1024} MB")
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except SurveySheetError:
        raise
    except Exception:  # noqa: BLE001 — openpyxl raises many kinds on a damaged or non-Excel file
        raise fail("无法读取 Excel 文件（文件损坏或不是 .xlsx 格式）") from None
    try:
        ws = wb[SHEET] if SHEET in wb.sheetnames else wb.worksheets[0]
        ws.reset_dimensions()
        grid = []
        for number, values in enumerate(ws.iter_rows(values_only=True), start=1):
            if all(blank(v) for v in values):
                continue
            grid.append((number, list(values)))
            if len(grid) > MAX_ROWS + 1:
                raise fail(f"答卷超过 {MAX_ROWS} 行，请分成几个文件导入")
    finally:
        wb.close()
    return grid


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return strip_invisible(str(value)).strip()


def import_paper(session: Session, campaign: Campaign, survey: Survey, data: bytes, filename: str) -> PaperImport:
    """Validate the whole sheet, then store one response per row (channel ``paper``)."""
    if survey.closed_at is not None:
        raise JunhengError("这一轮满意度调查已经结束，不能再导入答卷", kind=ErrorKind.conflict)
    questionnaire = questionnaire_of(survey)
    grid = _grid(data, filename)
    problems: list[ErrorDetail] = []
    if not grid:
        raise SurveySheetError(filename, [ErrorDetail("文件中没有任何内容")])
    header_row, header = grid[0]
    header = [_text(h) for h in header]
    while header and not header[-1]:
        header.pop()
    if header[:2] != list(FIXED):
        raise SurveySheetError(filename, [ErrorDetail(
            f"前两列应为「群体」「学校」，现为「{'」「'.join(header[:2])}」；请用 junheng survey template 生成的表", header_row)])
    # which group: the one whose questions head the most columns; groups share some questions'
    # texts (总体成效), so a tie goes to the group the rows name most
    texts = set(header[2:])
    named = Counter(_text(values[0]) for _, values in grid[1:] if values)
    scored = [(len(texts & {q.text for q in g.questions}), named.get(g.name, 0), -i, g)
              for i, g in enumerate(questionnaire.groups)]
    best = max(scored, key=lambda t: t[:3])
    group = best[3] if best[0] else None
    if group is None:
        raise SurveySheetError(filename, [ErrorDetail("表头没有本问卷的题目；请用 junheng survey template 生成的表", header_row)])
    by_text = {q.text: q for q in group.questions}
    columns: list[tuple[int, str]] = []  # (column index, question id)
    seen: set[str] = set()
    for index, text in enumerate(header[2:], start=2):
        if not text:
            continue
        q = by_text.get(text)
        if q is None:
            problems.append(ErrorDetail(f"不是“{group.name}”问卷的题目", header_row, show(text)))
        elif q.id in seen:
            problems.append(ErrorDetail("题目重复", header_row, show(text)))
        else:
            seen.add(q.id)
            columns.append((index, q.id))
    for q in group.questions:
        if q.id not in seen:
            problems.append(ErrorDetail(f"缺少题目「{q.text}」这一列", header_row))
    schools = queries.school_ids_by_name(session, campaign.id)
    choices = set(questionnaire.choices)
    rows: list[dict] = []
    answers_total = 0
    for number, values in grid[1:]:
        cells = [_text(v) for v in values]
        cell = lambda i: cells[i] if i < len(cells) else ""  # noqa: E731
        row_group, school = cell(0), cell(1)
        if row_group != group.name:
            problems.append(ErrorDetail(f"应为“{group.name}”，现为「{show(row_group) or '空'}」", number, "群体"))
        school_id = None
        if school:
            school_id = schools.get(school)
            if school_id is None:
                problems.append(ErrorDetail(f"「{show(school)}」不是本县的学校", number, "学校"))
        elif group.name not in COUNTY_GROUPS:
            problems.append(ErrorDetail("未填学校", number, "学校"))
        answers: dict[str, str] = {}
        for index, qid in columns:
            answer = cell(index)
            if not answer:
                continue
            if answer not in choices:
                problems.append(ErrorDetail(f"「{show(answer)}」不是可选答案（{'、'.join(questionnaire.choices)}）",
                                            number, show(header[index])))
            else:
                answers[qid] = answer
        if not answers and columns:
            problems.append(ErrorDetail("这一行没有任何回答", number))
        answers_total += len(answers)
        rows.append({"survey_id": survey.id, "school_id": school_id, "group": group.name, "channel": "paper",
                     "code_id": None, "answers": answers})
    if not rows and not problems:
        problems.append(ErrorDetail("表中没有答卷（表头下没有任何一行）"))
    if problems:
        raise SurveySheetError(filename, problems)
    now = utcnow()
    session.execute(insert(SurveyResponse), [{**r, "submitted_at": now} for r in rows])
    return PaperImport(group.name, len(rows), answers_total)
