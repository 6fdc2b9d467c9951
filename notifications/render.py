"""Turning notice items into the words a department reads: Jinja2 templates per rung and channel.

A message is one recipient's share of one sweep: several ``ItemView`` (one per notice item) in an
envelope. Each rung of the ladder has its own template in each format — ``html/<rung>.html``,
``text/<rung>.txt`` and ``markdown/<rung>.md`` (企业微信 and 钉钉 group robots) — and the envelope
(``*/message.*``) includes them in turn. HTML is autoescaped; task titles come from plans and data
sheets, so they are text, never markup.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from tracker import clock
from tracker.notices.models import Rung

TEMPLATES = Path(__file__).parent / "templates"

RUNG_LABELS = {
    Rung.assigned.value: "任务交办单",
    Rung.ack_resend.value: "签收提醒",
    Rung.due_soon.value: "临期提醒",
    Rung.due_today.value: "到期提醒",
    Rung.chase.value: "催办通知",
    Rung.escalation.value: "督办单",
    Rung.returned.value: "退回通知",
    Rung.extension.value: "延期申请审批结果",
    Rung.coop_chase.value: "配合事项催办",
    Rung.changed.value: "任务变更通知",
    Rung.dead_letter.value: "投递失败通知",
    Rung.materials.value: "迎检资料缺项提醒",
    Rung.programme.value: "示范校项目通知",
}

# most pressing first within a message
RUNG_ORDER = [Rung.dead_letter, Rung.escalation, Rung.chase, Rung.due_today, Rung.due_soon, Rung.coop_chase, Rung.returned, Rung.changed, Rung.extension,
              Rung.ack_resend, Rung.assigned, Rung.materials, Rung.programme]

LIGHTS = {"绿": "绿", "黄": "黄", "红": "红", "green": "绿", "yellow": "黄", "red": "红"}
WEEKDAYS = "一二三四五六日"
SUBJECT_PREFIX = "【均衡督办】"
TITLE_LIMIT = 40  # characters of a task title in a subject line

# 企业微信 robots refuse markdown content over 4096 bytes (UTF-8); 钉钉 allows more, but a long
# robot message helps nobody: both get the most pressing items and a pointer to the system
MARKDOWN_LIMITS = {"wecom": 4096, "dingtalk": 8000}
# a 企业微信 message that @-mentions people goes as text (its markdown cannot @ by mobile): ≤ 2048 bytes
WECOM_TEXT_LIMIT = 2048

_FONT = re.compile(r"</?font[^>]*>")
_LINK = re.compile(r"\[([^\]]*)\]\(([^)\s]*)\)")
_BOLD = re.compile(r"\*\*(.+?)\*\*")


def markdown_as_text(text: str) -> str:
    """A robot's markdown as plain text (企业微信 text messages): no headings, bold or colours, and
    each link as its words and its address."""
    lines = []
    for line in text.splitlines():
        line = _LINK.sub(lambda m: f"{m.group(1)}：{m.group(2)}", _BOLD.sub(r"\1", _FONT.sub("", line)))
        line = re.sub(r"^#+\s*", "", line)
        line = re.sub(r"^>\s?", "- ", line)
        lines.append(line)
    return "\n".join(lines).strip() + "\n"


@dataclass
class ItemView:
    """What one notice item says, ready for a template (dates already local, days already counted)."""

    rung: str
    copy: bool = False
    urgent: bool = False
    occurrence: int = 0
    task_id: int | None = None
    title: str = ""
    measures: str = ""
    unit: str = ""  # the responsible unit (牵头单位 or the school)
    cooperators: list[str] = field(default_factory=list)
    supervisor: str = ""  # 分管领导 of the unit, on a 督办单
    due_on: dt.date | None = None
    planned_due_on: dt.date | None = None  # 原定时限: the plan date, when it had passed as the task was created
    redated_working_days: int = 0  # the working days its due date was set after it was assigned
    light: str | None = None  # 绿 / 黄 / 红, from the item's payload
    days_left: int | None = None  # working days to the due date (0 = due today)
    days_overdue: int = 0  # working days past it
    past_due: bool = False  # after the due date (even when 0 working days have passed, e.g. a weekend)
    task_url: str = ""
    ack_url: str | None = None
    reason: str = ""  # why a submission was returned (or the task changed); the decision on an extension; the office's chase note
    changes: str = ""  # what the office changed (任务变更通知)
    failed: dict = field(default_factory=dict)  # a dead letter: the message that could not be delivered

    @property
    def label(self) -> str:
        return RUNG_LABELS.get(self.rung, self.rung)

    @property
    def headline(self) -> str:
        if self.rung == Rung.dead_letter:
            who = self.failed.get("recipient_name") or self.failed.get("recipient_address", "")
            return f"发给{who}的通知未能送达"
        return self.title

    @property
    def due_text(self) -> str:
        return cn_date(self.due_on) if self.due_on else ""

    @property
    def redate_text(self) -> str:
        """原定时限 2026年12月4日已过，办理时限顺延至 2026年12月14日（5个工作日）"""
        if self.planned_due_on is None or self.due_on is None:
            return ""
        days = f"（{self.redated_working_days}个工作日）" if self.redated_working_days > 0 else ""
        return f"原定时限 {cn_day(self.planned_due_on)}已过，办理时限顺延至 {cn_day(self.due_on)}{days}"

    @property
    def days_text(self) -> str:
        if self.due_on is None:
            return ""
        if self.days_overdue > 0:
            return f"已逾期 {self.days_overdue} 个工作日"
        if self.past_due:
            return "已过完成时限"
        if self.days_left == 0:
            return "今日到期"
        if self.days_left is not None:
            return f"还剩 {self.days_left} 个工作日"
        return ""

    @property
    def is_overdue(self) -> bool:
        return self.past_due


@dataclass
class RenderedMessage:
    subject: str
    body_text: str
    body_html: str  # empty for robot (markdown) messages


def cn_day(day: dt.date) -> str:
    """2026年12月18日"""
    return f"{day.year}年{day.month}月{day.day}日"


def cn_date(day: dt.date) -> str:
    """2026年12月18日（星期五）"""
    return f"{day.year}年{day.month}月{day.day}日（星期{WEEKDAYS[day.weekday()]}）"


def cn_datetime(moment: dt.datetime | str | None, zone: str | None = None) -> str:
    if moment is None or moment == "":
        return ""
    if isinstance(moment, str):
        moment = dt.datetime.fromisoformat(moment)
    local = moment.astimezone(clock.zone(zone))
    return f"{cn_date(local.date())} {local:%H:%M}"


def light_of(value) -> str | None:
    return LIGHTS.get(str(value).strip().lower()) if value not in (None, "") else None


def sort_items(items: list[ItemView]) -> list[ItemView]:
    order = {r.value: i for i, r in enumerate(RUNG_ORDER)}
    return sorted(items, key=lambda v: (v.copy, order.get(v.rung, 99), v.due_on or dt.date.max, v.task_id or 0))


def _shorten(text: str, limit: int = TITLE_LIMIT) -> str:
    text = " ".join(text.split())  # a title pasted from a sheet may hold line breaks: never in a header
    return text if len(text) <= limit else text[: limit - 1] + "…"


def subject_for(items: list[ItemView], *, robot: bool = False) -> str:
    """One item: its kind and title; several: 您有 3 项任务提醒（1 项逾期）."""
    urgent = "【紧急】" if any(i.urgent and i.rung != Rung.dead_letter for i in items) else ""
    if len(items) == 1:
        item = items[0]
        subject = f"{SUBJECT_PREFIX}{urgent}{'抄送·' if item.copy else ''}{item.label}：{_shorten(item.headline)}"
        if item.days_overdue > 0:
            subject += f"（{item.days_text}）"
        return subject
    dead = sum(1 for i in items if i.rung == Rung.dead_letter)
    if dead:
        # the office must see from the subject alone that deliveries failed, not 「您有 235 项任务提醒」
        subject = f"{SUBJECT_PREFIX}{urgent}投递失败通知：{dead} 条通知未能送达"
        rest = len(items) - dead
        return subject + (f"；另有 {rest} 项任务提醒" if rest else "")
    overdue = sum(1 for i in items if i.is_overdue)
    who = "本单位" if robot else "您"
    subject = f"{SUBJECT_PREFIX}{urgent}{who}有 {len(items)} 项任务提醒"
    return subject + (f"（{overdue} 项逾期）" if overdue else "")


_TRAILING_STOPS = "。．.，,；;：:、 \t\r\n\u3000"
_ENDS_SENTENCE = "！？!?…"


def sentence(text: str | None) -> str:
    """A reason or note as one sentence ending in one full stop, whatever the writer typed: the
    templates embed it as 「退回原因：{{ item.reason|sentence }}」, so 「材料不全。」 does not come
    out as 「材料不全。。」 (nor 「材料不全；。」); a ！ or ？ the writer ended with stays and gets no
    stop after it. Idempotent: sentence(sentence(x)) == sentence(x)."""
    text = (text or "").rstrip(_TRAILING_STOPS)
    if not text:
        return ""
    return text if text.endswith(tuple(_ENDS_SENTENCE)) else text + "。"


@lru_cache(maxsize=1)
def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(TEMPLATES)),
        autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["cn_date"] = cn_date
    env.filters["cn_datetime"] = cn_datetime
    env.filters["sentence"] = sentence
    return env


def _context(items: list[ItemView], *, recipient_name: str, campaign_name: str, base_url: str,
             robot: bool, flavor: str = "") -> dict:
    items = sort_items(items)
    action = [i for i in items if not i.copy]
    copies = [i for i in items if i.copy]
    return {
        "items": items,
        "action_items": action,
        "copy_items": copies,
        "overdue_count": sum(1 for i in items if i.is_overdue),
        "recipient_name": recipient_name,
        "greeting": ("各位同事" if robot else (recipient_name or "您好")),
        "campaign_name": campaign_name,
        "base_url": base_url.rstrip("/"),
        "robot": robot,
        "flavor": flavor,
    }


@dataclass
class Part:
    """One e-mail of several carrying one recipient's notices (a message is capped in items and
    bytes): which one, of how many, and what the whole holds."""

    index: int  # 1-based
    count: int
    first: int  # 1-based position of its first item in the whole list
    last: int
    total: int  # items in the whole
    overdue: int  # of them overdue
    list_url: str  # the recipient's full task list on the web


def render_email(items: list[ItemView], *, recipient_name: str, campaign_name: str, base_url: str,
                 part: Part | None = None, subject: str | None = None) -> RenderedMessage:
    """``part``: this is one of several e-mails (the text opens with a summary and the link to the
    full list); ``subject``: the whole's subject, to which the part is added."""
    env = environment()
    ctx = _context(items, recipient_name=recipient_name, campaign_name=campaign_name, base_url=base_url, robot=False)
    subject = subject or subject_for(ctx["items"])
    if part is not None:
        subject += f"（第 {part.index}/{part.count} 封）"
    ctx["subject"] = subject
    ctx["part"] = part
    return RenderedMessage(subject=subject,
                           body_text=env.get_template("text/message.txt").render(ctx),
                           body_html=env.get_template("html/message.html").render(ctx))


def wire_size(rendered: RenderedMessage) -> int:
    """About the bytes the message takes on the wire: UTF-8 bodies base64-encoded (4/3, and a line
    break every 76 characters), headers and MIME boundaries (a few KB). An upper estimate for
    Chinese text, which is what servers count against their size limit (552 beyond it)."""
    body = len(rendered.body_text.encode("utf-8")) + len(rendered.body_html.encode("utf-8"))
    return body * 4 * 78 // (3 * 76) + 4096


def render_markdown(items: list[ItemView], *, flavor: str, campaign_name: str, base_url: str,
                    mentions: list[str] | None = None) -> RenderedMessage:
    """A group-robot message (flavor ``wecom`` or ``dingtalk``): title + markdown, trimmed to the robot's
    limit by leaving out the least pressing items (the text says how many and where to see them).

    ``mentions``: mobile numbers to @. 钉钉 wants them in the text too (``@138…`` at the end); a
    企业微信 message that mentions anyone is plain text (its markdown cannot @ by mobile number)."""
    env = environment()
    template = env.get_template("markdown/message.md")
    ordered = sort_items(items)
    subject = subject_for(ordered, robot=True)
    as_text = flavor == "wecom" and bool(mentions)
    limit = WECOM_TEXT_LIMIT if as_text else MARKDOWN_LIMITS.get(flavor, 4096)
    tail = ("\n" + " ".join(f"@{m}" for m in mentions) + "\n") if mentions and flavor == "dingtalk" else ""
    limit -= len(tail.encode("utf-8"))
    shown = len(ordered)
    while True:
        ctx = _context(ordered[:shown], recipient_name="", campaign_name=campaign_name, base_url=base_url,
                       robot=True, flavor=flavor)
        ctx.update(subject=subject, omitted=len(ordered) - shown, total=len(ordered),
                   total_overdue=sum(1 for i in ordered if i.is_overdue))
        text = template.render(ctx)
        if as_text:
            text = markdown_as_text(text)
        if len(text.encode("utf-8")) <= limit or shown <= 1:
            break
        shown -= 1
    if len(text.encode("utf-8")) > limit:  # one huge item: cut its text, keep the pointer to the system
        text = text.encode("utf-8")[: limit - 64].decode("utf-8", errors="ignore") + f"\n\n……详见 {base_url.rstrip('/')}"
    return RenderedMessage(subject=subject, body_text=text + tail, body_html="")
