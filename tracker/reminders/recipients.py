"""Who receives a rung of a task: the campaign's people, units and ladder read once per sweep
(``CampaignContext``), and the recipients of each kind of rung for each unit, worked out once per
sweep (``RecipientSet``) rather than once per task."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass

from sqlalchemy import select
from sqlmodel import Session

from tracker.org.models import Campaign, Department, Person, School
from tracker.plans import ReminderLadder
from tracker.notices.models import Rung
from tracker.reminders.ladder import DEFAULT_LADDER, Audience, LadderSettingsError, ladder_settings, window_opening


@dataclass(frozen=True, slots=True)
class Recipient:
    name: str
    address: str
    person_id: int | None
    copy: bool = False

    @property
    def key(self) -> str:
        """The recipient part of the idempotency key: the person, else the address."""
        return f"p{self.person_id}" if self.person_id is not None else self.address.strip().lower()


_JSON_UTF8 = json.JSONEncoder(ensure_ascii=False).encode


class RecipientSet:
    """The recipients of one kind of rung of one unit, with what the notice rows need of each,
    made once: their key parts and (PostgreSQL) their columns as JSON text."""

    __slots__ = ("people", "unreachable", "keys", "json_keys", "json_columns", "columns")

    def __init__(self, people: list[Recipient], unreachable: list[str]) -> None:
        self.people = people
        self.unreachable = unreachable
        self.keys = [r.key for r in people]
        # the key's JSON string without its opening quote: a rung's key head is plain ASCII, so
        # '"' + head + this is the JSON text of the whole key
        self.json_keys = [_JSON_UTF8(k)[1:] for k in self.keys]
        self.json_columns = [
            f'"recipient_person_id": {"null" if r.person_id is None else r.person_id}, '
            f'"recipient_name": {_JSON_UTF8(r.name)}, "recipient_address": {_JSON_UTF8(r.address)}, '
            f'"in_copy": {"true" if r.copy else "false"}' for r in people]
        self.columns = [(r.person_id, r.name, r.address, r.copy) for r in people]  # SQLite: the row's tail


class CampaignContext:
    """A campaign's people, units and ladder, read once per sweep."""

    def __init__(self, session: Session, campaign_id: int, problems: list[str]) -> None:
        campaign = session.get(Campaign, campaign_id)
        self.campaign_id = campaign_id
        self.code = campaign.code if campaign else str(campaign_id)
        try:
            self.settings: ReminderLadder = ladder_settings(campaign.plan if campaign else None)
        except LadderSettingsError as exc:
            problems.append(f"创建工作「{self.code}」：{exc}；按默认提醒设置执行。")
            self.settings = DEFAULT_LADDER
        people = list(session.exec(select(Person).where(Person.campaign_id == campaign_id)).scalars())
        self.people_by_id = {p.id: p for p in people}
        self.departments = {d.id: d for d in session.exec(
            select(Department).where(Department.campaign_id == campaign_id)).scalars()}
        # plain names: the sweep commits per chunk, which expires the ORM objects above
        self.department_names = {d.id: d.name for d in self.departments.values()}
        active = [p for p in people if p.active]
        self.office = [p for p in active if p.is_office]
        self._contacts: dict[int, list[Person]] = {}
        self._by_email: dict[str, Person] = {}
        self._by_name: dict[str, list[Person]] = {}
        for p in active:
            if p.is_contact and p.department_id is not None:
                self._contacts.setdefault(p.department_id, []).append(p)
            if p.email:
                self._by_email.setdefault(p.email.strip().lower(), p)
            self._by_name.setdefault(p.name, []).append(p)

        self._recipients: dict[tuple, RecipientSet] = {}
        self._window_openings: dict[dt.datetime, dt.datetime] = {}
        self.shapes: dict[tuple, object] = {}  # the sweep's per-shape answers (see sweep.py)

    def recipients(self, task, audience: Audience, rung: Rung, cooperating: list[int],
                   school: School | None) -> RecipientSet:
        """``recipients_for``, worked out once per unit and kind of rung (the answer depends on
        nothing else); the set returned is shared: read it, do not change it."""
        assigned = rung is Rung.assigned
        key = (task.department_id, school.id if school is not None else None, audience,
               tuple(cooperating) if assigned else ())
        found = self._recipients.get(key)
        if found is None:
            found = self._recipients[key] = RecipientSet(*recipients_for(self, task, audience, rung, cooperating,
                                                                         school))
        return found

    def window_opening(self, now: dt.datetime, calendar) -> dt.datetime:
        found = self._window_openings.get(now)
        if found is None:
            found = self._window_openings[now] = window_opening(now, self.settings, calendar)
        return found

    def contacts(self, department_id: int) -> list[Person]:
        return self._contacts.get(department_id, [])

    def person_by_email(self, address: str) -> Person | None:
        return self._by_email.get(address.strip().lower())

    def person_by_name(self, name: str, department_id: int | None = None) -> Person | None:
        return next((p for p in self._by_name.get(name, ())
                     if department_id is None or p.department_id == department_id), None)


def as_recipient(person: Person, copy: bool = False) -> Recipient:
    return Recipient(person.name, (person.email or "").strip(), person.id, copy)


def recipients_for(ctx: CampaignContext, task, audience: Audience, rung: Rung,
                   cooperating: list[int], school: School | None) -> tuple[list[Recipient], list[str]]:
    """The recipients of a rung of a task, and the people it cannot reach (no address), as names."""
    wanted: list[Recipient] = []
    if audience in (Audience.unit, Audience.unit_and_head):
        if task.department_id is not None:
            wanted += [as_recipient(p) for p in ctx.contacts(task.department_id)]
            dept = ctx.departments.get(task.department_id)
            if audience is Audience.unit_and_head and dept is not None and (dept.head_name or dept.head_email):
                head = ctx.person_by_name(dept.head_name, dept.id) if dept.head_name else None
                if head is None and dept.head_email:
                    head = ctx.person_by_email(dept.head_email)
                address = (dept.head_email or (head.email if head else "") or "").strip()
                wanted.append(Recipient(dept.head_name or (head.name if head else address), address,
                                        head.id if head else None))
        elif school is not None:
            address = (school.contact_email or "").strip()
            person = ctx.person_by_email(address) if address else None
            wanted.append(Recipient(person.name if person else (school.contact_name or school.name), address,
                                    person.id if person else None))
        if rung is Rung.assigned:
            for dept_id in cooperating:
                wanted += [as_recipient(p, copy=True) for p in ctx.contacts(dept_id)]
    elif audience is Audience.office_and_supervisor:
        wanted += [as_recipient(p) for p in ctx.office]
        dept = ctx.departments.get(task.department_id) if task.department_id is not None else None
        supervisor = ctx.people_by_id.get(dept.supervisor_id) if dept and dept.supervisor_id else None
        if supervisor is not None and supervisor.active:
            wanted.append(as_recipient(supervisor))

    chosen: dict[str, Recipient] = {}
    unreachable: list[str] = []
    for r in wanted:
        if not r.address:
            unreachable.append(r.name)
            continue
        previous = chosen.get(r.key)
        if previous is None or (previous.copy and not r.copy):  # in the To line beats in copy
            chosen[r.key] = r
    return list(chosen.values()), list(dict.fromkeys(unreachable))


def unit_name(ctx: CampaignContext, task, school: School | None) -> str:
    if task.department_id is not None and task.department_id in ctx.department_names:
        return ctx.department_names[task.department_id]
    if school is not None:
        return school.name
    return "未指定单位"
