"""What the campaign owes people (notice items) and what was sent to them (the delivery log).

The reminder sweep (tracker.reminders) decides which rung of the ladder is due for which
recipient and inserts a ``NoticeItem``; its ``idempotency_key`` is unique, so a sweep that runs
twice, or crashes and restarts, can never owe a notice twice. notifications/ groups queued items
per recipient into one ``OutboundMessage``, renders it, sends it, and records the outcome here.
"""

from __future__ import annotations

import datetime as dt
from enum import Enum

from sqlalchemy import JSON, Column, Index, LargeBinary, String, UniqueConstraint
from sqlmodel import Field, SQLModel

from tracker.db import UTCDateTime, utcnow


class Rung(str, Enum):
    """The reminder ladder (issue 4 §3)."""

    assigned = "assigned"  # 任务交办单
    ack_resend = "ack_resend"  # 签收提醒 (not acknowledged after 1 working day)
    due_soon = "due_soon"  # 临期提醒 (3 and 1 working days before; occurrence = days before)
    due_today = "due_today"  # 到期提醒
    chase = "chase"  # 催办通知 (every 2 working days overdue; occurrence = n-th)
    escalation = "escalation"  # 督办单 (3 working days overdue) to the office and 分管领导
    returned = "returned"  # 退回通知
    extension = "extension"  # 延期申请审批结果, told at once (issue 12 §2)
    coop_chase = "coop_chase"  # 催办 of one cooperating unit's share (联办, issue 12 §3)
    changed = "changed"  # 任务变更通知: the office edited the task (issue 12; occurrence = the event id)
    dead_letter = "dead_letter"  # tells the office a message could not be delivered
    materials = "materials"  # 迎检资料缺项提醒: required materials missing near a review (issue 13 §4)
    programme = "programme"  # 示范校项目通知: a programme move told to a school and its office (issue 15 §1)


class MessageState(str, Enum):
    queued = "queued"
    sent = "sent"
    failed = "failed"  # will be retried at next_attempt_at
    dead = "dead"  # gave up after N attempts; the office was told


class DeadCause(str, Enum):
    """Why a message was given up (``OutboundMessage.dead_cause``)."""

    outage = "outage"  # the channel was away (connection refused, timeouts, 4xx): resent when it works again
    refused = "refused"  # the server refused this message for good (5xx, a bad address): only by hand


class OwedNotice(SQLModel, table=True):
    """A rung of the ladder owed for a task: one row per task, rung and occurrence, whoever it goes
    to. The sweep writes these (one row per due task and rung, not one per recipient); when the
    notice's sending window opens, the composer expands it into a ``NoticeItem`` per recipient,
    worked out then from the campaign's people, in the transaction that claims them into messages
    (``tracker.reminders.expand``). ``idempotency_key`` is the items' key up to the recipient's part
    (``task:rung:occurrence[@due date]:``): unique, so a rung is owed once; the items' own keys keep
    each recipient's notice once."""

    __table_args__ = (Index("ix_owednotice_pending", "expanded_at", "not_before"),)
    id: int | None = Field(default=None, primary_key=True)
    campaign_id: int = Field(foreign_key="campaign.id")
    task_id: int = Field(foreign_key="task.id", index=True)
    rung: str = Field(sa_type=String(32))
    occurrence: int = 0
    idempotency_key: str = Field(unique=True, max_length=200)
    urgent: bool = False
    payload: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    not_before: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    created_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    expanded_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)  # its items written


class NoticeItem(SQLModel, table=True):
    __table_args__ = (Index("ix_noticeitem_pending", "message_id", "not_before"),)
    id: int | None = Field(default=None, primary_key=True)
    campaign_id: int = Field(foreign_key="campaign.id", index=True)
    task_id: int | None = Field(default=None, foreign_key="task.id", index=True)
    rung: str = Field(sa_type=String(32))
    occurrence: int = 0
    idempotency_key: str = Field(unique=True, max_length=200)  # task:rung:occurrence:recipient
    recipient_person_id: int | None = Field(default=None, foreign_key="person.id")
    recipient_name: str = ""
    recipient_address: str  # e-mail address (or a webhook channel name)
    in_copy: bool = False  # in copy (抄送), e.g. cooperating units on a 交办单
    urgent: bool = False  # may go out outside working hours
    payload: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    not_before: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)  # the sending window
    created_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    message_id: int | None = Field(default=None, foreign_key="outboundmessage.id")  # the message carrying it


class OutboundMessage(SQLModel, table=True):
    __table_args__ = (Index("ix_outboundmessage_due", "state", "next_attempt_at"),)
    id: int | None = Field(default=None, primary_key=True)
    campaign_id: int | None = Field(default=None, foreign_key="campaign.id", index=True)
    channel: str = Field(default="email", sa_type=String(16))  # email | wecom | dingtalk
    recipient_name: str = ""
    recipient_address: str
    cc: str = ""  # comma-separated addresses in copy
    mentions: str = ""  # a group robot's message: the mobile numbers it @-mentions, comma-separated
    subject: str = ""
    body_text: str = ""
    body_html: str = ""
    message_id_header: str = Field(unique=True, max_length=255)  # stable Message-ID across resends
    state: str = Field(default=MessageState.queued, sa_type=String(16))
    attempts: int = 0  # every attempt, counted when it is leased (a resend after a crash counts too)
    # the attempts already made when the message was last re-queued (by hand, or when its channel
    # came back after an outage): the retry ladder counts from here
    ladder_start: int = 0
    last_error: str = ""
    dead_cause: str = Field(default="", sa_type=String(16))  # DeadCause, when state is dead
    dead_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
    next_attempt_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    created_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    sent_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)


class RobotWindow(SQLModel, table=True):
    """The posts to one group robot (by its JUNHENG_WEBHOOKS name) in the last minute: 企业微信 and
    钉钉 take 20 messages a minute per robot (钉钉 blocks the robot for 10 minutes past that). The
    deliverer reserves a slot here, in the transaction that leases the message, before it posts;
    the row is the lock that keeps two deliverers from both spending the same minute."""

    name: str = Field(primary_key=True, max_length=255)
    posts: list = Field(default_factory=list, sa_column=Column(JSON, nullable=False))  # ISO UTC times, oldest first


class AttachmentContent(SQLModel, table=True):
    """The bytes of a message attachment, stored once by sha256 (the same chart goes to every
    recipient of a briefing)."""

    sha256: str = Field(primary_key=True, max_length=64)
    size: int
    data: bytes = Field(sa_column=Column(LargeBinary, nullable=False))


class MessageAttachment(SQLModel, table=True):
    """A file carried by an ``OutboundMessage``: an inline image of its HTML (``content_id`` set:
    referenced as ``cid:<content_id>``) or an attachment (the briefing's .docx)."""

    __table_args__ = (UniqueConstraint("message_id", "position"),)
    id: int | None = Field(default=None, primary_key=True)
    message_id: int = Field(foreign_key="outboundmessage.id", index=True)
    position: int = 0  # order in the message
    filename: str
    content_type: str = "application/octet-stream"
    content_id: str | None = None  # inline (multipart/related) when set, without angle brackets
    sha256: str = Field(foreign_key="attachmentcontent.sha256", max_length=64)
