"""The 市级调度通报 as a Word document, in the county briefing's manner (GB/T 9704 page, fonts,
版头, tables, page numbers: ``notifications.briefing.document``): the region's counties ranked,
those behind named, and the rule of the ranking."""

from __future__ import annotations

import datetime as dt
import io

from docx.enum.text import WD_ALIGN_PARAGRAPH

from notifications.briefing.document import (
    BODY_FONT, RED, TITLE_FONT, heading, official_document, paragraph, set_run_font, table,
)
from notifications.briefing.text import cn_date
from tracker.briefings.region import RegionBriefingData
from tracker.regions.rollup import LIGHT_NAMES

FILLS = {"green": "C8E6C9", "yellow": "FFF59D", "red": "FFCDD2"}
RANK_RULE = ("排名规则：先按灯色（绿灯、黄灯、红灯），再按任务完成率（高者在前）、逾期任务数（少者在前）、"
             "按时完成率（高者在前）。红灯：关口已过仍有任务未办结，或逾期任务超过 10%；黄灯：有逾期任务、"
             "差异系数超过限值，或距关口 10 个工作日内完成率不足 80%。")


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{100 * value:.0f}%"


def build_region_document(data: RegionBriefingData):
    office = f"{data.region_name}教育督导室"
    stamp = dt.datetime.combine(data.issued_on, dt.time(8, 0), tzinfo=dt.timezone.utc)
    doc = official_document(f"{data.region_name}义务教育优质均衡创建调度通报（{data.iso_week}）", office, stamp)
    paragraph(doc, "", pitch=None)
    paragraph(doc, f"{data.region_name}创建工作调度通报", font=TITLE_FONT, size=30, align=WD_ALIGN_PARAGRAPH.CENTER,
              indent=False, colour=RED, pitch=None)
    paragraph(doc, f"{office}　　{cn_date(data.issued_on)}", align=WD_ALIGN_PARAGRAPH.CENTER, indent=False)
    paragraph(doc, "", pitch=None)
    n = len(data.counties)
    red = sum(1 for c in data.counties if c["light"] == "red")
    yellow = sum(1 for c in data.counties if c["light"] == "yellow")
    paragraph(doc, f"现将{cn_date(data.period_start)}至{cn_date(data.period_end)}全{data.level_name}{n}个县"
                   f"（市、区）义务教育优质均衡发展创建工作进展通报如下。")
    heading(doc, "一、总体情况")
    done = sum(c["tasks"]["done"] for c in data.counties)
    total = sum(c["tasks"]["total"] - c["tasks"]["withdrawn"] for c in data.counties)
    week = sum(c.get("verified_this_week", 0) for c in data.counties)
    paragraph(doc, f"各县共有任务 {total} 项，已销号 {done} 项（{_pct(done / total if total else None)}），"
                   f"本周销号 {week} 项。绿灯 {n - red - yellow} 个县，黄灯 {yellow} 个，红灯 {red} 个。")
    heading(doc, "二、各县排名")
    rows, fills = [], []
    for c in data.counties:
        t = c["tasks"]
        days = "—" if c["days_to_gate"] is None else (str(c["days_to_gate"]) if c["days_to_gate"] >= 0
                                                       else f"已过{-c['days_to_gate']}")
        rows.append([str(c["rank"]), c["county"], c["phase"] or "已通过", days, f"{t['done']}/{t['total'] - t['withdrawn']}",
                     _pct(c["on_time_rate"]), str(t["overdue"]), str(c["escalations"]),
                     str(c.get("verified_this_week", 0)), LIGHT_NAMES[c["light"]]])
        fills.append({9: FILLS[c["light"]]})
    table(doc, ["名次", "县", "阶段", "距关口", "销号/任务", "按时率", "逾期", "督办", "本周销号", "灯色"], rows,
          [10, 22, 26, 14, 18, 14, 12, 12, 14, 14], left_columns=(1, 2), fills=fills)
    paragraph(doc, RANK_RULE, size=12, indent=False)
    heading(doc, "三、进度落后的县")
    if data.behind:
        reasons = {c["county"]: "；".join(c["reasons"]) for c in data.counties}
        p = paragraph(doc, "")
        set_run_font(p.add_run("、".join(data.behind)), BODY_FONT, 16, bold=True)
        set_run_font(p.add_run("进度落后，请抓紧整改，下周调度时报告进展。"), BODY_FONT, 16)
        for county in data.behind:
            paragraph(doc, f"{county}：{reasons.get(county) or '排名靠后'}。")
    else:
        paragraph(doc, "本周没有进度落后的县。")
    paragraph(doc, "")
    paragraph(doc, office, align=WD_ALIGN_PARAGRAPH.RIGHT, indent=False)
    paragraph(doc, cn_date(data.issued_on), align=WD_ALIGN_PARAGRAPH.RIGHT, indent=False)
    return doc


def write_region_briefing_docx(data: RegionBriefingData) -> bytes:
    buffer = io.BytesIO()
    build_region_document(data).save(buffer)
    return buffer.getvalue()
