"""Setting up a campaign from its plan, and finding campaigns, units and people.

Functions take a session first and never commit (the caller's ``session_scope`` does).
``apply_plan`` is idempotent: applying the same plan twice changes nothing and writes no
second event; applying a changed plan updates people, e-mails and dates in place; tasks keep their history,
and an open task whose due date came from the plan follows a moved gate or deadline.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, update
from sqlmodel import Session, SQLModel, select

from tracker.db import utcnow
from tracker.events.service import SYSTEM_ACTOR, record_event
from tracker.org.models import Campaign, Department, Person, Phase, School
from tracker.org.service import unit_robots
from tracker.plans import PHASE_KIND_NAMES, UNIT_KIND_NAMES, CampaignPlan, PlanError
from tracker.plans.kinds import UnitKind
from tracker.schooldata.models import DataSubmission, SchoolDataRow

# ---------------------------------------------------------------------------- applying a plan


def _is_referenced(session: Session, table_name: str, row_id: int) -> bool:
    """Whether any row of any table points at this row (tasks, events, schools, findings …)."""
    import tracker.models  # noqa: F401  (every table in the metadata)

    for table in SQLModel.metadata.sorted_tables:
        for fk in table.foreign_keys:
            if fk.column.table.name == table_name and fk.column.name == "id":
                count = session.execute(select(func.count()).select_from(table).where(fk.parent == row_id)).scalar_one()
                if count:
                    return True
    return False


def _show(value: Any) -> str:
    if value is None or value == "":
        return "（空）"
    if isinstance(value, bool):
        return "是" if value else "否"
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, UnitKind):
        return UNIT_KIND_NAMES[value]
    return str(getattr(value, "value", value))


def _update(row: Any, fields: dict[str, Any], labels: dict[str, str], what: str, changes: list[str],
            shown: dict[str, Any] | None = None) -> None:
    """Set changed fields on ``row`` and describe each change in Chinese."""
    for attr, new in fields.items():
        old = getattr(row, attr)
        if _comparable(old) != _comparable(new):
            if attr in labels:
                shown_old, shown_new = (shown or {}).get(attr, (old, new))
                changes.append(f"{what}{labels[attr]}：{_show(shown_old)} → {_show(shown_new)}")
            setattr(row, attr, new)


def _comparable(value: Any) -> Any:
    return getattr(value, "value", value)


_DEPT_LABELS = {"short_name": "简称", "kind": "类别", "head_name": "负责人", "head_email": "负责人邮箱", "active": "启用"}
_PERSON_LABELS = {"title": "职务", "email": "邮箱", "phone": "电话", "department_id": "单位", "group_role": "领导小组职务",
                  "is_office": "办公室人员", "is_contact": "联系人", "active": "启用"}
_PHASE_LABELS = {"name": "名称", "kind": "类型", "ordinal": "顺序", "starts_on": "开始", "gate_on": "关口", "note": "说明"}


@dataclass
class AppliedPlan:
    campaign: Campaign
    created: bool
    changes: list[str]  # Chinese, one line per change; empty when the plan was already applied
    moved_tasks: int = 0  # open tasks whose due date followed a moved gate or deadline
    ladder_changed: bool = False  # the 提醒 section changed: open tasks' reminder times need working out again
    plan_tasks: list[int] = field(default_factory=list)  # preparatory tasks created now (issue 12 §1)
    # of those, the ones whose plan date had passed: (task id, title, 原定时限, working due date)
    redated: list[tuple[int, str, dt.date, dt.date]] = field(default_factory=list)


def apply_plan(session: Session, plan: CampaignPlan, actor: str = SYSTEM_ACTOR) -> Campaign:
    """Create the plan's campaign, or bring an existing one (same 编号) in line with the plan.

    See ``apply_plan_report``, which also says what changed.
    """
    return apply_plan_report(session, plan, actor).campaign


def apply_plan_report(session: Session, plan: CampaignPlan, actor: str = SYSTEM_ACTOR) -> AppliedPlan:
    """Create the plan's campaign, or bring an existing one (same 编号) in line with the plan.

    Units, people and phases are matched by name / name / code. Removed units and people are
    deactivated when anything refers to them (tasks, events, schools …) and deleted otherwise;
    a removed phase that has tasks or reviews is refused (``PlanError``). Tasks keep their history;
    an open task whose due date came from the plan (its phase's gate, its indicator's 完成时限,
    a preparatory task's date) and still is the date the old plan gave it follows the new plan,
    with a ``task.due_changed`` event (``selfcheck.follow_plan_due_dates``); findings keep the
    reviewer's deadline. Writes ``campaign.created`` or, when something changed,
    ``campaign.updated`` with the list of changes.
    """
    # selfcheck works out the plan's due dates and imports this module: import it here
    from tracker.tasks.reconcile import create_plan_tasks, follow_plan_due_dates, plan_due_dates

    stored = plan.model_dump(mode="json")
    campaign = session.exec(select(Campaign).where(Campaign.code == plan.code)).first()
    created = campaign is None
    changes: list[str] = []
    due_before = plan_due_dates(session, campaign) if campaign is not None else {}
    ladder_before = campaign.plan.get("reminders") if campaign is not None else None
    if campaign is None:
        campaign = Campaign(code=plan.code, name=plan.name, county=plan.county, standard_id=plan.standard, plan=stored)
        session.add(campaign)
        session.flush()
    else:
        _update(campaign, {"name": plan.name, "county": plan.county, "standard_id": plan.standard},
                {"name": "名称", "county": "县", "standard_id": "标准"}, "创建工作", changes)
        changes += _plan_changes(campaign.plan, stored)
        changes += _robot_changes(campaign.plan, stored)
        if campaign.plan != stored:
            campaign.plan = stored

    departments = _apply_departments(session, campaign, plan, changes)
    people = _apply_people(session, campaign, plan, departments, changes)
    for pd in plan.departments:
        supervisor = people[pd.supervisor] if pd.supervisor else None
        _update(departments[pd.name], {"supervisor_id": supervisor.id if supervisor else None},
                {"supervisor_id": "分管领导"}, f"单位「{pd.name}」", changes,
                shown={"supervisor_id": (_person_name(session, departments[pd.name].supervisor_id),
                                         supervisor.name if supervisor else None)})
    _apply_school_contacts(session, campaign, plan, changes)
    _retire_people(session, campaign, plan, changes)
    _retire_departments(session, campaign, plan, changes)
    _apply_phases(session, campaign, plan, changes)
    session.flush()
    moves = follow_plan_due_dates(session, campaign, due_before, actor) if not created else []
    by_dates: dict[tuple, list[int]] = {}
    for move in moves:
        by_dates.setdefault((move.before, move.after, move.planned_due_on), []).append(move.task_id)
    for (before, after, planned), ids in by_dates.items():
        listed = "、".join(f"#{i}" for i in ids[:10]) + (f" 等 {len(ids)} 项" if len(ids) > 10 else "")
        # a plan date that has already passed is kept as the 原定时限; the task gets working days
        if planned and before == after:
            changes.append(f"任务原定时限随方案调整为 {planned.isoformat()}（已过），办理时限 {after.isoformat()} 不变："
                           f"{listed}")
            continue
        note = f"（方案日期 {planned.isoformat()} 已过，作为原定时限保留，办理时限顺延）" if planned else ""
        changes.append(f"任务截止日期随方案调整 {before.isoformat()} → {after.isoformat()}{note}：{listed}")

    # the plan's preparatory steps are tasks from the start (issue 12 §1), not only after the
    # first school data import; a plan that adds steps later gets them here too (idempotent)
    plan_tasks = []
    if not created:
        plan_tasks = create_plan_tasks(session, campaign, actor)
        if plan_tasks:
            changes.append(f"新增方案准备工作任务 {len(plan_tasks)} 项")
    if created:
        record_event(session, type="campaign.created", actor=actor, campaign_id=campaign.id, payload={
            "code": plan.code, "name": plan.name, "county": plan.county, "standard": plan.standard,
            "departments": len(plan.departments), "people": len(plan.people), "phases": len(plan.phases),
            "preparatory_tasks": len(plan.preparatory_tasks),
        })
        session.flush()
        plan_tasks = create_plan_tasks(session, campaign, actor)
    elif changes:
        campaign.updated_at = utcnow()
        record_event(session, type="campaign.updated", actor=actor, campaign_id=campaign.id,
                     payload={"changes": changes})
    session.flush()
    return AppliedPlan(campaign=campaign, created=created, changes=changes, moved_tasks=len(moves),
                       ladder_changed=not created and ladder_before != stored.get("reminders"),
                       plan_tasks=[t.id for t in plan_tasks],
                       redated=[(t.id, t.title, t.planned_due_on, t.due_on) for t in plan_tasks
                                if t.planned_due_on is not None])


def _person_name(session: Session, person_id: int | None) -> str | None:
    if person_id is None:
        return None
    person = session.get(Person, person_id)
    return person.name if person else None


def _apply_departments(session: Session, campaign: Campaign, plan: CampaignPlan,
                       changes: list[str]) -> dict[str, Department]:
    existing = {d.name: d for d in session.exec(select(Department).where(Department.campaign_id == campaign.id))}
    out: dict[str, Department] = {}
    for pd in plan.departments:
        fields = {"short_name": pd.short_name, "kind": pd.kind, "head_name": pd.head_name,
                  "head_email": pd.head_email, "active": True}
        dept = existing.get(pd.name)
        if dept is None:
            dept = Department(campaign_id=campaign.id, name=pd.name, **fields)
            session.add(dept)
            if existing:
                changes.append(f"新增单位「{pd.name}」")
        else:
            _update(dept, fields, _DEPT_LABELS, f"单位「{pd.name}」", changes,
                    shown={"kind": (UNIT_KIND_NAMES.get(_unit_kind(dept.kind), dept.kind), UNIT_KIND_NAMES[pd.kind])})
        out[pd.name] = dept
    session.flush()
    return out


def _apply_people(session: Session, campaign: Campaign, plan: CampaignPlan, departments: dict[str, Department],
                  changes: list[str]) -> dict[str, Person]:
    existing = {p.name: p for p in session.exec(select(Person).where(Person.campaign_id == campaign.id))}
    names = {d.id: d.name for d in session.exec(select(Department).where(Department.campaign_id == campaign.id))}
    out: dict[str, Person] = {}
    for pp in plan.people:
        dept_id = departments[pp.department].id if pp.department else None
        fields = {"title": pp.title, "email": pp.email, "phone": pp.phone, "department_id": dept_id,
                  "group_role": pp.group_role, "is_office": pp.is_office, "is_contact": pp.is_contact, "active": True}
        person = existing.get(pp.name)
        if person is None:
            person = Person(campaign_id=campaign.id, name=pp.name, **fields)
            session.add(person)
            if existing:
                changes.append(f"新增人员「{pp.name}」")
        else:
            _update(person, fields, _PERSON_LABELS, f"人员「{pp.name}」", changes,
                    shown={"department_id": (names.get(person.department_id), pp.department)})
        out[pp.name] = person
    session.flush()
    return out


def _apply_school_contacts(session: Session, campaign: Campaign, plan: CampaignPlan, changes: list[str]) -> None:
    """The schools already imported get their contact from 学校联系人 (the notices of a school's
    own tasks go there, and that person may act on them); later ones get it on import. A school
    the plan names nobody for has the contact its school sheets gave (``selfcheck.upsert_school``
    does the same on import), so taking a school out of 学校联系人 hands it back to its sheet."""
    from_sheets: dict[str, tuple[str, str]] | None = None
    for school in session.exec(select(School).where(School.campaign_id == campaign.id).order_by(School.id)):
        contact = plan.school_contact(school.key, school.name)
        if contact is not None:
            name, email = contact.name, contact.email
        else:
            if from_sheets is None:
                from_sheets = _sheet_contacts(session, campaign)
            name, email = from_sheets.get(school.key, ("", ""))
        _update(school, {"contact_name": name, "contact_email": email},
                {"contact_name": "联系人", "contact_email": "联系人邮箱"}, f"学校「{school.name}」", changes)
    session.flush()


def _sheet_contacts(session: Session, campaign: Campaign) -> dict[str, tuple[str, str]]:
    """school key → (联系人, 联系邮箱) of the newest county data that filled in 联系邮箱 for it (a
    blank cell keeps an older sheet's contact). A school's own row counts once the office has
    approved it into the county data; one waiting or returned does not."""
    rows = session.exec(
        select(SchoolDataRow.school_key, SchoolDataRow.data)
        .join(DataSubmission, DataSubmission.id == SchoolDataRow.submission_id)
        .where(DataSubmission.campaign_id == campaign.id, DataSubmission.school_id.is_(None),
               DataSubmission.status != "returned")
        .order_by(DataSubmission.submitted_at.desc(), DataSubmission.id.desc()))
    contacts: dict[str, tuple[str, str]] = {}
    for key, data in rows:
        if key not in contacts and data.get("contact_email"):
            contacts[key] = (data.get("contact_name") or "", data["contact_email"])
    return contacts


def _retire_people(session: Session, campaign: Campaign, plan: CampaignPlan, changes: list[str]) -> None:
    keep = {p.name for p in plan.people}
    for person in list(session.exec(select(Person).where(Person.campaign_id == campaign.id))):
        if person.name in keep:
            continue
        session.execute(update(Department).where(Department.campaign_id == campaign.id,
                                                 Department.supervisor_id == person.id).values(supervisor_id=None))
        if _is_referenced(session, "person", person.id):
            if person.active:
                person.active = False
                changes.append(f"停用人员「{person.name}」（已有记录引用，保留历史）")
        else:
            session.delete(person)
            changes.append(f"删除人员「{person.name}」")
    session.flush()


def _retire_departments(session: Session, campaign: Campaign, plan: CampaignPlan, changes: list[str]) -> None:
    keep = {d.name for d in plan.departments}
    for dept in list(session.exec(select(Department).where(Department.campaign_id == campaign.id))):
        if dept.name in keep:
            continue
        if _is_referenced(session, "department", dept.id):
            if dept.active:
                dept.active = False
                changes.append(f"停用单位「{dept.name}」（已有任务或记录引用，保留历史）")
        else:
            session.delete(dept)
            changes.append(f"删除单位「{dept.name}」")
    session.flush()


def _apply_phases(session: Session, campaign: Campaign, plan: CampaignPlan, changes: list[str]) -> None:
    existing = {p.code: p for p in session.exec(select(Phase).where(Phase.campaign_id == campaign.id))}
    for entry in plan.phases:
        fields = {"name": entry.name, "kind": entry.kind, "ordinal": entry.order, "starts_on": entry.starts_on,
                  "gate_on": entry.gate_on, "note": entry.note}
        phase = existing.get(entry.code)
        if phase is None:
            session.add(Phase(campaign_id=campaign.id, code=entry.code, **fields))
            if existing:
                changes.append(f"新增阶段「{entry.name}」")
        else:
            _update(phase, fields, _PHASE_LABELS, f"阶段「{entry.name}」", changes,
                    shown={"kind": (PHASE_KIND_NAMES.get(_kind(phase.kind), phase.kind), PHASE_KIND_NAMES[entry.kind])})
    keep = {p.code for p in plan.phases}
    for code, phase in existing.items():
        if code in keep:
            continue
        if _is_referenced(session, "phase", phase.id):
            raise PlanError([f"阶段「{phase.name}」（编号 {code}）已有任务或评估记录，不能从方案中删除："
                             "请把它留在方案里（名称和日期可以改）"])
        session.delete(phase)
        changes.append(f"删除阶段「{phase.name}」")
    session.flush()


def _unit_kind(value: Any) -> Any:
    try:
        return UnitKind(_comparable(value))
    except ValueError:
        return value


def _kind(value: Any) -> Any:
    from tracker.plans.kinds import PhaseKind

    try:
        return PhaseKind(_comparable(value))
    except ValueError:
        return value


_PLAN_SECTIONS = {"assignments": "分工表", "preparatory_tasks": "准备工作", "school_fixable": "学校自行整改",
                  "reminders": "提醒设置", "leading_group": "领导小组", "office": "办公室"}


def _robot_changes(old: dict, new: dict) -> list[str]:
    """A unit's 群机器人 has no column of its own (it lives in the stored plan): named where it
    changed, so a plan that only changes robots is still a ``campaign.updated``."""
    before, after = unit_robots(old), unit_robots(new)
    return [f"单位「{name}」群机器人：{before.get(name) or '（空）'} → {after.get(name) or '（空）'}"
            for name in (d["name"] for d in new.get("departments", [])) if before.get(name) != after.get(name)]


def _plan_changes(old: dict, new: dict) -> list[str]:
    """The plan sections that have no rows of their own, described where they changed."""
    out: list[str] = []
    for key, label in _PLAN_SECTIONS.items():
        before, after = old.get(key), new.get(key)
        if before == after:
            continue
        if key == "assignments" and isinstance(before, dict) and isinstance(after, dict):
            codes = [c for c in after if before.get(c) != after[c]] + [c for c in before if c not in after]
            out.append(f"{label}：指标 {'、'.join(codes)} 有变化")
        elif key == "preparatory_tasks" and isinstance(before, list) and isinstance(after, list):
            was = {t["code"]: t for t in before}
            now = {t["code"]: t for t in after}
            codes = [c for c in now if was.get(c) != now[c]] + [c for c in was if c not in now]
            out.append(f"{label}：{'、'.join(codes)} 有变化")
        else:
            out.append(f"{label}有变化")
    return out
