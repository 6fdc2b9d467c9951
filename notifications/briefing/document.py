"""The weekly briefing (调度通报) as a Word document in the manner of Chinese official documents
(GB/T 9704-2012; the page, fonts and tables are the kit in official.py and official_tables.py).

The 版头 of a 简报-style document (red 「创建工作调度通报」, 期数, issuing office and date over a
red rule), the title, the sections, the tables and charts, the signature, and the 版记 (抄送 and
印发 between rules).

The kit's names stay importable from here (``from notifications.briefing.document import
paragraph, table, …``), as other documents import them.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Sequence

from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_TAB_ALIGNMENT
from docx.shared import Mm, Pt

from notifications.briefing import text as words
from notifications.briefing.charts import Chart
from notifications.briefing.official import (BODY_FONT, BODY_SIZE, HEADING_FONT, LATIN_FONT, LINE_PITCH, MARGINS,
                                             PAGE_NUMBER_FONT, PAGE_NUMBER_SIZE, RED, SUBHEADING_FONT, TABLE_SIZE,
                                             TITLE_FONT, TITLE_SIZE, border, fitting_size, footers, heading, layout,
                                             lead_in, official_document, paragraph, set_run_font, simplified_chinese,
                                             subheading, text_width)
from notifications.briefing.official_tables import CELL_MARGIN_TWIPS, merge_repeats, table
from tracker.briefings.compute import BriefingData, UnitRow

__all__ = [
    "BODY_FONT", "BODY_SIZE", "CELL_MARGIN_TWIPS", "HEADING_FONT", "LATIN_FONT", "LIGHT_FILL", "LINE_PITCH", "MARGINS",
    "PAGE_NUMBER_FONT", "PAGE_NUMBER_SIZE", "RED", "SUBHEADING_FONT", "TABLE_ROW_LIMIT", "TABLE_SIZE", "TITLE_FONT",
    "TITLE_SIZE", "build_document", "heading", "merge_repeats", "official_document", "paragraph", "set_run_font",
    "simplified_chinese", "subheading", "table", "text_width", "write_briefing_docx",
]

LIGHT_FILL = {"绿": "C8E6C9", "黄": "FFF59D", "红": "FFCDD2"}
TABLE_ROW_LIMIT = 50  # rows of a long list printed; the rest are counted


def _unit_table(doc, units: list[UnitRow], first_header: str) -> None:
    headers = ["排名", first_header, "应办", "已销号", "在办", "未签收", "逾期", "完成率", "按时完成率", "亮灯"]
    rows, fills = [], []
    for u in units:
        f = u.figures
        rows.append([str(u.rank) if u.rank else "—", u.short_name, str(f.assigned), str(f.done), str(f.in_progress),
                     str(f.not_signed), str(f.overdue), words.percent(f.completion_rate, 0),
                     words.percent(f.on_time_rate, 0), u.light or "—"])
        fill = {9: LIGHT_FILL[u.light]} if u.light in LIGHT_FILL else {}
        if f.overdue:
            fill[6] = LIGHT_FILL["红"]
        fills.append(fill)
    table(doc, headers, rows, [11, 37, 11, 14, 11, 14, 11, 14, 22, 11], left_columns=(1,), fills=fills)


def _picture(doc, chart: Chart, caption: str) -> None:
    p = paragraph(doc, align=WD_ALIGN_PARAGRAPH.CENTER, indent=False, pitch=None)
    p.add_run().add_picture(io.BytesIO(chart.png), width=Mm(150))
    paragraph(doc, caption, size=14, align=WD_ALIGN_PARAGRAPH.CENTER, indent=False)


def _more(doc, shown: int, total: int, what: str) -> None:
    if total > shown:
        paragraph(doc, f"（另有{total - shown}项{what}未列出，详见督办系统。）", size=14)


def _masthead(doc, data: BriefingData) -> None:
    """版头: red 「创建工作调度通报」, 期数, issuing office and date over a red rule."""
    paragraph(doc, "", pitch=None)
    paragraph(doc, "创建工作调度通报", font=TITLE_FONT, size=36, align=WD_ALIGN_PARAGRAPH.CENTER, indent=False,
               colour=RED, pitch=None)
    paragraph(doc, words.number_text(data), align=WD_ALIGN_PARAGRAPH.CENTER, indent=False)
    date = words.cn_date(data.issued_on or data.as_of_date)
    size = fitting_size(f"{data.issuing_office}　　{date}", 150, (14, 12, 10.5))
    line = paragraph(doc, "", align=WD_ALIGN_PARAGRAPH.LEFT, indent=False)
    line.paragraph_format.tab_stops.add_tab_stop(Mm(156), WD_TAB_ALIGNMENT.RIGHT)
    set_run_font(line.add_run(data.issuing_office), BODY_FONT, size)
    set_run_font(line.add_run("\t" + date), BODY_FONT, size)
    border(line, "bottom", size_eighths=18, colour="E60012", space=4)
    paragraph(doc, "", pitch=None)


def _signature(doc, data: BriefingData) -> None:
    """发文机关署名 and 成文日期: the date right with four characters' space, the name centred over
    the date (or as far right as it fits)."""
    paragraph(doc, "")
    date = words.cn_date(data.issued_on or data.as_of_date)
    name_indent = max(0.0, 4 + (text_width(date) - text_width(data.issuing_office)) / 2)
    for text, indent in ((data.issuing_office, name_indent), (date, 4)):
        p = paragraph(doc, text, align=WD_ALIGN_PARAGRAPH.RIGHT, indent=False)
        p.paragraph_format.right_indent = Pt(indent * BODY_SIZE)


def _colophon(doc, data: BriefingData) -> None:
    """版记: 抄送 and 印发 between rules (the first and last heavier), 四号 where it fits."""
    paragraph(doc, "")
    cc = paragraph(doc, "抄送：领导小组组长、副组长，领导小组各成员单位。", size=14, indent=False)
    cc.paragraph_format.left_indent = Pt(14)
    border(cc, "top", size_eighths=8)
    border(cc, "bottom", size_eighths=4)
    issued = f"{words.cn_date(data.issued_on or data.as_of_date)}印发"
    size = fitting_size(f"{data.issuing_office}　{issued}", 140, (14, 12, 10.5))
    printed = paragraph(doc, "", size=size, indent=False)
    printed.paragraph_format.left_indent = Pt(14)
    printed.paragraph_format.tab_stops.add_tab_stop(Mm(151), WD_TAB_ALIGNMENT.RIGHT)
    set_run_font(printed.add_run(data.issuing_office), BODY_FONT, size)
    set_run_font(printed.add_run(f"\t{issued}"), BODY_FONT, size)
    border(printed, "bottom", size_eighths=8)


def build_document(data: BriefingData, charts: Sequence[Chart] = ()) -> Document:
    doc = Document()
    layout(doc)
    footers(doc)
    props = doc.core_properties
    props.title = f"{words.title(data)}（{words.number_text(data)}）"
    props.author = data.issuing_office
    props.subject = data.iso_week
    stamp = dt.datetime.combine(data.issued_on or data.as_of_date, dt.time(8, 30))
    props.created = props.modified = stamp
    props.last_modified_by = data.issuing_office
    props.revision = 1
    by_key = {c.key: c for c in charts}

    _masthead(doc, data)
    paragraph(doc, words.title(data), font=TITLE_FONT, size=TITLE_SIZE, align=WD_ALIGN_PARAGRAPH.CENTER,
               indent=False, pitch=36)
    sub = f"（{words.period_text(data)}）"
    if data.holiday_week:
        sub = f"（{words.period_text(data)}，本周为法定节假日）"
    paragraph(doc, sub, font=SUBHEADING_FONT, align=WD_ALIGN_PARAGRAPH.CENTER, indent=False)
    paragraph(doc, "")
    paragraph(doc, "领导小组各成员单位：", indent=False)
    paragraph(doc, words.opening(data))

    heading(doc, "一、总体进展")
    paragraph(doc, words.overall_paragraph(data))
    paragraph(doc, words.phase_paragraph(data))

    heading(doc, "二、各单位进展情况")
    paragraph(doc, data.overdue_sentence)
    departments = [u for u in data.departments() if u.figures.assigned]
    idle = [u.short_name for u in data.departments() if not u.figures.assigned]
    if departments:
        subheading(doc, "（一）责任单位")
        _unit_table(doc, departments, "责任单位")
    if idle:
        paragraph(doc, f"{'、'.join(idle)}等{len(idle)}个单位本期暂无牵头任务。", size=14, pitch=24)
    schools = [u for u in data.schools() if u.figures.assigned]
    if schools:
        subheading(doc, "（二）学校（学校自行整改的任务）")
        _unit_table(doc, schools, "学校")
    if words.extensions_sentence(data):  # 延期申请 per unit (issue 12 §2)
        paragraph(doc, words.extensions_sentence(data))
    paragraph(doc, f"注：{words.rank_rule(data)}；"
                    "亮灯为单位所有任务中最差的一项（红：逾期；黄：3个工作日内到期或落后于序时进度；绿：正常）。",
               size=12, pitch=20)
    if "completion" in by_key:
        _picture(doc, by_key["completion"], "图1  各单位任务完成率")
    elif words.no_completion_chart(data):
        paragraph(doc, words.no_completion_chart(data))

    heading(doc, "三、本周工作情况")
    paragraph(doc, words.week_paragraph(data))

    heading(doc, "四、逾期任务")
    if data.overdue:
        lead_in(doc, f"截至{words.cn_day(data.as_of_date)}，共有逾期任务{len(data.overdue)}项，"
                      "按逾期时间排列如下（逾期天数按工作日计）：")
        shown = data.overdue[:TABLE_ROW_LIMIT]
        rows = [[str(i), r.title, r.unit, f"{r.due_on.month}月{r.due_on.day}日", words.days_overdue_cell(r.days_overdue),
                 str(r.reminders), "已督办" if r.escalated else "—"] for i, r in enumerate(shown, start=1)]
        table(doc, ["序号", "任务", "责任单位", "完成时限", "逾期天数", "提醒次数", "督办"], rows,
               [11, 50, 24, 23, 17, 17, 14], left_columns=(1,))
        _more(doc, len(shown), len(data.overdue), "逾期任务")
    else:
        paragraph(doc, "本期无逾期任务。")

    heading(doc, "五、指标监测情况")
    paragraph(doc, words.indicators_paragraph(data))
    if data.indicators:
        rows, fills, keep = [], [], []
        for n, r in enumerate(data.indicators):
            verdict = {True: "达标", False: "未达标", None: "无法判定"}[r.cv_ok]
            rows.append([f"{r.code}. {r.title}", r.stage_name,
                         "—" if r.county_value is None else f"{r.county_value:.2f}",
                         words.value_change(r.county_value_change),
                         "—" if r.threshold is None else f"{r.threshold:g}",
                         "—" if r.cv is None else f"{r.cv:.3f}", words.cv_change(r.cv_change),
                         "—" if r.cv_limit is None else f"≤{r.cv_limit:.2f}", verdict])
            fills.append({8: LIGHT_FILL["红"]} if r.cv_ok is False else {})
            following = data.indicators[n + 1] if n + 1 < len(data.indicators) else None
            keep.append(following is not None and following.code == r.code)  # an indicator's stages together
        indicators_table = table(doc, ["指标", "学段", "数值", "较上次", "标准值", "数值", "较上次", "上限", "结论"], rows,
                       [42, 11, 17, 16, 14, 15, 15, 12, 14], left_columns=(0,), fills=fills, keep=keep,
                       groups=[("指标", 1), ("学段", 1), ("县域均值", 2), ("标准值", 1), ("差异系数", 2),
                               ("上限", 1), ("结论", 1)])
        merge_repeats(indicators_table, 0, first_row=2)
        paragraph(doc, "注：县域均值保留2位小数，差异系数保留3位小数；较上次为与上次评估相比的变化；"
                        "结论指差异系数是否达到标准，判定按未四舍五入的数值。", size=12, pitch=20)
    if "cv" in by_key:
        _picture(doc, by_key["cv"], "图2  校际差异系数与标准上限")

    heading(doc, "六、下周到期任务")
    if data.next_week:
        lead_in(doc, f"{words.cn_day(data.next_week_start)}至{words.cn_day(data.next_week_end)}，"
                      f"共有{len(data.next_week)}项任务到期，请责任单位按时办结：")
        shown = data.next_week[:TABLE_ROW_LIMIT]
        rows = [[str(i), r.title, r.unit, f"{r.due_on.month}月{r.due_on.day}日", r.status, r.light or "—"]
                for i, r in enumerate(shown, start=1)]
        fills = [{5: LIGHT_FILL[r.light]} if r.light in LIGHT_FILL else {} for r in shown]
        table(doc, ["序号", "任务", "责任单位", "完成时限", "状态", "亮灯"], rows, [11, 73, 24, 23, 14, 11],
               left_columns=(1,), fills=fills)
        _more(doc, len(shown), len(data.next_week), "下周到期任务")
    else:
        paragraph(doc, f"{words.cn_day(data.next_week_start)}至{words.cn_day(data.next_week_end)}无到期任务。")

    materials = words.materials_paragraph(data)  # issue 13 §4: 迎检资料缺项
    if materials:
        lead_in(doc, materials)
        shown = data.materials.missing[:TABLE_ROW_LIMIT]
        table(doc, ["序号", "指标", "资料项", "责任单位"],
               [[str(i), r.indicator, f"{r.item_id} {r.title}", "、".join(r.units)] for i, r in enumerate(shown, start=1)],
               [11, 14, 100, 31], left_columns=(2,))
        _more(doc, len(shown), len(data.materials.missing), "必备资料缺项")

    heading(doc, "七、工作要求")
    demands = "请各责任单位对照任务清单和完成时限，倒排工期、压实责任"
    if data.overdue_units:
        demands += f"。{'、'.join(data.overdue_units)}要认真分析逾期原因，逾期任务于下周内办结并提交佐证材料"
    demands += "；已办结的任务请及时在督办系统中提交，由领导小组办公室审核销号。"
    paragraph(doc, demands)

    _signature(doc, data)
    _colophon(doc, data)
    return doc


def write_briefing_docx(data: BriefingData, charts: Sequence[Chart] = (), path=None) -> bytes:
    """The .docx bytes (also written to ``path`` when given)."""
    buffer = io.BytesIO()
    build_document(data, charts).save(buffer)
    content = buffer.getvalue()
    if path is not None:
        from pathlib import Path

        Path(path).write_bytes(content)
    return content
