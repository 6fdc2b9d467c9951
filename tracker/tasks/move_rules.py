"""What the office's 督办 moves (moves.py, extensions.py) share: the checks that refuse a move
before anything is written (dates, reasons, who may act, the task's state), the conditional
UPDATE that makes a move (``touch``), and telling a unit's contacts through notice items."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import func, update
from sqlmodel import Session, select

from tracker.notices.models import NoticeItem, Rung
from tracker.org.models import Person, School
from tracker.tasks.lifecycle import (
    InvalidTaskInput,
    NotPermitted,
    TransitionError,
    may_act,
    unit_name,
)
from tracker.tasks.models import (
    Task,
    TaskStatus,
)


EARLIEST, LATEST = dt.date(2000, 1, 1), dt.date(2099, 12, 31)  # a campaign's dates, with room


def checked_date(value: object, field: str) -> dt.date:
    if isinstance(value, dt.datetime) or not isinstance(value, dt.date):
        raise InvalidTaskInput(f"{field}必须是日期（YYYY-MM-DD），收到「{value}」")
    if not EARLIEST <= value <= LATEST:  # the working-day calendar and the lights count day by day
        raise InvalidTaskInput(f"{field}「{value.isoformat()}」超出可用范围（{EARLIEST.year}—{LATEST.year} 年）")
    return value


def required_reason(reason: str | None, what: str, task: Task) -> str:
    text = (reason or "").strip()
    if not text:
        raise InvalidTaskInput(f"{what}任务 #{task.id} 必须说明原因")
    return text


def check_in_campaign(task: Task, person: Person, label: str) -> None:
    if person.campaign_id != task.campaign_id:
        raise NotPermitted(f"「{person.name}」不属于任务 #{task.id} 所在的创建工作，不能{label}")
    if not person.active:
        raise NotPermitted(f"「{person.name}」已停用，不能{label}")


def check_office(task: Task, person: Person, label: str) -> None:
    check_in_campaign(task, person, label)
    if not person.is_office:
        raise NotPermitted(f"只有领导小组办公室可以{label}，「{person.name}」不是办公室人员")


def is_lead(session: Session, task: Task, person: Person) -> bool:
    """The person is of the task's lead unit (its department, or the responsible school)."""
    if task.department_id is not None:
        return person.department_id == task.department_id
    return not person.is_office and may_act(session, task, person)


def check_lead(session: Session, task: Task, person: Person, label: str) -> None:
    check_in_campaign(task, person, label)
    if not is_lead(session, task, person):
        raise NotPermitted(f"只有任务 #{task.id} 的牵头单位（{unit_name(session, task)}）可以{label}，"
                           f"「{person.name}」不是该单位人员")


def check_state(task: Task, allowed: Iterable[TaskStatus], label: str) -> None:
    if TaskStatus(task.status) not in allowed:
        raise TransitionError(f"任务 #{task.id} 当前状态为「{TaskStatus(task.status).value}」，不能{label}")


def touch(session: Session, task: Task, now: dt.datetime, **values) -> None:
    """Change the task if its status is still the one read (someone else's move in between
    refuses ours), and mark its reminder ladder to be worked out again."""
    session.flush()
    stmt = (update(Task).where(Task.id == task.id, Task.status == TaskStatus(task.status).value)
            .values(updated_at=now, next_reminder_at=now, **values).execution_options(synchronize_session=False))
    if session.execute(stmt).rowcount != 1:
        session.refresh(task)
        raise TransitionError(f"任务 #{task.id} 已被他人处理（当前状态为「{TaskStatus(task.status).value}」），请刷新后重试")
    session.refresh(task)


# ---------------------------------------------------------------------------------------------
# telling people: notice items through the notices machinery (composed and sent like the ladder's)


@dataclass(frozen=True)
class Addressee:
    name: str
    address: str
    person_id: int | None

    @property
    def key(self) -> str:
        return f"p{self.person_id}" if self.person_id is not None else self.address.lower()


def department_contacts(session: Session, campaign_id: int, department_id: int) -> list[Addressee]:
    people = session.exec(select(Person).where(Person.campaign_id == campaign_id, Person.department_id == department_id,
                                               Person.is_contact.is_(True), Person.active.is_(True))
                          .order_by(Person.id))
    return [Addressee(p.name, p.email.strip(), p.id) for p in people if (p.email or "").strip()]


def unit_contacts(session: Session, task: Task) -> list[Addressee]:
    if task.department_id is not None:
        return department_contacts(session, task.campaign_id, task.department_id)
    school = session.get(School, task.responsible_school_id) if task.responsible_school_id else None
    address = (school.contact_email or "").strip() if school else ""
    if not address:
        return []
    person = session.exec(select(Person).where(Person.campaign_id == task.campaign_id,
                                               func.lower(Person.email) == address.lower())).first()
    return [Addressee(person.name if person else (school.contact_name or school.name), address,
                       person.id if person else None)]


def notify(session: Session, task: Task, rung: Rung, occurrence: int, key_part: str,
            to: Sequence[Addressee], payload: dict, now: dt.datetime) -> int:
    """Queue one notice item per addressee (unique key: never owed twice); returns how many."""
    seen: set[str] = set()
    for a in to:
        if a.key in seen:
            continue
        seen.add(a.key)
        session.add(NoticeItem(campaign_id=task.campaign_id, task_id=task.id, rung=rung.value, occurrence=occurrence,
                               idempotency_key=f"{task.id}:{rung.value}:{key_part}:{a.key}"[:200],
                               recipient_person_id=a.person_id, recipient_name=a.name, recipient_address=a.address,
                               payload={"task_id": task.id, "title": task.title, **payload},
                               not_before=now, created_at=now))
    session.flush()
    return len(seen)


def cn_day(day: dt.date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"
