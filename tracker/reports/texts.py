"""The office's texts of the 自评报告: one per section, kept in the database, merged at generation.
A section without a text prints ``PLACEHOLDER``; Junheng writes no prose of its own."""

from __future__ import annotations

from sqlmodel import Session

from tracker.db import utcnow
from tracker.errors import ErrorKind, JunhengError
from tracker.events.service import record_event
from tracker.org.models import Campaign
from tracker.reports.models import ReportText
from tracker.reports.queries import report_text, report_texts

PLACEHOLDER = "【待填写】"
TEXT_LIMIT = 20_000  # characters: several pages of 三号 text

# key → the section's Chinese name (what the page and the CLI show). The order is the report's.
SECTIONS: dict[str, str] = {
    "基本情况": "一、基本情况（县情概述）",
    "主要做法": "二、主要做法（工作措施与成效）",
    "指标达成情况": "三、指标达成情况（说明）",
    "存在问题": "四、存在问题与整改计划（说明）",
    "自评结论": "自评结论",
    "工作措施和成效": "申报表：推进优质均衡发展的工作措施和成效",
}


class ReportTextError(JunhengError, ValueError, kind=ErrorKind.invalid):
    """A text the office gave cannot be kept (unknown section, empty, too long)."""


def check_section(section: str) -> str:
    if section not in SECTIONS:
        raise ReportTextError(f"没有「{section}」这一部分；可填写的部分：{'、'.join(SECTIONS)}")
    return section


def set_report_text(session: Session, campaign: Campaign, section: str, text: str, actor: str) -> ReportText:
    """Keep the office's text of one section (replacing the previous one)."""
    check_section(section)
    text = text.replace("\r\n", "\n").strip()
    if not text:
        raise ReportTextError(f"「{section}」的文字不能为空；要恢复【待填写】请用清除")
    if len(text) > TEXT_LIMIT:
        raise ReportTextError(f"「{section}」的文字过长（{len(text)} 字，最多 {TEXT_LIMIT} 字）")
    row = report_text(session, campaign.id, section)
    if row is None:
        row = ReportText(campaign_id=campaign.id, section=section, text=text, updated_by=actor)
    else:
        row.text, row.updated_by, row.updated_at = text, actor, utcnow()
    session.add(row)
    session.flush()
    record_event(session, type="report.text_set", actor=actor, campaign_id=campaign.id,
                 payload={"section": section, "chars": len(text)})
    return row


def clear_report_text(session: Session, campaign: Campaign, section: str, actor: str) -> bool:
    """Remove a section's text (the report shows 【待填写】 again). False when there was none."""
    check_section(section)
    row = report_text(session, campaign.id, section)
    if row is None:
        return False
    session.delete(row)
    session.flush()
    record_event(session, type="report.text_cleared", actor=actor, campaign_id=campaign.id,
                 payload={"section": section})
    return True


def texts_of(session: Session, campaign_id: int) -> dict[str, str]:
    """Every section's text, the placeholder where the office wrote none."""
    found = report_texts(session, campaign_id)
    return {key: found[key].text if key in found else PLACEHOLDER for key in SECTIONS}
