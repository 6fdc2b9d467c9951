"""`junheng demo` steps 7 and 8, what the demo writes into its directory: the weekly briefing
(调度通报) of the current week so far, the 任务分解表, the assessment, and the application
documents (自评报告, 申报表)."""

from __future__ import annotations

import json
from pathlib import Path

from rich.markup import escape

from junheng.cli.demo import DEMO_ACTOR, console


def issue_briefing(code: str, out: Path) -> None:
    """The current week's briefing as of now (partial): stored with its number (a re-run keeps it),
    rendered, written out; not mailed — the scheduler mails last week's briefing on Mondays."""
    from flows.briefing import run_briefing
    from notifications.briefing import RenderedBriefing, write_files
    from notifications.briefing.charts import briefing_charts
    from tracker.briefings.compute import iso_week_of
    from tracker.briefings.models import Briefing
    from tracker.briefings.service import briefing_data
    from tracker.clock import zone
    from tracker.db import session_scope, utcnow

    week = iso_week_of(utcnow().astimezone(zone()).date())
    run = run_briefing(code, week, send=False, pdf=True, actor=DEMO_ACTOR)
    with session_scope() as session:
        briefing = session.get(Briefing, run.briefing_id)
        data, docx, pdf, issues = briefing_data(briefing), briefing.docx, briefing.pdf, briefing.issues
    written = write_files(data, RenderedBriefing(charts=briefing_charts(data), docx=docx, pdf=pdf), out)
    again = "（再次生成，期数不变）" if issues > 1 else ""
    partial = "，本周尚未结束，数字截至现在" if data.partial else ""
    console.print(f"调度通报第 {data.number} 期{again}：{data.period_start.isoformat()} 至 {data.period_end.isoformat()}"
                  f"（{data.iso_week}{partial}）。")
    console.print(f"任务 {data.overall.total} 项，已销号 {data.overall.done} 项，逾期 {data.overall.overdue} 项；"
                  f"{escape(data.overdue_sentence)}")
    for path in (written.docx, written.pdf, written.html):
        if path is not None:
            console.print(f"已写出 {escape(str(path))}")
    if written.pdf is None:
        console.print("[yellow]未生成 PDF：本机未安装 LibreOffice（soffice）。[/yellow]")
    console.print("演示不发送通报邮件；正式运行时，调度器每周一 08:30 生成上周的通报并发给领导小组和各责任单位。")


# ---------------------------------------------------------------------------------------------
# the documents


def write_documents(code: str, assessment_id: int, directory: Path) -> list[Path]:
    from tracker.assessment.conditions import assess_campaign
    from tracker.assessment.models import AssessmentSnapshot
    from tracker.assessment.report import write_official_xlsx
    from tracker.campaigns.breakdown import write_breakdown_docx, write_breakdown_xlsx
    from tracker.db import session_scope
    from tracker.org.service import resolve_campaign
    from tracker.schooldata.models import DataSubmission
    from tracker.schooldata.submissions import records_of
    from tracker.standards import load_standard

    written = []
    with session_scope() as session:
        campaign = resolve_campaign(session, code)
        snapshot = session.get(AssessmentSnapshot, assessment_id)
        for suffix, writer in ((".xlsx", write_breakdown_xlsx), (".docx", write_breakdown_docx)):
            written.append(writer(session, campaign, directory / f"{code}-任务分解表{suffix}"))
        assessment_json = directory / f"{code}-评估结果.json"
        assessment_json.write_text(json.dumps(snapshot.result, ensure_ascii=False, indent=2), encoding="utf-8")
        written.append(assessment_json)
        # the official tables are drawn from the engine's result: assess the stored submission again
        # exactly as the snapshot was made (same records, county inputs and date)
        submission = session.get(DataSubmission, snapshot.submission_id)
        result = assess_campaign(session, campaign, load_standard(snapshot.standard_id),
                                 records_of(session, submission), _as_of(snapshot))
        written.append(write_official_xlsx(result, directory / f"{code}-评估结果.xlsx"))
    written += _write_report_documents(code, assessment_id, directory)
    return [Path(p) for p in written]


def _write_report_documents(code: str, assessment_id: int, directory: Path) -> list[Path]:
    """Issue 13 §1–2: the 自评报告 and the 申报表 of the demo's assessment; the office's texts are
    not written by the demo, so they show 【待填写】 as a real county's first draft would."""
    from notifications.reports import application_docx, self_evaluation_docx
    from tracker.assessment.models import AssessmentSnapshot
    from tracker.db import session_scope
    from tracker.org.service import resolve_campaign
    from tracker.reports.application import write_application_xlsx
    from tracker.reports.data import report_data

    with session_scope() as session:
        data = report_data(session, resolve_campaign(session, code), session.get(AssessmentSnapshot, assessment_id))
    report = directory / f"{code}-自评报告.docx"
    report.write_bytes(self_evaluation_docx(data))
    form = directory / f"{code}-申报表.docx"
    form.write_bytes(application_docx(data))
    return [report, write_application_xlsx(data, directory / f"{code}-申报表.xlsx"), form]


def _as_of(snapshot):
    from tracker.clock import local_date

    return local_date(snapshot.created_at)
