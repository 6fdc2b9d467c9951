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
from tracker.org.service import unit_robots
from tracker.plans import ReminderLadder, mobile_of
from tracker.plans.kinds import UnitKind
from tracker.settings import get_settings
from tracker.notices.models import Rung
from tracker.reminders.ladder import DEFAULT_LADDER, Audience, LadderSettingsError, ladder_settings, window_opening


@dataclass(frozen=True, slots=True)
class Recipient:
    name: str
    address: str  # an e-mail address, or a group robot's ``wecom:NAME`` / ``dingtalk:NAME``
    person_id: int | None
    copy: bool = False
    mentions: tuple[str, ...] = ()  # a robot's message @-mentions these mobile numbers

    @property
    def key(self) -> str:
        """The recipient part of the idempotency key: the person, else the address."""
        return f"p{self.person_id}" if self.person_id is not None else self.address.strip().lower()


_JSON_UTF8 = json.JSONEncoder(ensure_ascii=False).encode


class RecipientSet:
    """The recipients of one kind of rung of one unit, with what the notice rows need of each,
    made once: their key parts and (PostgreSQL) their columns as JSON text."""

    __slots__ = ("people", "unreachable", "keys", "json_keys", "json_columns", "columns", "mentioning")

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
        self.mentioning = any(r.mentions for r in people)  # a robot @-mentions someone: its payload differs


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

        # each unit's group robot (the plan's 群机器人) as a notice address, when it is configured
        self._robots: dict[int, str] = {}
        named = unit_robots(campaign.plan if campaign else None)
        configured = get_settings().webhooks
        for dept in self.departments.values():
            robot_name = named.get(dept.name)
            if not robot_name or not dept.active:
                continue
            robot = configured.get(robot_name)
            if robot is None:
                problems.append(f"创建工作「{self.code}」：单位「{dept.name}」的群机器人「{robot_name}」未在 "
                                "JUNHENG_WEBHOOKS 中配置，其通知只发邮箱。")
                continue
            self._robots[dept.id] = robot.address(robot_name)
        self._office_unit = next((d.id for d in self.departments.values()
                                  if d.kind == UnitKind.office.value and d.active), None)
        self._recipients: dict[tuple, RecipientSet] = {}
        self._window_openings: dict[dt.datetime, dt.datetime] = {}
        self.shapes: dict[tuple, object] = {}  # the sweep's per-shape answers (see sweep.py)
        self.ladders: dict[tuple, object] = {}  # … and its ladders, which do not depend on the progress

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

    def robot(self, department_id: int | None, people=(), copy: bool = False) -> Recipient | None:
        """The unit's group robot as a recipient, @-mentioning those of ``people`` with a mobile number."""
        address = self._robots.get(department_id) if department_id is not None else None
        if address is None:
            return None
        mentions = tuple(dict.fromkeys(m for m in (mobile_of(p.phone) for p in people) if m))
        return Recipient(f"{self.department_names[department_id]}（群）", address, None, copy, mentions)

    def office_unit(self) -> int | None:
        return self._office_unit

    def person_by_email(self, address: str) -> Person | None:
        return self._by_email.get(address.strip().lower())

    def person_by_name(self, name: str, department_id: int | None = None) -> Person | None:
        return next((p for p in self._by_name.get(name, ())
                     if department_id is None or p.department_id == department_id), None)


def as_recipient(person: Person, copy: bool = False) -> Recipient:
    return Recipient(person.name, (person.email or "").strip(), person.id, copy)


def recipients_for(ctx: CampaignContext, task, audience: Audience, rung: Rung,
                   cooperating: list[int], school: School | None) -> tuple[list[Recipient], list[str]]:
    """The recipients of a rung of a task, and the people it cannot reach (no address), as names.

    Group robots (issue 12 §6): a notice for a unit also goes to the unit's robot, once, @-mentioning
    those it is for who have a mobile number (a cooperating unit's copy goes to its robot in copy; a
    督办单 to the office's robot). A person without e-mail is reached only there: through their own
    unit's robot, else not at all (listed as unreachable)."""
    wanted: list[Recipient] = []
    if audience in (Audience.unit, Audience.unit_and_head):
        if task.department_id is not None:
            contacts = ctx.contacts(task.department_id)
            wanted += [as_recipient(p) for p in contacts]
            dept = ctx.departments.get(task.department_id)
            head = None
            if audience is Audience.unit_and_head and dept is not None and (dept.head_name or dept.head_email):
                head = ctx.person_by_name(dept.head_name, dept.id) if dept.head_name else None
                if head is None and dept.head_email:
                    head = ctx.person_by_email(dept.head_email)
                address = (dept.head_email or (head.email if head else "") or "").strip()
                wanted.append(Recipient(dept.head_name or (head.name if head else address), address,
                                        head.id if head else None))
            robot = ctx.robot(task.department_id, contacts + ([head] if head is not None else []))
            if robot is not None:
                wanted.append(robot)
        elif school is not None:
            address = (school.contact_email or "").strip()
            person = ctx.person_by_email(address) if address else None
            wanted.append(Recipient(person.name if person else (school.contact_name or school.name), address,
                                    person.id if person else None))
        if rung is Rung.assigned:
            for dept_id in cooperating:
                wanted += [as_recipient(p, copy=True) for p in ctx.contacts(dept_id)]
                robot = ctx.robot(dept_id, ctx.contacts(dept_id), copy=True)
                if robot is not None:
                    wanted.append(robot)
    elif audience is Audience.office_and_supervisor:
        wanted += [as_recipient(p) for p in ctx.office]
        robot = ctx.robot(ctx.office_unit(), ctx.office)
        if robot is not None:
            wanted.append(robot)
        dept = ctx.departments.get(task.department_id) if task.department_id is not None else None
        supervisor = ctx.people_by_id.get(dept.supervisor_id) if dept and dept.supervisor_id else None
        if supervisor is not None and supervisor.active:
            wanted.append(as_recipient(supervisor))

    chosen: dict[str, Recipient] = {}
    unreachable: list[str] = []
    for r in wanted:
        if not r.address:
            # no e-mail: their own unit's robot, @-mentioning them
            person = ctx.people_by_id.get(r.person_id) if r.person_id is not None else None
            robot = ctx.robot(person.department_id, [person], copy=r.copy) if person is not None else None
            if robot is None:
                unreachable.append(r.name)
                continue
            r = robot
        previous = chosen.get(r.key)
        if previous is None:
            chosen[r.key] = r
        elif previous.copy and not r.copy:  # in the To line beats in copy
            chosen[r.key] = Recipient(r.name, r.address, r.person_id, False,
                                      tuple(dict.fromkeys(previous.mentions + r.mentions)))
        elif r.mentions:
            chosen[r.key] = Recipient(previous.name, previous.address, previous.person_id, previous.copy,
                                      tuple(dict.fromkeys(previous.mentions + r.mentions)))
    return list(chosen.values()), list(dict.fromkeys(unreachable))


def unit_name(ctx: CampaignContext, task, school: School | None) -> str:
    if task.department_id is not None and task.department_id in ctx.department_names:
        return ctx.department_names[task.department_id]
    if school is not None:
        return school.name
    return "未指定单位"
