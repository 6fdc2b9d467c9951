"""The 阶段小结 (.docx) a phase flow's closing step writes when the phase's gate passes (issue 16 §1):
in the briefing's official style (方正小标宋 title, 黑体 headings, 仿宋 body, A4 with the 公文 margins),
what was due, done, late, returned and extended, and the indicators before and after the phase."""

from __future__ import annotations

import io

from docx import Document
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.shared import Mm, Pt

from notifications.briefing.document import (
    BODY_FONT,
    BODY_SIZE,
    HEADING_FONT,
    MARGINS,
    TABLE_SIZE,
    TITLE_FONT,
    TITLE_SIZE,
    set_run_font,
    simplified_chinese,
)
from tracker.clock import local_date
from tracker.phases.service import PhaseSummaryFigures

INDICATOR_ROWS = 60  # rows of the indicator table printed; the rest are counted


def _para(doc, text: str, *, font: str = BODY_FONT, size: float = BODY_SIZE, bold: bool = False,
          align=WD_ALIGN_PARAGRAPH.JUSTIFY, indent: bool = True):
    paragraph = doc.add_paragraph()
    paragraph.alignment = align
    paragraph.paragraph_format.line_spacing = Pt(28)
    if indent:
        paragraph.paragraph_format.first_line_indent = Pt(size * 2)
    set_run_font(paragraph.add_run(text), font, size, bold=bold)
    return paragraph


def _table(doc, headers: list[str], rows: list[list[str]]) -> None:
    table = doc.add_table(rows=1, cols=len(headers))
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    for cell, text in zip(table.rows[0].cells, headers, strict=True):
        set_run_font(cell.paragraphs[0].add_run(text), HEADING_FONT, TABLE_SIZE, bold=True)
        cell.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.CENTER
    for values in rows:
        cells = table.add_row().cells
        for cell, text in zip(cells, values, strict=True):
            set_run_font(cell.paragraphs[0].add_run(text), BODY_FONT, TABLE_SIZE)


def _day(value) -> str:
    return f"{value.year}年{value.month}月{value.day}日" if value is not None else "以上级通知为准"


def render_phase_summary(f: PhaseSummaryFigures) -> bytes:
    doc = Document()
    section = doc.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.top_margin, section.bottom_margin = Mm(MARGINS["top"]), Mm(MARGINS["bottom"])
    section.left_margin, section.right_margin = Mm(MARGINS["left"]), Mm(MARGINS["right"])
    simplified_chinese(doc, BODY_FONT)

    _para(doc, f"{f.campaign_name}", font=TITLE_FONT, size=TITLE_SIZE, align=WD_ALIGN_PARAGRAPH.CENTER, indent=False)
    _para(doc, f"「{f.phase_name}」阶段小结", font=TITLE_FONT, size=TITLE_SIZE, align=WD_ALIGN_PARAGRAPH.CENTER,
          indent=False)
    passed = local_date(f.passed_at) if f.passed_at is not None else None
    _para(doc, f"「{f.phase_name}」阶段（{f.kind_name}）自{_day(f.starts_on)}开始，关口为{_day(f.gate_on)}，"
               f"于{_day(passed)}通过阶段关口。"
               + (f"创建工作进入「{f.next_phase}」阶段。" if f.next_phase else "创建工作各阶段已全部完成。"))

    t = f.tasks
    _para(doc, "一、任务完成情况", font=HEADING_FONT)
    _para(doc, f"本阶段共有任务 {t['due']} 项，已销号 {t['done']} 项，撤销 {t['withdrawn']} 项，"
               f"未完成 {t['open']} 项；其中逾期完成或逾期未完成 {t['late']} 项，"
               f"曾被退回 {t['returned']} 项，经批准延期 {t['extended']} 项。")
    _table(doc, ["应完成", "已销号", "逾期", "退回", "延期", "撤销"],
           [[str(t["due"]), str(t["done"]), str(t["late"]), str(t["returned"]), str(t["extended"]),
             str(t["withdrawn"])]])

    _para(doc, "二、指标变化情况", font=HEADING_FONT)
    if f.shortfalls_after is None:
        _para(doc, "本阶段尚无评估结果。")
    else:
        before = "阶段开始时尚无评估结果" if f.shortfalls_before is None else f"阶段开始时未达标项 {f.shortfalls_before} 项"
        _para(doc, f"{before}，目前未达标项 {f.shortfalls_after} 项。")
        rows = [[c.stage, c.code, c.before, c.after] for c in f.indicators[:INDICATOR_ROWS]]
        if rows:
            _table(doc, ["学段", "指标", "阶段开始时", "目前"], rows)
        if len(f.indicators) > INDICATOR_ROWS:
            _para(doc, f"另有 {len(f.indicators) - INDICATOR_ROWS} 项指标未列出。")

    _para(doc, f"{f.county}创建工作领导小组办公室", align=WD_ALIGN_PARAGRAPH.RIGHT, indent=False)
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()
