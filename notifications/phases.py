"""The notices a phase's flow sends when the phase opens (issue 16 §1): the 阶段部署通知 to every
unit and school with tasks in the phase (to all of them when it has none yet), and, in 整改, the request to schools to resubmit their data.

Like the briefing's mail (notifications/briefing/mail.py) these are their own messages, not rungs of
the reminder ladder: for each recipient one ``NoticeItem`` (its idempotency key names the phase,
the kind and the recipient) and the ``OutboundMessage`` carrying it are stored together; the normal
delivery sends them with its retries. Queuing again finds the keys taken and queues nothing.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from html import escape

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from notifications.compose import new_message_id
from tracker.clock import local_today
from tracker.db import utcnow
from tracker.notices.models import MessageState, NoticeItem, OutboundMessage
from tracker.notices.queries import taken_idempotency_keys
from tracker.org.models import Campaign, Phase
from tracker.org.queries import departments as campaign_departments
from tracker.org.queries import schools as campaign_schools
from tracker.phases import queries
from tracker.phases.service import kind_name
from tracker.plans.kinds import UnitKind
from tracker.settings import Settings, get_settings
from tracker.tasks.models import Task

DEPLOYMENT = "phase_deployment"  # NoticeItem.rung of a 阶段部署通知
RESUBMISSION = "phase_resubmission"  # NoticeItem.rung of a 整改期重报数据 request
TASKS_LISTED = 30  # open tasks listed in one unit's notice; the rest are counted
WEEKDAYS = "一二三四五六日"


@dataclass
class Recipient:
    key: str  # d<department>:p<person> or s<school>
    name: str
    address: str
    person_id: int | None
    unit: str


@dataclass
class PhaseNoticeReport:
    queued: list[str] = field(default_factory=list)
    already: list[str] = field(default_factory=list)
    unreachable: list[str] = field(default_factory=list)  # units or schools without an address

    def as_dict(self) -> dict:
        return {"queued": len(self.queued), "queued_before": len(self.already), "unreachable": self.unreachable}


def _day(value: dt.date | None) -> str:
    if value is None:
        return "以上级通知为准"
    return f"{value.year}年{value.month}月{value.day}日（星期{WEEKDAYS[value.weekday()]}）"


def _task_line(task: Task) -> str:
    return f"#{task.id} {task.title}（截止 {_day(task.due_on)}，{task.status}）"


def _queue(session: Session, campaign: Campaign, phase: Phase, kind: str, wanted: list[tuple[Recipient, str, str]],
           report: PhaseNoticeReport, settings: Settings, now: dt.datetime) -> None:
    keys = {f"{kind}:{phase.id}:{r.key}": (r, subject, body) for r, subject, body in wanted}
    taken = taken_idempotency_keys(session, list(keys))
    for key, (recipient, subject, body) in keys.items():
        if key in taken:
            report.already.append(recipient.address)
            continue
        html = "".join(f"<p>{escape(line)}</p>" if line else "" for line in body.splitlines())
        try:
            with session.begin_nested():
                message = OutboundMessage(
                    campaign_id=campaign.id, channel="email", recipient_name=recipient.name,
                    recipient_address=recipient.address, subject=subject, body_text=body, body_html=html,
                    message_id_header=new_message_id(settings.mail_from), state=MessageState.queued.value,
                    next_attempt_at=now, created_at=now)
                session.add(message)
                session.flush()
                session.add(NoticeItem(
                    campaign_id=campaign.id, task_id=None, rung=kind, occurrence=phase.id, idempotency_key=key,
                    recipient_person_id=recipient.person_id, recipient_name=recipient.name,
                    recipient_address=recipient.address, payload={"phase_id": phase.id, "unit": recipient.unit},
                    not_before=now, created_at=now, message_id=message.id))
                session.flush()
        except IntegrityError:
            report.already.append(recipient.address)  # queued meanwhile by another run
            continue
        report.queued.append(recipient.address)


def queue_deployment_notices(session: Session, campaign: Campaign, phase: Phase, *,
                             settings: Settings | None = None, now: dt.datetime | None = None) -> PhaseNoticeReport:
    """阶段部署通知: to each unit's contacts and each school's contact with open tasks in the phase —
    what the phase is, its gate date and their open tasks. A phase with no open task yet (a first
    phase activated by its start date before the self-check ran) is announced at once to every unit
    of the plan (the office aside) and every school, saying its tasks will follow: the step is done
    once, so it cannot wait for the tasks. Does not commit."""
    settings, now = settings or get_settings(), now or utcnow()
    report = PhaseNoticeReport()
    by_department: dict[int, list[Task]] = {}
    by_school: dict[int, list[Task]] = {}
    for task in queries.open_tasks_by_unit(session, phase.id):
        if task.department_id is not None:
            by_department.setdefault(task.department_id, []).append(task)
        elif task.responsible_school_id is not None:
            by_school.setdefault(task.responsible_school_id, []).append(task)
    if not by_department and not by_school:
        by_department = {d.id: [] for d in campaign_departments(session, campaign.id, active_only=True)
                         if d.kind != UnitKind.office.value}
        by_school = {school.id: [] for school in campaign_schools(session, campaign.id)}
    departments = {d.id: d for d in queries.departments_of(session, list(by_department))}
    contacts: dict[int, list] = {}
    for person in queries.contacts_of(session, campaign.id, list(by_department)):
        contacts.setdefault(person.department_id, []).append(person)
    wanted: list[tuple[Recipient, str, str]] = []
    subject = f"【阶段部署通知】{campaign.name}进入「{phase.name}」阶段"
    for dept_id, tasks in by_department.items():
        unit = departments[dept_id].name
        people = [p for p in contacts.get(dept_id, []) if (p.email or "").strip()]
        if not people:
            report.unreachable.append(unit)
        for person in people:
            wanted.append((Recipient(f"d{dept_id}:p{person.id}", person.name, person.email.strip(), person.id, unit),
                           subject, _deployment_body(campaign, phase, unit, person.name, tasks)))
    for school in queries.schools_of(session, list(by_school)):
        address = (school.contact_email or "").strip()
        if not address:
            report.unreachable.append(school.name)
            continue
        name = school.contact_name or school.name
        wanted.append((Recipient(f"s{school.id}", name, address, None, school.name), subject,
                       _deployment_body(campaign, phase, school.name, name, by_school[school.id])))
    _queue(session, campaign, phase, DEPLOYMENT, wanted, report, settings, now)
    return report


def _deployment_body(campaign: Campaign, phase: Phase, unit: str, name: str, tasks: list[Task]) -> str:
    lines = [f"{unit}{name}：", "",
             f"{campaign.name}自即日起进入「{phase.name}」阶段（{kind_name(phase)}），"
             f"阶段关口为 {_day(phase.gate_on)}。" + (f"{phase.note}。" if phase.note else ""),
             f"贵单位在本阶段有 {len(tasks)} 项未完成任务，请对照时限抓紧办理，按时提交佐证材料：" if tasks else
             "本阶段的任务将陆续交办，请及时登录系统签收，对照时限抓紧办理，按时提交佐证材料。", ""]
    lines += [f"  {i}. {_task_line(t)}" for i, t in enumerate(tasks[:TASKS_LISTED], start=1)]
    if len(tasks) > TASKS_LISTED:
        lines.append(f"  另有 {len(tasks) - TASKS_LISTED} 项，详见任务清单。")
    lines += ["", f"{campaign.county}创建工作领导小组办公室", f"{local_today().isoformat()}"]
    return "\n".join(lines)


def queue_resubmission_requests(session: Session, campaign: Campaign, phase: Phase, word: str, days: int, *,
                                settings: Settings | None = None, now: dt.datetime | None = None,
                                today: dt.date | None = None) -> PhaseNoticeReport:
    """整改: ask every school with a contact address to resubmit its data sheet at the plan's
    interval until the gate (each resubmission is re-assessed as any import is). Does not commit."""
    settings, now = settings or get_settings(), now or utcnow()
    today = today or local_today()
    dates = []
    day = today + dt.timedelta(days=days)
    while phase.gate_on is not None and day <= phase.gate_on and len(dates) < 24:
        dates.append(day)
        day += dt.timedelta(days=days)
    report = PhaseNoticeReport()
    wanted = []
    subject = f"【重报数据】{campaign.name}「{phase.name}」阶段请{word}重报学校基础数据"
    for school in campaign_schools(session, campaign.id):
        address = (school.contact_email or "").strip()
        if not address:
            report.unreachable.append(school.name)
            continue
        when = "、".join(_day(d) for d in dates) if dates else "阶段关口日期确定后另行通知"
        body = "\n".join([
            f"{school.name}{school.contact_name}：", "",
            f"{campaign.name}进入「{phase.name}」阶段。请{word}按学校基础数据表模板重新报送本校数据"
            "（整改后的最新数据），系统收到后自动重新测算、更新整改任务。",
            f"报送时间：{when}。", "",
            f"{campaign.county}创建工作领导小组办公室"])
        wanted.append((Recipient(f"s{school.id}", school.contact_name or school.name, address, None, school.name),
                       subject, body))
    _queue(session, campaign, phase, RESUBMISSION, wanted, report, settings, now)
    return report
