"""The briefing by e-mail: an HTML message (charts inline, the Word file attached) to the leading
group, the office and every department's contacts, queued in the delivery log.

The briefing does not go through the reminder composer (``notifications.compose``), which groups a
sweep's notices per recipient: it is its own message. For each recipient one ``NoticeItem`` (kind
``briefing``, idempotency key ``briefing:<campaign>:<week>:<recipient>``) and the
``OutboundMessage`` carrying it are stored together, the item already claimed by the message; the
normal delivery (``notifications.delivery.deliver_due``) then sends the message, with retries and
the dead-letter path like any other. Queuing a week twice — a reissue, a second scheduler, the CLI
after the scheduler — finds the key taken and queues nothing more for that recipient.

Charts are ``MessageAttachment`` rows with a Content-ID (``cid:`` in the HTML); their bytes are
stored once (``AttachmentContent``, by sha256) however many recipients get them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from notifications.briefing import text as words
from notifications.briefing.charts import Chart
from notifications.compose import new_message_id
from tracker.briefings.compute import BriefingData, UnitRow
from tracker.briefings.models import Briefing
from tracker.briefings.queries import briefing_people
from tracker.org.models import Campaign
from tracker.db import utcnow
from tracker.notices.models import MessageAttachment, MessageState, NoticeItem, OutboundMessage
from tracker.notices.queries import store_attachment_content, taken_idempotency_keys
from tracker.settings import Settings, get_settings

TEMPLATES = Path(__file__).resolve().parents[1] / "templates" / "briefing"
NOTICE_KIND = "briefing"  # NoticeItem.rung of a briefing (not a rung of the reminder ladder)
DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
LIST_LIMIT = 30  # rows of the overdue and next-week lists in the e-mail
LIGHT_BACKGROUND = {"绿": "#c8e6c9", "黄": "#fff59d", "红": "#ffcdd2"}


@lru_cache(maxsize=1)
def _environment() -> Environment:
    env = Environment(loader=FileSystemLoader(str(TEMPLATES)), autoescape=select_autoescape(["html"]),
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)
    env.globals.update(
        pct=lambda rate: words.percent(rate, 0),
        num=lambda value, digits: "—" if value is None else f"{value:.{digits}f}",
        light_bg=lambda light: LIGHT_BACKGROUND.get(light or "", "transparent"),
    )
    return env


@dataclass
class BriefingEmail:
    subject: str
    body_text: str
    body_html: str


@dataclass(frozen=True)
class Recipient:
    person_id: int
    name: str
    address: str
    department_id: int | None


@dataclass
class MailQueueReport:
    queued: list[str] = field(default_factory=list)  # addresses a message was queued for now
    already: list[str] = field(default_factory=list)  # addresses that had this week's briefing queued before
    unreachable: list[str] = field(default_factory=list)  # people without an e-mail address (names)


def content_id(briefing_id: int | None, chart: Chart, mail_from: str) -> str:
    domain = mail_from.rpartition("@")[2].strip(" >") or "localhost"
    return f"briefing-{briefing_id or 0}-{chart.key}@{domain}"


def _own_unit(data: BriefingData, department_id: int | None) -> str:
    if department_id is None:
        return ""
    row: UnitRow | None = next((u for u in data.departments() if u.unit_id == department_id), None)
    if row is None or not row.figures.assigned:
        return ""
    f = row.figures
    text = (f"{row.short_name}本期应办任务{f.assigned}项，已销号{f.done}项，完成率{words.percent(f.completion_rate)}，"
            f"按时完成率{words.percent(f.on_time_rate)}，排名第{row.rank}位，亮{row.light or '—'}灯")
    text += f"；有逾期任务{f.overdue}项，请抓紧办理。" if f.overdue else "。"
    return text


def _indicator_line(r) -> str:
    text = (f"{r.code}. {r.title}（{r.stage_name}）：县域均值 {'—' if r.county_value is None else f'{r.county_value:.2f}'}，"
            f"差异系数 {'—' if r.cv is None else f'{r.cv:.3f}'}")
    if r.cv_limit is not None:
        text += f"（上限 {r.cv_limit:.2f}{'，未达标' if r.cv_ok is False else ''}）"
    changes = []
    if r.county_value_change is not None:
        changes.append(f"县域均值 {words.value_change(r.county_value_change)}")
    if r.cv_change is not None:
        changes.append(f"差异系数 {words.cv_change(r.cv_change)}")
    if changes:
        text += f"；较上次评估：{'，'.join(changes)}"
    return text


def render_briefing_email(data: BriefingData, *, recipient_name: str = "", department_id: int | None = None,
                          chart_ids: dict[str, str] | None = None, attached: str = "") -> BriefingEmail:
    """The subject, plain text and HTML of the briefing e-mail (``chart_ids``: chart key → Content-ID)."""
    unit_tables = []
    working = [u for u in data.departments() if u.figures.assigned]
    idle = [u.short_name for u in data.departments() if not u.figures.assigned]
    if working:
        unit_tables.append({"heading": "（一）责任单位", "first": "责任单位", "rows": working})
    schools = [u for u in data.schools() if u.figures.assigned]
    if schools:
        unit_tables.append({"heading": "（二）学校", "first": "学校", "rows": schools})
    context = {
        "data": data, "subject": words.subject(data), "title": words.title(data), "number_text": words.number_text(data),
        "issued": words.cn_date(data.issued_on or data.as_of_date), "period": words.period_text(data),
        "recipient_name": recipient_name, "opening": words.opening(data), "own_unit": _own_unit(data, department_id),
        "overall": words.overall_paragraph(data), "phase": words.phase_paragraph(data),
        "week": words.week_paragraph(data), "indicators": words.indicators_paragraph(data),
        "materials": words.materials_paragraph(data), "material_lines": words.material_lines(data)[:LIST_LIMIT],
        "unit_tables": unit_tables, "overdue": data.overdue[:LIST_LIMIT], "next_week": data.next_week[:LIST_LIMIT],
        "next_range": f"{words.cn_day(data.next_week_start)}至{words.cn_day(data.next_week_end)}",
        "charts": chart_ids or {}, "attached": attached, "no_chart": words.no_completion_chart(data) or "",
        "rank_rule": words.rank_rule(data),
        "idle": f"{'、'.join(idle)}等{len(idle)}个单位本期暂无牵头任务。" if idle else "",
        "indicator_lines": [_indicator_line(r) for r in data.indicators],
        "overdue_lines": [f"{n}. {r.title}（{r.unit}，{words.cn_day(r.due_on)}到期，逾期{words.days_overdue_text(r.days_overdue)}，"
                          f"已提醒{r.reminders}次{'，已督办' if r.escalated else ''}）"
                          for n, r in enumerate(data.overdue[:LIST_LIMIT], start=1)],
        "change": words.cv_change, "value_change": words.value_change, "days_cell": words.days_overdue_cell,
        "as_of": f"{words.cn_date(data.as_of_date)}" + ("" if data.partial else "24时"),
    }
    env = _environment()
    return BriefingEmail(subject=context["subject"], body_text=env.get_template("email.txt").render(context),
                         body_html=env.get_template("email.html").render(context))


def briefing_recipients(session: Session, campaign: Campaign) -> tuple[list[Recipient], list[str]]:
    """The leading group, the office and every active department's contacts (each address once),
    and the names of those among them without an e-mail address."""
    departments, people = briefing_people(session, campaign.id)
    chosen: dict[str, Recipient] = {}
    unreachable: list[str] = []
    for person in people:
        dept = departments.get(person.department_id) if person.department_id is not None else None
        wanted = person.group_role is not None or person.is_office or (
            person.is_contact and dept is not None and dept.active)
        if not wanted:
            continue
        address = (person.email or "").strip()
        if not address:
            unreachable.append(person.name)
            continue
        chosen.setdefault(address.lower(), Recipient(person.id, person.name, address, person.department_id))
    return list(chosen.values()), unreachable


def idempotency_key(briefing: Briefing, recipient: Recipient) -> str:
    return f"{NOTICE_KIND}:{briefing.campaign_id}:{briefing.iso_week}:p{recipient.person_id}"


def queue_briefing_mail(session: Session, briefing: Briefing, data: BriefingData, charts: list[Chart],
                        docx: bytes | None = None, pdf: bytes | None = None, *, settings: Settings | None = None,
                        now: dt.datetime | None = None) -> MailQueueReport:
    """Queue the briefing for every recipient who has not had this week's yet. Does not commit."""
    settings = settings or get_settings()
    now = now or utcnow()
    campaign = session.get(Campaign, briefing.campaign_id)
    recipients, unreachable = briefing_recipients(session, campaign)
    report = MailQueueReport(unreachable=unreachable)
    keys = {idempotency_key(briefing, r): r for r in recipients}
    taken = taken_idempotency_keys(session, list(keys))
    report.already = [r.address for key, r in keys.items() if key in taken]
    todo = [r for key, r in keys.items() if key not in taken]
    if not todo:
        return report

    stem = f"{data.campaign_code}-调度通报-第{data.number}期"
    files: list[tuple[str, str, bytes, str | None]] = []  # filename, type, bytes, content id
    chart_ids = {}
    for chart in charts:
        cid = content_id(briefing.id, chart, settings.mail_from)
        chart_ids[chart.key] = cid
        files.append((chart.filename, "image/png", chart.png, cid))
    if docx is not None:
        files.append((f"{stem}.docx", DOCX_TYPE, docx, None))
    if pdf is not None:
        files.append((f"{stem}.pdf", "application/pdf", pdf, None))
    digests = [store_attachment_content(session, content) for _name, _type, content, _cid in files]
    attached = "、".join(name for name, _type, _content, cid in files if cid is None)

    for recipient in todo:
        mail = render_briefing_email(data, recipient_name=recipient.name, department_id=recipient.department_id,
                                     chart_ids=chart_ids, attached=attached)
        try:
            with session.begin_nested():
                message = OutboundMessage(
                    campaign_id=briefing.campaign_id, channel="email", recipient_name=recipient.name,
                    recipient_address=recipient.address, subject=mail.subject, body_text=mail.body_text,
                    body_html=mail.body_html, message_id_header=new_message_id(settings.mail_from),
                    state=MessageState.queued.value, next_attempt_at=now, created_at=now)
                session.add(message)
                session.flush()
                session.add(NoticeItem(
                    campaign_id=briefing.campaign_id, task_id=None, rung=NOTICE_KIND, occurrence=briefing.number,
                    idempotency_key=idempotency_key(briefing, recipient), recipient_person_id=recipient.person_id,
                    recipient_name=recipient.name, recipient_address=recipient.address,
                    payload={"briefing_id": briefing.id, "number": briefing.number, "week": briefing.iso_week},
                    not_before=now, created_at=now, message_id=message.id))
                for position, ((name, type_, _content, cid), digest) in enumerate(zip(files, digests, strict=True)):
                    session.add(MessageAttachment(message_id=message.id, position=position, filename=name,
                                                  content_type=type_, content_id=cid, sha256=digest))
                session.flush()
        except IntegrityError:
            report.already.append(recipient.address)  # queued meanwhile by another process
            continue
        report.queued.append(recipient.address)
    return report

