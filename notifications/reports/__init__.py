"""The 自评报告 and the 申报表 as Word documents, in the briefing's official style (GB/T 9704:
notifications.briefing.document's kit). The figures come from tracker.reports; nothing here
computes them, and a section the office has not written prints 【待填写】."""

from __future__ import annotations

import datetime as dt
import io

from docx.enum.text import WD_ALIGN_PARAGRAPH

from notifications.briefing.document import (TITLE_FONT, TITLE_SIZE, heading,
                                             merge_repeats, official_document, paragraph, subheading, table)
from tracker.reports.application import (CONDITION_HEADERS, COUNTY_HEADERS, FORM_TITLE, RESOURCE_HEADERS,
                                         basic_table, condition_rows, county_rows, cover_lines, resource_rows)
from tracker.reports.data import CV_WORDS, OVERALL_WORDS, ReportData, count, fmt
from tracker.reports.texts import PLACEHOLDER
from tracker.standards.schema import STAGE_NAMES

RED = "FFCDD2"
MARK = "FFF2CC"


def cn_day(day: dt.date | None) -> str:
    return "—" if day is None else f"{day.year}年{day.month}月{day.day}日"


def _text(doc, text: str) -> None:
    """The office's text, a paragraph per line; the placeholder stands out."""
    for line in text.splitlines() or [text]:
        if line.strip():
            p = paragraph(doc, line.strip())
            if line.strip() == PLACEHOLDER:
                p.runs[0].font.bold = True


def _stamp(data: ReportData) -> dt.datetime:
    return data.assessed_at.replace(tzinfo=None, microsecond=0)


def _save(doc) -> bytes:
    buffer = io.BytesIO()
    doc.save(buffer)
    return buffer.getvalue()


def self_evaluation_docx(data: ReportData) -> bytes:
    """自评报告: 基本情况, 主要做法, 指标达成情况, 存在问题与整改计划, 附件 (the data tables)."""
    county = data.campaign.county
    title = f"{county}义务教育优质均衡发展督导评估自评报告"
    doc = official_document(title, county, _stamp(data))
    paragraph(doc, title, font=TITLE_FONT, size=TITLE_SIZE, align=WD_ALIGN_PARAGRAPH.CENTER, indent=False, pitch=36)
    paragraph(doc, "")
    r = data.rounding

    heading(doc, "一、基本情况")
    b = data.basics
    types = "、".join(f"{k}{v}所" for k, v in sorted(b.schools_by_type.items()))
    paragraph(doc, f"评估所用数据共有学校（含教学点、特殊教育学校）{b.schools}所，其中{types}。小学在校生{count(b.students['primary'])}人，"
                   f"初中在校生{count(b.students['junior'])}人。")
    assessed = "；".join(f"{s.name}{s.sections}所（校区）、在校生{count(s.students)}人" for s in data.stages)
    paragraph(doc, f"参与本次评估计算的：{assessed}（数据：{data.submission_label}，{cn_day(data.as_of)}评估）。"
                   + (f"未参与计算的学校{len(data.excluded)}所。" if data.excluded else ""))
    rows = [[STAGE_NAMES[s], count(b.qualified_teachers[s]), count(b.backbone_teachers[s]), count(b.pe_art_teachers[s])]
            for s in ("primary", "junior")]
    table(doc, ["学段", "高于规定学历教师（人）", "县级以上骨干教师（人）", "体育、艺术专任教师（人）"], rows,
          [24, 44, 44, 44])
    _text(doc, data.text("基本情况"))

    heading(doc, "二、主要做法")
    subheading(doc, "（一）组织领导")
    group = "、".join(data.group) if data.group else PLACEHOLDER
    paragraph(doc, f"成立创建工作领导小组：{group}。领导小组下设办公室，明确{data.departments}个责任单位、"
                   f"{data.org_schools}所学校的任务分工。")
    subheading(doc, "（二）工作推进")
    for p in data.phases:
        paragraph(doc, f"{p.name}：{cn_day(p.starts_on)}起，关口{cn_day(p.gate_on)}，{p.status}。")
    t = data.tasks
    paragraph(doc, f"按问题清单和工作方案共建立整改任务{data.tasks_total}项，已销号{t.get('已销号', 0)}项，"
                   f"已提交待审核{t.get('已提交', 0)}项，办理中{t.get('办理中', 0) + t.get('已签收', 0)}项，"
                   f"待签收{t.get('待签收', 0)}项，撤销{t.get('已撤销', 0)}项；"
                   f"首项任务销号于{cn_day(data.first_verified)}，最近一项销号于{cn_day(data.last_verified)}；"
                   f"各单位共提交佐证材料{data.evidence_files}份。")
    subheading(doc, "（三）工作措施与成效")
    _text(doc, data.text("主要做法"))

    heading(doc, "三、指标达成情况")
    source = data.standard_title + ("" if data.standard_document in data.standard_title else f"（{data.standard_document}）")
    paragraph(doc, f"对照{source}，本县自评{OVERALL_WORDS[data.ok]}"
                   f"义务教育优质均衡发展标准。")
    subheading(doc, "（一）资源配置")
    for s in data.stages:
        paragraph(doc, f"{s.name}{s.sections}所（校区）中，{s.sections_ok}所达到每校指标要求。")
    rows, fills, keep = [], [], []
    for n, i in enumerate(data.indicators):
        rows.append([f"{i.code}. {i.title}", i.stage_name, "—" if i.threshold is None else f"{i.threshold:g}",
                     fmt(i.county_value, r["county_value"]), f"{i.sections - i.schools_below}/{i.sections}",
                     fmt(i.cv, r["cv"]), "—" if i.cv_limit is None else f"≤{i.cv_limit:.2f}", CV_WORDS[i.cv_ok]])
        fills.append({7: RED} if i.cv_ok is False else {})
        keep.append(n + 1 < len(data.indicators) and data.indicators[n + 1].code == i.code)
    tbl = table(doc, ["指标", "学段", "标准值", "县域均值", "达标校数", "差异系数", "上限", "结论"], rows,
                [44, 11, 15, 17, 17, 17, 14, 14], left_columns=(0,), fills=fills, keep=keep)
    merge_repeats(tbl, 0)
    paragraph(doc, f"注：县域均值保留{r['county_value']}位小数，差异系数保留{r['cv']}位小数（四舍五入）；"
                   "判定按未四舍五入的数值。", size=12, pitch=20)
    if data.school_checks:
        subheading(doc, "（二）学校办学条件检查")
        rows = [[f"{c['indicator']}. {c['title']}", str(c["schools_checked"]), str(c["schools_failed"]),
                 {"pass": "达标", "fail": "未达标", "unknown": "待核实"}.get(c["status"], c["status"])]
                for c in data.school_checks]
        table(doc, ["检查项目", "检查学校数", "未达标学校数", "结论"], rows, [86, 24, 26, 20], left_columns=(0,))
    subheading(doc, "（三）政府保障程度、教育质量、社会认可度")
    rows = county_rows(data)
    table(doc, COUNTY_HEADERS, rows, [22, 54, 26, 20, 16, 18], left_columns=(1,),
          fills=[{4: RED} if row[4] == "未达标" else {} for row in rows])
    if data.scoring:
        sc = data.scoring
        total = "尚未全部计分" if sc["total"] is None else f"合计{sc['total']:g}分"
        verdict = {True: "合格", False: "不合格", None: "尚不能判定"}[sc["ok"]]
        paragraph(doc, f"计分项目{total}（合格线{sc['pass_total']:g}分），{verdict}"
                       + (f"，等级{sc['grade']}" if sc.get("grade") else "") + "。")
    subheading(doc, "（四）申报条件和否决事项")
    rows = condition_rows(data)
    table(doc, CONDITION_HEADERS, rows, [20, 70, 26, 20, 20], left_columns=(1,),
          fills=[{3: RED} if row[3] in ("不符合", "发生") else {} for row in rows])
    _text(doc, data.text("指标达成情况"))

    heading(doc, "四、存在问题与整改计划")
    paragraph(doc, f"本次评估共发现问题{len(data.shortfalls)}项，"
                   f"其中影响结论的{sum(1 for s in data.shortfalls if s['blocking'])}项，详见附件3问题清单。"
                   f"尚未办结的整改任务{len(data.open_tasks)}项，按完成时限排列如下：")
    if data.open_tasks:
        rows = [[str(n), t.title, t.unit or "—", cn_day(t.due_on), t.status] for n, t in enumerate(data.open_tasks, 1)]
        table(doc, ["序号", "整改任务", "责任单位", "完成时限", "状态"], rows, [12, 78, 30, 24, 16], left_columns=(1,))
    _text(doc, data.text("存在问题"))
    subheading(doc, "自评结论")
    _text(doc, data.text("自评结论"))

    heading(doc, "附件")
    paragraph(doc, "1. 表Ⅱ-2 资源配置基本情况（分学校）；2. 表Ⅲ 县域义务教育校际均衡情况；3. 问题清单。", indent=False)
    _appendix_tables(doc, data)
    return _save(doc)


def _appendix_tables(doc, data: ReportData) -> None:
    r = data.rounding
    stages = data.result["stages"]
    first = next(iter(stages.values()), None)
    codes = list(first["indicators"]) if first else []
    subheading(doc, "附件1  表Ⅱ-2 资源配置基本情况（分学校）")
    rows, fills = [], []
    for stage, body in stages.items():
        for s in body["schools"]:
            rows.append([s["name"], STAGE_NAMES[stage], count(s["students"]),
                         *[fmt(s["values"][c], r["school_value"]) for c in codes], str(len(s["met"])),
                         "达标" if s["ok"] else "不达标"])
            fills.append({3 + j: MARK for j, c in enumerate(codes) if c not in s["met"]})
    width = 156 - 30 - 10 - 14 - 12 - 14
    table(doc, ["学校", "学段", "在校生", *codes, "达标项", "结论"], rows,
          [30, 10, 14, *[width / max(1, len(codes))] * len(codes), 12, 14], left_columns=(0,), fills=fills)
    subheading(doc, "附件2  表Ⅲ 县域义务教育校际均衡情况")
    table(doc, RESOURCE_HEADERS, resource_rows(data), [44, 10, 14, 17, 17, 18, 20, 16], left_columns=(0,))
    subheading(doc, "附件3  问题清单")
    rows = [[str(n), f"{s['indicator']}. {s['title']}" if s.get("title") else s["indicator"],
             STAGE_NAMES.get(s["stage"] or "", ""), s["school"] or "全县", s["text"], "是" if s["blocking"] else "否",
             "、".join(s["departments"])] for n, s in enumerate(data.shortfalls, 1)]
    table(doc, ["序号", "指标", "学段", "学校", "问题及需求", "影响结论", "责任单位"], rows,
          [10, 26, 10, 24, 48, 14, 24], left_columns=(1, 3, 4))


def application_docx(data: ReportData) -> bytes:
    """申报表: 封面, 表Ⅰ 基本情况 (L1–L22), 表Ⅱ 资源配置, 表Ⅲ 县级指标, 表Ⅳ 申报条件和否决事项, 表Ⅴ."""
    doc = official_document(FORM_TITLE, data.campaign.county, _stamp(data))
    paragraph(doc, FORM_TITLE, font=TITLE_FONT, size=TITLE_SIZE, align=WD_ALIGN_PARAGRAPH.CENTER, indent=False, pitch=36)
    paragraph(doc, "")
    table(doc, ["项目", "内容"], [[label, value] for label, value in cover_lines(data)], [40, 116], left_columns=(1,),
          fills=[{1: MARK} if value == PLACEHOLDER else {} for _, value in cover_lines(data)])
    subheading(doc, "表Ⅰ  基本情况")
    cells = basic_table(data)
    table(doc, ["栏号", "类别", "项目", "全县总计", "来源"], [[c.code, c.group, c.header, c.value, c.source] for c in cells],
          [14, 40, 44, 24, 34], left_columns=(1, 2, 4), fills=[{3: MARK} if c.value == PLACEHOLDER else {} for c in cells])
    subheading(doc, "表Ⅱ  资源配置及校际均衡情况")
    tbl = table(doc, RESOURCE_HEADERS, resource_rows(data), [44, 10, 14, 17, 17, 18, 20, 16], left_columns=(0,))
    merge_repeats(tbl, 0)
    subheading(doc, "表Ⅲ  政府保障程度、教育质量、社会认可度")
    table(doc, COUNTY_HEADERS, county_rows(data), [22, 54, 26, 20, 16, 18], left_columns=(1,))
    subheading(doc, "表Ⅳ  申报条件和否决事项")
    table(doc, CONDITION_HEADERS, condition_rows(data), [20, 70, 26, 20, 20], left_columns=(1,))
    subheading(doc, "表Ⅴ  推进义务教育优质均衡发展工作措施和成效")
    _text(doc, data.text("工作措施和成效"))
    paragraph(doc, "")
    paragraph(doc, f"县（市、区）人民政府（盖章）：{PLACEHOLDER}", indent=False)
    paragraph(doc, "年    月    日", align=WD_ALIGN_PARAGRAPH.RIGHT, indent=False)
    return _save(doc)


__all__ = ["application_docx", "self_evaluation_docx"]
