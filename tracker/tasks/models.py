"""Tasks: the work a shortfall, a finding or the plan gives to a unit, and their evidence."""

from __future__ import annotations

import datetime as dt
from enum import Enum

from sqlalchemy import BigInteger, Index, String, UniqueConstraint
from sqlmodel import Field, SQLModel

from tracker.db import UTCDateTime, utcnow


class TaskStatus(str, Enum):
    assigned = "待签收"
    accepted = "已签收"
    in_progress = "办理中"
    submitted = "已提交"
    verified = "已销号"
    withdrawn = "已撤销"


class TaskOrigin(str, Enum):
    shortfall = "shortfall"
    attestation = "attestation"  # a county-level indicator to attest with evidence
    finding = "finding"
    plan = "plan"  # a preparatory task of the plan
    split = "split"  # a sub-task split from another task (分解, issue 12 §3)
    office = "office"  # 交办: work the office assigns itself (issue 12)


class TaskSource(str, Enum):
    """事项来源 of an office task (交办)."""

    instruction = "领导批示"
    meeting = "会议决定"
    superior = "上级交办"
    inspection = "督查发现"
    plan = "方案任务"
    other = "其他"


# 提交 needs at least one 佐证材料 file by default for work whose proof is a document (a shortfall
# fixed, an indicator attested, a finding rectified); the office sets it per task.
EVIDENCE_BY_DEFAULT = frozenset({TaskOrigin.shortfall, TaskOrigin.attestation, TaskOrigin.finding})


def evidence_required_by_default(origin: TaskOrigin | str) -> bool:
    return TaskOrigin(origin) in EVIDENCE_BY_DEFAULT


class Task(SQLModel, table=True):
    __table_args__ = (
        UniqueConstraint("campaign_id", "origin_key"),
        Index("ix_task_open_due", "status", "due_on"),
        # the task list (pages, API) of a campaign by due date, a page at a time (issue 5)
        Index("ix_task_campaign_due", "campaign_id", "due_on", "id"),
        # covering indexes of the overview's counts per unit and per phase (100,000 tasks: issue 5)
        Index("ix_task_campaign_unit", "campaign_id", "department_id", "responsible_school_id", "status", "due_on"),
        Index("ix_task_campaign_phase", "campaign_id", "phase_id", "status"),
        Index("ix_task_next_reminder", "next_reminder_at"),
    )
    id: int | None = Field(default=None, primary_key=True)
    campaign_id: int = Field(foreign_key="campaign.id", index=True)
    phase_id: int = Field(foreign_key="phase.id", index=True)
    title: str
    measures: str = ""  # 措施
    indicator: str | None = None
    school_id: int | None = Field(default=None, foreign_key="school.id", index=True)  # 一校一案
    department_id: int | None = Field(default=None, foreign_key="department.id", index=True)
    responsible_school_id: int | None = Field(default=None, foreign_key="school.id")  # the school itself
    assignee_id: int | None = Field(default=None, foreign_key="person.id")
    due_on: dt.date
    # 原定时限: the plan's (or reviewer's) date when it had already passed as the task was created
    # (or its plan date moved into the past), so the task got a working due date N working days on
    # instead of being born overdue; None when the task keeps its plan date
    planned_due_on: dt.date | None = None
    status: TaskStatus = Field(default=TaskStatus.assigned, sa_type=String(16))
    progress: int = 0  # percent
    notes: str = ""
    origin: TaskOrigin = Field(sa_type=String(16))
    origin_key: str  # idempotency: shortfall key / plan item code / finding id
    shortfall_id: int | None = Field(default=None, foreign_key="shortfallrecord.id")
    finding_id: int | None = Field(default=None, foreign_key="reviewfinding.id")
    resolved_by_assessment_id: int | None = Field(default=None, foreign_key="assessmentsnapshot.id")
    created_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    acknowledged_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
    submitted_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
    verified_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
    # 交办 (issue 12): 事项来源 and its reference (文号, meeting and date); empty for derived tasks
    source: str = Field(default="", sa_type=String(16))
    source_ref: str = ""
    # 提交 is refused while the task has no evidence file
    evidence_required: bool = False
    # a recurring office task (tracker.tasks.recurrence): monthly:<day> | weekly:<1–7>; None: once
    recurrence: str | None = Field(default=None, sa_type=String(32))
    # 已退回: the reason of the last 退回 until the unit submits again (None: not returned)
    return_reason: str | None = None
    returned_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
    # the reminder ladder's next due time (issue 4): the sweep reads only tasks with this <= now
    next_reminder_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
    # 分解 (issue 12 §3): the task this one was split from; the parent is submitted only when
    # every child is done (tracker.tasks.moves)
    parent_id: int | None = Field(default=None, foreign_key="task.id", index=True)


class TaskCooperator(SQLModel, table=True):
    """A cooperating unit (配合单位) of a task."""

    task_id: int = Field(foreign_key="task.id", primary_key=True)
    department_id: int = Field(foreign_key="department.id", primary_key=True)


class Evidence(SQLModel, table=True):
    """A 佐证材料 file of a task, stored content-addressed on disk by sha256."""

    __table_args__ = (UniqueConstraint("task_id", "sha256"),)
    id: int | None = Field(default=None, primary_key=True)
    campaign_id: int = Field(foreign_key="campaign.id", index=True)
    task_id: int = Field(foreign_key="task.id", index=True)
    filename: str  # sanitised display name
    sha256: str = Field(index=True)
    size: int
    content_type: str = "application/octet-stream"
    uploaded_by: str = ""
    uploaded_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class TaskTally(SQLModel, table=True):
    """How many tasks a campaign has per (phase, unit, status): the overview's counts without
    reading the tasks. Kept current by database triggers on ``task`` (migration 0003), in the
    same transaction as every insert, move and delete, whatever code path writes the task.
    ``department_key`` / ``school_key`` are the task's department_id / responsible_school_id,
    0 for none (a key column cannot be NULL and ids start at 1)."""

    __tablename__ = "task_tally"
    campaign_id: int = Field(primary_key=True)
    phase_id: int = Field(primary_key=True)
    department_key: int = Field(primary_key=True)
    school_key: int = Field(primary_key=True)
    status: str = Field(primary_key=True, sa_type=String(16))
    n: int = 0


class TaskDueTally(SQLModel, table=True):
    """How many tasks with their unit (待签收, 已签收, 办理中: the clock runs) fall due on each day,
    per unit: overdue and due-soon counts read a few rows per unit and day, not the tasks. Kept
    current by the same triggers as ``TaskTally``; keys as there."""

    __tablename__ = "task_due_tally"
    # due_on second: overdue and due-soon counts read a date range of the campaign's rows
    campaign_id: int = Field(primary_key=True)
    due_on: dt.date = Field(primary_key=True)
    department_key: int = Field(primary_key=True)
    school_key: int = Field(primary_key=True)
    n: int = 0


class TaskListStamp(SQLModel, table=True):
    """A campaign's task-list revision: moved by database triggers (migration 0020) in the same
    transaction as every write to what the task list shows (tasks, cooperators, 延期申请, unit
    names, phases, the campaign, the working-day calendar), whatever code path writes. The task
    list API keeps its answers keyed on it (api/v1/task_list_cache.py). A random number, not a
    counter (compared for equality only; a counter would repeat after a backup is restored)."""

    __tablename__ = "task_list_stamp"
    campaign_id: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    revision: int = Field(sa_type=BigInteger)


class ExtensionStatus(str, Enum):
    pending = "待审批"
    approved = "已同意"
    refused = "不同意"


class TaskExtension(SQLModel, table=True):
    """A 延期申请 (issue 12 §2): the lead unit asks for a new due date with a reason; the office
    approves (the due date moves) or refuses. ``pending_task_id`` is the task's id while the
    request is pending and NULL once decided: unique, so a task has at most one pending request
    whoever asks at the same moment (NULLs never collide, on SQLite and PostgreSQL alike)."""

    __tablename__ = "task_extension"
    id: int | None = Field(default=None, primary_key=True)
    campaign_id: int = Field(foreign_key="campaign.id", index=True)
    task_id: int = Field(foreign_key="task.id", index=True)
    pending_task_id: int | None = Field(default=None, unique=True)
    status: ExtensionStatus = Field(default=ExtensionStatus.pending, sa_type=String(16))
    due_from: dt.date  # the due date when asked
    due_on: dt.date  # the date asked for
    reason: str
    requested_by: str  # the person's name
    requested_by_id: int | None = Field(default=None, foreign_key="person.id")
    requested_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    decided_by: str | None = None
    decided_by_id: int | None = Field(default=None, foreign_key="person.id")
    decided_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
    decision_note: str = ""  # the office's reason for refusing (or a note with an approval)


class CooperatorReport(SQLModel, table=True):
    """联办 (issue 12 §3): a cooperating unit's report on its own share of a task: progress and a
    note, and the evidence file it uploaded with it, if any. The lead unit reads them on the task."""

    __tablename__ = "cooperator_report"
    id: int | None = Field(default=None, primary_key=True)
    campaign_id: int = Field(foreign_key="campaign.id", index=True)
    task_id: int = Field(foreign_key="task.id", index=True)
    department_id: int = Field(foreign_key="department.id")
    percent: int = 0
    note: str = ""
    evidence_id: int | None = Field(default=None, foreign_key="evidence.id")
    reported_by: str
    reported_by_id: int | None = Field(default=None, foreign_key="person.id")
    reported_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
