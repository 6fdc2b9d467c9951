"""From owed notice items to queued messages: one message per recipient per sweep.

First the sweep's owed notices whose window has opened (one ``OwedNotice`` per task and rung) are
expanded into one ``NoticeItem`` per recipient, worked out now (``tracker.reminders.expand``), in
the same transaction as everything below: a composer that dies leaves them owed, and a recipient's
item has one unique key however often its notice is expanded.

``compose_pending(session, now)`` then takes every ``NoticeItem`` that no message carries yet and whose
sending window has opened (``not_before <= now``; urgent items at once — the window itself is the
reminder sweep's decision), groups them by (campaign, recipient address), renders each group and
stores one ``OutboundMessage`` per group with a Message-ID that never changes afterwards, so a
resend is recognisably the same message.

Two composers may run at once (the scheduler and a hand-run ``junheng sweep``). The messages are
inserted together, and each item is claimed with ``UPDATE … SET message_id = :m WHERE id = :i AND
message_id IS NULL`` (one executemany for all); when the row count falls short, another composer
got there first, and each group that lost an item is undone (its message deleted, its claim
released) and left for the next run. On PostgreSQL the read also takes
``FOR UPDATE SKIP LOCKED``, so a second composer skips the rows the first is working on instead
of waiting for them.

Copies (抄送): a notice item marked ``copy`` is its own row with its own recipient (the expansion
writes one per cooperating unit contact), so it is grouped with that recipient's other items and
sent to them in their own message, under 「抄送您知悉」. We do not put cooperating units in a Cc
header of the lead unit's message: each address then has its own delivery state, retries and
dead letter, and a bad cooperating address cannot hold back the lead unit's notice.

Recipient addresses: an e-mail address, or ``wecom:NAME`` / ``dingtalk:NAME`` for a group robot
configured under NAME in ``JUNHENG_WEBHOOKS`` (robot messages are rendered as markdown; the mobile
numbers of the items' ``mention`` become the message's ``mentions``, @-mentioned by the robot).

Payload keys read from a notice item (all optional):
    light        绿 / 黄 / 红 (or green / yellow / red) — the task's light when the item was owed
    ack_until    a signed 签收 link is owed, valid until then: made here (tracker.reminders.ack);
                 ``ack_url``, a link made before, is used as it is
    reason       why a submission was returned (退回通知)
    days_overdue, days_left  the working days the sweep counted; used when the item is composed on
                 the day it was owed (an item held overnight by the sending window is recounted
                 here, so the message says how things stand when it goes out)
    mention      (robot items) mobile numbers of the people it is for, @-mentioned in the group
    failed       (dead letters) the undelivered message: message_id, recipient_name,
                 recipient_address, subject, attempts, last_error, created_at, tasks [{id, title}]
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict
from collections.abc import Callable
from email.utils import parseaddr

from sqlmodel import Session

from tracker.calendar.working_days import local_date
from tracker.org.models import Campaign, Department, Person, School
from tracker.notices.models import MessageState, NoticeItem, OutboundMessage, Rung
from tracker.notices.queries import claim_items, item_holders, lock_pending_items, release_items
from tracker.org.queries import campaigns_by_id, departments_by_id, people_by_id, schools_by_id
from tracker.reminders.ack import notice_ack_url
from tracker.reminders.expand import expand_owed
from tracker.settings import Settings, get_settings
from tracker.tasks.lifecycle import CLOCK_RUNNING
from tracker.tasks.models import Task, TaskStatus
from tracker.tasks.queries import cooperator_names, tasks_by_id
from tracker.workdays import working_days_between

from notifications.render import (
    ItemView,
    Part,
    RenderedMessage,
    light_of,
    render_email,
    render_markdown,
    sort_items,
    wire_size,
)

ROBOT_CHANNELS = ("wecom", "dingtalk")


def channel_of(address: str) -> str:
    """``email``, or the robot kind of a ``wecom:NAME`` / ``dingtalk:NAME`` address."""
    prefix, sep, _name = address.partition(":")
    return prefix if sep and prefix in ROBOT_CHANNELS else "email"


def new_message_id(mail_from: str) -> str:
    """``<junheng.{uuid}@{domain of the sender}>`` — made once, kept across every resend."""
    domain = parseaddr(mail_from)[1].rpartition("@")[2] or "localhost"
    return f"<junheng.{uuid.uuid4().hex}@{domain}>"


class _Facts:
    """Tasks, units, cooperators and 分管领导 of a batch of items, loaded once (not per item)."""

    def __init__(self, session: Session, items: list[NoticeItem]):
        task_ids = {i.task_id for i in items if i.task_id is not None}
        self.tasks: dict[int, Task] = {}
        self.departments: dict[int, Department] = {}
        self.schools: dict[int, School] = {}
        self.cooperators: dict[int, list[str]] = defaultdict(list)
        self.people: dict[int, str] = {}
        # the recipients, for the link to their task list (only read when a message is split)
        self._session = session
        self._recipient_ids = {i.recipient_person_id for i in items if i.recipient_person_id is not None}
        self._recipients: dict[int, Person] | None = None
        self.campaigns: dict[int, Campaign] = campaigns_by_id(session, {i.campaign_id for i in items})
        if task_ids:
            self.tasks = tasks_by_id(session, task_ids)
            self.cooperators.update(cooperator_names(session, task_ids))
        self.departments = departments_by_id(
            session, {t.department_id for t in self.tasks.values() if t.department_id is not None})
        self.schools = schools_by_id(
            session, {t.responsible_school_id for t in self.tasks.values() if t.responsible_school_id is not None})
        self.people = {i: p.name for i, p in people_by_id(
            session, {d.supervisor_id for d in self.departments.values() if d.supervisor_id is not None}).items()}

    @property
    def recipients(self) -> dict[int, Person]:
        if self._recipients is None:
            self._recipients = people_by_id(self._session, self._recipient_ids)
        return self._recipients

    def list_url(self, items: list[NoticeItem], base_url: str) -> str:
        """The recipient's task list on the web: their unit's tasks (a department's contact, a
        school's person), else all tasks."""
        base = base_url.rstrip("/")
        person = self.recipients.get(next((i.recipient_person_id for i in items if i.recipient_person_id), None))
        if person is not None and person.department_id is not None:
            return f"{base}/tasks?department={person.department_id}"
        if person is not None and person.school_id is not None:
            return f"{base}/tasks?school={person.school_id}"
        return f"{base}/tasks"

    def unit_of(self, task: Task) -> tuple[str, str]:
        """(responsible unit's name, its 分管领导's name)"""
        if task.department_id is not None and task.department_id in self.departments:
            dept = self.departments[task.department_id]
            return dept.name, self.people.get(dept.supervisor_id, "") if dept.supervisor_id else ""
        if task.responsible_school_id is not None and task.responsible_school_id in self.schools:
            return self.schools[task.responsible_school_id].name, ""
        return "未指定单位", ""

    def view(self, item: NoticeItem, today: dt.date, base_url: str) -> ItemView:
        payload = item.payload or {}
        view = ItemView(rung=item.rung, copy=item.in_copy, urgent=item.urgent, occurrence=item.occurrence,
                        task_id=item.task_id, light=light_of(payload.get("light")),
                        ack_url=payload.get("ack_url") or notice_ack_url(item, base_url), reason=str(payload.get("reason") or ""),
                        changes=str(payload.get("changes") or ""))
        if item.rung == Rung.dead_letter:
            failed = dict(payload.get("failed") or {})
            for key in ("message_id", "recipient_name", "recipient_address", "subject", "last_error", "created_at",
                        "cause"):
                failed.setdefault(key, "")
            failed.setdefault("attempts", 0)
            failed.setdefault("tasks", [])
            view.failed = failed
        if item.rung == Rung.materials:
            return materials_view(view, payload, base_url)
        if item.rung == Rung.programme:
            return programme_view(view, payload, base_url)
        task = self.tasks.get(item.task_id) if item.task_id is not None else None
        if task is None:
            return view
        view.title, view.measures = task.title, task.measures
        view.unit, view.supervisor = self.unit_of(task)
        view.cooperators = list(self.cooperators.get(task.id, []))
        view.due_on = task.due_on
        if task.planned_due_on is not None:
            view.planned_due_on = task.planned_due_on
            view.redated_working_days = working_days_between(local_date(task.created_at), task.due_on)
        view.task_url = f"{base_url.rstrip('/')}/tasks/{task.id}"
        clock_running = TaskStatus(task.status) in CLOCK_RUNNING
        view.past_due = clock_running and today > task.due_on
        view.days_overdue = working_days_between(task.due_on, today) if view.past_due else 0
        view.days_left = working_days_between(today, task.due_on) if today <= task.due_on else None
        if local_date(item.created_at) == today:
            # the sweep counted on the campaign's calendar the same day: say what it said
            if payload.get("days_overdue") is not None:
                view.days_overdue = int(payload["days_overdue"])
                view.past_due = view.past_due or view.days_overdue > 0
            if payload.get("days_left") is not None:
                view.days_left = int(payload["days_left"])
        return view


def materials_view(view: ItemView, payload: dict, base_url: str) -> ItemView:
    """迎检资料缺项提醒 (issue 13 §4): the review, its date, and the unit's missing required items."""
    items = list(payload.get("items") or [])
    held_on = payload.get("held_on")
    view.title = f"迎接{payload.get('review') or '评估'}，必备资料尚缺 {len(items)} 项"
    view.unit = str(payload.get("unit") or "")
    view.measures = "\n".join(f"指标 {i.get('indicator')} · {i.get('id')} {i.get('title')}" for i in items)
    view.due_on = dt.date.fromisoformat(held_on) if held_on else None
    view.days_left = int(payload["days_left"]) if payload.get("days_left") is not None else None
    view.task_url = f"{base_url.rstrip('/')}/materials"
    return view


def programme_view(view: ItemView, payload: dict, base_url: str) -> ItemView:
    """示范校项目通知 (issue 15 §1): what happened to the school in the programme, and its page."""
    view.title = str(payload.get("title") or "")
    view.unit = str(payload.get("school") or "")
    view.measures = str(payload.get("text") or "")
    view.task_url = f"{base_url.rstrip('/')}/programme"
    return view


def split_email(views: list[ItemView], items: list[NoticeItem], *, recipient_name: str, campaign_name: str,
                settings: Settings, list_url: Callable[[], str]) -> list[tuple[RenderedMessage, list[NoticeItem]]]:
    """One recipient's items as one e-mail, or, past ``JUNHENG_MAIL_MAX_ITEMS_PER_MESSAGE`` items or
    ``JUNHENG_MAIL_MAX_MESSAGE_BYTES`` (estimated as sent), as several: the most pressing first, each
    opening with a summary of the whole and the link to the recipient's full list, its subject the
    whole's with 「（第 2/5 封）」. A mail server refuses (552) what is over its limit, and the refusal
    is final: it is better not to get there."""
    whole = render_email(views, recipient_name=recipient_name, campaign_name=campaign_name,
                         base_url=settings.base_url)
    cap_items = max(settings.mail_max_items_per_message, 1)
    cap_bytes = settings.mail_max_message_bytes
    if len(views) <= cap_items and wire_size(whole) <= cap_bytes:
        return [(whole, items)]
    order = {id(view): n for n, view in enumerate(sort_items(views))}
    pairs = sorted(zip(views, items), key=lambda pair: order[id(pair[0])])
    overdue = sum(1 for view in views if view.is_overdue)
    url = list_url()
    size = min(cap_items, len(pairs))
    while True:
        chunks = [pairs[start:start + size] for start in range(0, len(pairs), size)]
        out = []
        for index, chunk in enumerate(chunks, start=1):
            first = (index - 1) * size + 1
            part = Part(index=index, count=len(chunks), first=first, last=first + len(chunk) - 1, total=len(pairs),
                        overdue=overdue, list_url=url)
            rendered = render_email([view for view, _item in chunk], recipient_name=recipient_name,
                                    campaign_name=campaign_name, base_url=settings.base_url, part=part,
                                    subject=whole.subject)
            if wire_size(rendered) > cap_bytes and size > 1:
                break  # too big even so: smaller parts, in proportion
            out.append((rendered, [item for _view, item in chunk]))
        else:
            return out
        size = max(1, min(size - 1, size * cap_bytes * 9 // (10 * wire_size(rendered))))


def mentions_of(items: list[NoticeItem]) -> list[str]:
    """The mobile numbers a robot's message @-mentions: every item's ``mention``, each once."""
    found = (m for item in items for m in ((item.payload or {}).get("mention") or []))
    return list(dict.fromkeys(str(m).strip() for m in found if str(m).strip().isdigit()))


def _recipient_name(items: list[NoticeItem]) -> str:
    return next((i.recipient_name for i in items if i.recipient_name), "")


def compose_pending(session: Session, now: dt.datetime, *, settings: Settings | None = None) -> list[OutboundMessage]:
    """Group the owed items whose time has come into queued messages (one per recipient).

    Does not commit: run it inside ``session_scope`` (or commit yourself) so messages and the
    items' claims are stored together or not at all.
    """
    settings = settings or get_settings()
    expand_owed(session, now)  # the sweep's notices whose window has opened: an item per recipient
    items = lock_pending_items(session, now)
    if not items:
        return []
    groups: dict[tuple[int, str], list[NoticeItem]] = defaultdict(list)
    for item in items:
        groups[(item.campaign_id, item.recipient_address.strip())].append(item)
    facts = _Facts(session, items)
    today = local_date(now)
    composed: list[tuple[OutboundMessage, list[NoticeItem]]] = []
    for (campaign_id, address), group in groups.items():
        campaign = facts.campaigns.get(campaign_id)
        campaign_name = campaign.name if campaign else ""
        views = [facts.view(item, today, settings.base_url) for item in group]
        channel = channel_of(address)
        if channel == "email":
            parts = split_email(views, group, recipient_name=_recipient_name(group), campaign_name=campaign_name,
                                settings=settings,
                                list_url=lambda group=group: facts.list_url(group, settings.base_url))
            mentions: list[str] = []
        else:
            mentions = mentions_of(group)
            parts = [(render_markdown(views, flavor=channel, campaign_name=campaign_name,
                                      base_url=settings.base_url, mentions=mentions), group)]
        composed.extend((OutboundMessage(
            campaign_id=campaign_id, channel=channel, recipient_name=_recipient_name(group),
            recipient_address=address, mentions=",".join(mentions),
            subject=rendered.subject, body_text=rendered.body_text,
            body_html=rendered.body_html, message_id_header=new_message_id(settings.mail_from),
            state=MessageState.queued.value, next_attempt_at=now), part_items) for rendered, part_items in parts)
    # all messages in one flush (one multi-row INSERT), all claims in one executemany
    session.add_all([message for message, _group in composed])
    session.flush()
    claims = [{"claim_item": item.id, "claim_message": message.id} for message, group in composed for item in group]
    claimed = claim_items(session, claims)
    messages = [message for message, _group in composed]
    if claimed != len(claims):
        # another composer took some of these items meanwhile: undo the groups it touched, leave
        # their items for later
        holder = item_holders(session, [claim["claim_item"] for claim in claims])
        messages = []
        for message, group in composed:
            if all(holder.get(item.id) == message.id for item in group):
                messages.append(message)
                continue
            release_items(session, message.id)
            session.delete(message)
        session.flush()
    for item in items:
        session.expire(item)
    return messages

