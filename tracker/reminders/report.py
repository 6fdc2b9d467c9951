"""What a sweep reports: the notices owed (``SweepLine``), per chunk (``ChunkDone``) and in all
(``SweepReport``).

The report keeps its lines compactly, one record per rung of a task with the rung's recipients
(shared lists), and spells them out as ``SweepLine`` objects only when someone reads ``lines``: a
big sweep owes tens of thousands of notices and the scheduler only wants the counts.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field

from tracker.notices.models import Rung
from tracker.reminders.ladder import RUNG_LABELS
from tracker.reminders.lights import Light
from tracker.reminders.recipients import Recipient


@dataclass(frozen=True, slots=True)
class SweepLine:
    """One notice owed: a rung of a task for one recipient."""

    campaign_id: int
    task_id: int
    task_title: str
    unit: str
    rung: Rung
    occurrence: int
    recipient_name: str
    recipient_address: str
    copy: bool
    light: Light | None
    not_before: dt.datetime
    new: bool  # queued by this sweep (dry run: would be); False when an earlier sweep queued it

    @property
    def rung_label(self) -> str:
        return RUNG_LABELS[self.rung]


@dataclass(frozen=True, slots=True)
class ChunkDone:
    index: int  # 1-based
    tasks: int
    inserted: int


@dataclass(frozen=True, slots=True)
class OwedRung:
    """A rung of a task and whom it goes to: the lines of one rung, not yet spelt out."""

    campaign_id: int
    task_id: int
    task_title: str
    unit: str
    rung: Rung
    occurrence: int
    light: Light | None
    not_before: dt.datetime
    key_head: str  # the idempotency key up to the recipient's part
    recipients: Sequence[Recipient]


@dataclass
class SweepReport:
    now: dt.datetime
    dry_run: bool
    tasks: int = 0  # tasks whose next reminder time had come
    chunks: int = 0
    queued: int = 0  # notices queued by this sweep, counted per recipient (dry run: that would be)
    problems: list[str] = field(default_factory=list)  # Chinese: what could not be queued, and why
    next_times: dict[int, dt.datetime | None] = field(default_factory=dict)  # task id → new next_reminder_at
    owed: list[tuple[list[OwedRung], set[str]]] = field(default_factory=list, repr=False)  # per chunk: rungs, keys of the owed notices new

    @property
    def lines(self) -> list[SweepLine]:
        return [SweepLine(o.campaign_id, o.task_id, o.task_title, o.unit, o.rung, o.occurrence, r.name, r.address,
                          r.copy, o.light, o.not_before, new=o.key_head in new_keys)
                for rungs, new_keys in self.owed for o in rungs for r in o.recipients]

    @property
    def new_lines(self) -> list[SweepLine]:
        return [line for line in self.lines if line.new]
