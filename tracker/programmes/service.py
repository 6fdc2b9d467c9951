"""A school programme (示范校): setting it up from its plan, and the moves of its first phase —
a section nominates a school, a school applies with its self-assessment, the office 复核s the
application, and a 公示 runs with its objections. Scoring is ``scoring``, pairing ``pairing``,
awards ``awards``. Every move records one event in the same transaction as the change."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from pydantic import BaseModel, Field
from sqlmodel import Session

from tracker.db import utcnow
from tracker.errors import ErrorKind, JunhengError
from tracker.events.service import record_event
from tracker.events.types import EventType
from tracker.org import queries as org_queries
from tracker.org.models import Campaign, Department, Person, Phase, School
from tracker.plans.kinds import UnitKind
from tracker.plans.programme import ProgrammePlan
from tracker.plans.programme_sections import ROLE_MENTOR, ROLE_POTENTIAL, ROLE_SEED
from tracker.programmes import queries
from tracker.programmes.notices import tell_result_withdrawn
from tracker.programmes.models import (
    COUNTY_KIND,
    PROGRAMME_KIND,
    EntryRoute,
    EntryStatus,
    Objection,
    ProgrammeEntry,
    Publicity,
    Tier,
)

REASON_MAX = 2000
# a programme assesses no indicators, but the task pages name a campaign's standard: the county's
# beside it, else the national one
NATIONAL_STANDARD = "national-2017"
SUBJECTS = {"seeds": "标杆种子校名单", "results": "验收成绩"}


class ProgrammeError(JunhengError, kind=ErrorKind.invalid):
    """A programme move with bad input (Chinese message)."""


class ProgrammeConflict(JunhengError, kind=ErrorKind.conflict):
    """A programme move the state does not allow now (Chinese message)."""


class ProgrammeNotFound(JunhengError, LookupError, kind=ErrorKind.not_found):
    """No such programme, school, person, 公示 or objection (Chinese message)."""


# ---------------------------------------------------------------------------------------------
# the programme and its plan


def plan_of(campaign: Campaign) -> ProgrammePlan:
    return ProgrammePlan.from_stored(campaign.plan)


def resolve_programme(session: Session, code: str | None) -> Campaign:
    """The programme ``--programme`` names; without one, the only programme there is."""
    if code:
        campaign = queries.campaign_by_code(session, code.strip())
        if campaign is None or campaign.kind != PROGRAMME_KIND:
            raise ProgrammeNotFound(f"没有编号为「{code}」的示范校项目")
        return campaign
    found = queries.programme_campaigns(session)
    if len(found) == 1:
        return found[0]
    if not found:
        raise ProgrammeNotFound("数据库中还没有示范校项目：请先运行 junheng programme init 方案.yaml")
    raise ProgrammeError(f"数据库中有 {len(found)} 个示范校项目（{'、'.join(c.code for c in found)}），请用 --programme 指定")


def create_programme(session: Session, plan: ProgrammePlan, *, actor: str) -> Campaign:
    """Store the programme: the campaign (kind school-programme), its phases, units, schools and
    people. Its schools are the plan's, else those of the county campaign it runs beside."""
    if queries.campaign_by_code(session, plan.code) is not None:
        raise ProgrammeConflict(f"编号「{plan.code}」已被使用：示范校项目已建立过，或与创建工作重名")
    beside = None
    if plan.beside:
        beside = queries.campaign_by_code(session, plan.beside)
        if beside is None or beside.kind != COUNTY_KIND:
            raise ProgrammeNotFound(f"方案「创建工作」写的「{plan.beside}」不是已建立的创建工作")
    campaign = Campaign(code=plan.code, name=plan.name, county=plan.county, kind=PROGRAMME_KIND,
                        standard_id=beside.standard_id if beside else NATIONAL_STANDARD, plan=plan.stored())
    session.add(campaign)
    session.flush()
    for ordinal, phase in enumerate(plan.phases, start=1):
        session.add(Phase(campaign_id=campaign.id, code=phase.code, name=phase.name, ordinal=ordinal,
                          starts_on=phase.starts_on, gate_on=phase.ends_on))
    units: dict[str, Department] = {}
    for unit in plan.units:
        dept = Department(campaign_id=campaign.id, name=unit.name, short_name=unit.short_name,
                          kind=(UnitKind.office if unit.office else UnitKind.county_department).value)
        session.add(dept)
        units[unit.name] = dept
        if unit.short_name:
            units[unit.short_name] = dept
    if plan.schools:
        school_rows = [School(campaign_id=campaign.id, key=s.key or s.name, name=s.name, school_type=s.school_type)
                       for s in plan.schools]
    else:
        school_rows = [School(campaign_id=campaign.id, key=s.key, name=s.name, school_type=s.school_type,
                              township=s.township, contact_name=s.contact_name, contact_email=s.contact_email)
                       for s in org_queries.schools(session, beside.id)]
    session.add_all(school_rows)
    session.flush()
    by_name = {s.name: s for s in school_rows}
    people: dict[str, Person] = {}
    entries = [(p.name, p.title, p.email, p.unit, p.school, p.office) for p in plan.people]
    entries += [(m.name, m.title, m.email, m.unit, m.school, False) for panel in plan.panels for m in panel.members]
    for name, title, email, unit, school, office in entries:
        if name in people:  # a panel member named among the people too: one person
            continue
        if school and school not in by_name:
            raise ProgrammeNotFound(f"方案中「{name}」所在学校「{school}」不在项目的学校中")
        people[name] = Person(campaign_id=campaign.id, name=name, title=title, email=email,
                              department_id=units[unit].id if unit in units else None,
                              school_id=by_name[school].id if school else None, is_office=office,
                              is_contact=bool(email))
    session.add_all(people.values())
    session.flush()
    record_event(session, type=EventType.programme_created.value, actor=actor, campaign_id=campaign.id,
                 payload={"code": plan.code, "schools": len(school_rows), "beside": plan.beside})
    return campaign


def find_school(session: Session, campaign: Campaign, name: str) -> School:
    school = queries.school_by_name(session, campaign.id, name.strip())
    if school is None:
        raise ProgrammeNotFound(f"示范校项目「{campaign.code}」中没有学校「{name}」")
    return school


def find_person(session: Session, campaign: Campaign, name: str) -> Person:
    person = queries.person_by_name(session, campaign.id, name.strip())
    if person is None:
        raise ProgrammeNotFound(f"示范校项目「{campaign.code}」中没有人员「{name}」")
    return person


def roles(session: Session, campaign: Campaign) -> dict[int, str]:
    """Each school's programme role: on the list (nominated or 复核 passed) a 标杆种子校, promoted a
    导师型学校, any other a 潜力校."""
    tier_of = {e.school_id: e.tier for e in queries.entries(session, campaign.id) if e.tier is not None}
    out = {}
    for school in queries.schools(session, campaign.id):
        tier = tier_of.get(school.id)
        out[school.id] = ROLE_MENTOR if tier == Tier.mentor else ROLE_SEED if tier == Tier.seed else ROLE_POTENTIAL
    return out


def _reasons(text: str, what: str, *, required: bool = True) -> str:
    text = (text or "").strip()
    if required and not text:
        raise ProgrammeError(f"{what}不能为空")
    if len(text) > REASON_MAX:
        raise ProgrammeError(f"{what}过长（{len(text)} 字），不能超过 {REASON_MAX} 字")
    return text


def _existing(entry: ProgrammeEntry | None, school: School) -> None:
    if entry is None:
        return
    what = {EntryStatus.nominated: "已被圈定为标杆种子校", EntryStatus.applied: "已提出申请，正在等待复核",
            EntryStatus.passed: "已经复核达标列入名单", EntryStatus.refused: "的申请已被驳回，不能再次申请",
            EntryStatus.removed: "已因公示异议成立移出名单，不能再次申请"}
    raise ProgrammeConflict(f"学校「{school.name}」{what[EntryStatus(entry.status)]}")


# ---------------------------------------------------------------------------------------------
# nominate, apply, 复核


def nominate(session: Session, campaign: Campaign, school_name: str, unit_name: str, reasons: str, *,
             actor: str) -> ProgrammeEntry:
    """A section proposes a school as 标杆种子校, with its reasons."""
    school = find_school(session, campaign, school_name)
    unit = next((d for d in org_queries.departments(session, campaign.id)
                 if unit_name.strip() in (d.name, d.short_name)), None)
    if unit is None:
        raise ProgrammeNotFound(f"示范校项目中没有科室「{unit_name}」")
    reasons = _reasons(reasons, "圈定理由")
    _existing(queries.entry_of(session, campaign.id, school.id), school)
    entry = ProgrammeEntry(campaign_id=campaign.id, school_id=school.id, route=EntryRoute.nominated,
                           status=EntryStatus.nominated, tier=Tier.seed, department_id=unit.id, reasons=reasons,
                           created_by=actor)
    session.add(entry)
    session.flush()
    record_event(session, type=EventType.programme_nominated.value, actor=actor, campaign_id=campaign.id,
                 payload={"school": school.name, "unit": unit.name})
    return entry


class SelfAssessment(BaseModel):
    """A school's self-assessment: points per criterion code, each within the criterion's points."""

    points: dict[str, float] = Field(min_length=1)


def check_points(plan: ProgrammePlan, points: Mapping[str, float], what: str) -> dict[str, float]:
    full = {c.code: c.points for c in plan.criteria.categories}
    checked = SelfAssessment.model_validate({"points": dict(points)}).points
    unknown = sorted(set(checked) - set(full))
    if unknown:
        raise ProgrammeError(f"{what}中的类别「{'、'.join(unknown)}」不在评选标准中（应为 {'、'.join(full)}）")
    missing = [code for code in full if code not in checked]
    if missing:
        raise ProgrammeError(f"{what}缺少类别「{'、'.join(missing)}」的分数")
    for code, value in checked.items():
        if not 0 <= value <= full[code]:
            raise ProgrammeError(f"{what}类别「{code}」的分数 {value:g} 超出范围（0 至 {full[code]:g}）")
    return checked


def apply(session: Session, campaign: Campaign, school: School, self_assessment: Mapping[str, float],
          reasons: str, *, actor: str) -> ProgrammeEntry:
    """A school not on the list applies, with its self-assessment against the criteria. Once:
    a school that applied (or was refused, or is on the list) cannot apply again."""
    if school.campaign_id != campaign.id:
        raise ProgrammeNotFound("学校不属于这个示范校项目")
    _existing(queries.entry_of(session, campaign.id, school.id), school)
    points = check_points(plan_of(campaign), self_assessment, "自评")
    entry = ProgrammeEntry(campaign_id=campaign.id, school_id=school.id, route=EntryRoute.applied,
                           status=EntryStatus.applied, reasons=_reasons(reasons, "申请理由"),
                           self_assessment=points, created_by=actor)
    session.add(entry)
    session.flush()
    record_event(session, type=EventType.programme_applied.value, actor=actor, campaign_id=campaign.id,
                 payload={"school": school.name, "total": sum(points.values())})
    return entry


def review(session: Session, campaign: Campaign, school: School, passed: bool, reason: str, *,
           actor: str) -> ProgrammeEntry:
    """复核 of an application: passed puts the school on the list, refused 驳回s it; reasons either way."""
    entry = queries.entry_of(session, campaign.id, school.id)
    if entry is None or entry.route != EntryRoute.applied:
        raise ProgrammeNotFound(f"学校「{school.name}」没有提出申请")
    if entry.status != EntryStatus.applied:
        raise ProgrammeConflict(f"学校「{school.name}」的申请已复核（{'达标' if entry.status == EntryStatus.passed else '驳回'}）")
    entry.review_reason = _reasons(reason, "复核意见")
    entry.status = EntryStatus.passed if passed else EntryStatus.refused
    entry.tier = Tier.seed if passed else None
    entry.reviewed_by, entry.reviewed_at = actor, utcnow()
    session.add(entry)
    record_event(session, type=EventType.programme_reviewed.value, actor=actor, campaign_id=campaign.id,
                 payload={"school": school.name, "passed": passed, "reason": entry.review_reason})
    return entry


# ---------------------------------------------------------------------------------------------
# 公示 and objections


def open_publicity(session: Session, campaign: Campaign, subject: str, starts_on: dt.date, ends_on: dt.date, *,
                   actor: str) -> Publicity:
    if subject not in SUBJECTS:
        raise ProgrammeError(f"公示内容应为 {'、'.join(f'{k}（{v}）' for k, v in SUBJECTS.items())} 之一")
    if ends_on < starts_on:
        raise ProgrammeError(f"公示结束日期 {ends_on.isoformat()} 早于开始日期 {starts_on.isoformat()}")
    if any(p.subject == subject for p in queries.publicities(session, campaign.id)):
        raise ProgrammeConflict(f"{SUBJECTS[subject]}已经公示过")
    publicity = Publicity(campaign_id=campaign.id, subject=subject, starts_on=starts_on, ends_on=ends_on,
                          opened_by=actor)
    session.add(publicity)
    session.flush()
    record_event(session, type=EventType.programme_publicity_opened.value, actor=actor, campaign_id=campaign.id,
                 payload={"subject": subject, "starts_on": starts_on.isoformat(), "ends_on": ends_on.isoformat()})
    return publicity


def publicity_of(session: Session, campaign: Campaign, subject: str) -> Publicity | None:
    return next((p for p in queries.publicities(session, campaign.id) if p.subject == subject), None)


def results_open(session: Session, campaign: Campaign, today: dt.date) -> bool:
    """Whether a school may see its scores: the results' 公示 has begun."""
    publicity = publicity_of(session, campaign, "results")
    return publicity is not None and publicity.starts_on <= today


def raise_objection(session: Session, campaign: Campaign, subject: str, school: School | None, text: str, *,
                    actor: str, today: dt.date) -> Objection:
    publicity = publicity_of(session, campaign, subject)
    if publicity is None:
        raise ProgrammeNotFound(f"{SUBJECTS.get(subject, subject)}还没有公示")
    if not publicity.starts_on <= today <= publicity.ends_on:
        raise ProgrammeConflict(f"公示期为 {publicity.starts_on.isoformat()} 至 {publicity.ends_on.isoformat()}，"
                                f"{today.isoformat()} 不在公示期内，不能提出异议")
    objection = Objection(publicity_id=publicity.id, school_id=school.id if school else None,
                          text=_reasons(text, "异议内容"), raised_by=actor)
    session.add(objection)
    session.flush()
    record_event(session, type=EventType.programme_objection_raised.value, actor=actor, campaign_id=campaign.id,
                 payload={"subject": subject, "school": school.name if school else None})
    return objection


def resolve_objection(session: Session, campaign: Campaign, objection_id: int, upheld: bool, resolution: str, *,
                      actor: str) -> Objection:
    objection = session.get(Objection, objection_id)
    publicity = session.get(Publicity, objection.publicity_id) if objection else None
    if objection is None or publicity is None or publicity.campaign_id != campaign.id:
        raise ProgrammeNotFound(f"没有编号为 {objection_id} 的异议")
    if objection.resolved_at is not None:
        raise ProgrammeConflict(f"异议 #{objection_id} 已经处理")
    resolution = _reasons(resolution, "处理意见")
    listed = _listed_entry(session, campaign, objection) if upheld and publicity.subject == "seeds" else None
    withdrawn = _withdrawn_result(session, campaign, objection) if upheld and publicity.subject == "results" else None
    objection.resolution = resolution
    objection.upheld = upheld
    objection.resolved_by, objection.resolved_at = actor, utcnow()
    session.add(objection)
    record_event(session, type=EventType.programme_objection_resolved.value, actor=actor, campaign_id=campaign.id,
                 payload={"objection": objection_id, "upheld": upheld})
    if listed is not None:
        entry, school = listed
        entry.status, entry.tier = EntryStatus.removed, None
        session.add(entry)
        record_event(session, type=EventType.programme_removed_from_list.value, actor=actor,
                     campaign_id=campaign.id,
                     payload={"school": school.name, "objection": objection_id, "resolution": resolution})
    if withdrawn is not None:
        record_event(session, type=EventType.programme_result_withdrawn.value, actor=actor, campaign_id=campaign.id,
                     payload={"school": withdrawn.name, "school_id": withdrawn.id, "objection": objection_id,
                              "resolution": resolution})
        tell_result_withdrawn(session, campaign, withdrawn, objection_id, resolution, objection.resolved_at)
    return objection


def _withdrawn_result(session: Session, campaign: Campaign, objection: Objection) -> School | None:
    """The school whose result an objection upheld during the results' 公示 withdraws (it gets no
    award in the programme: ``awards.allowed``), or None when the objection names no school. A
    confirmed award is not unpicked behind the office's back: refused, the confirmation first."""
    if objection.school_id is None:
        return None
    school = session.get(School, objection.school_id)
    award = queries.award_of(session, campaign.id, objection.school_id)
    if award is not None and award.confirmed_at is not None:
        raise ProgrammeConflict(f"学校「{school.name}」的表彰（{award.category}）已经确认，不能再认定异议成立：请先撤销该校的"
                                f"表彰确认（junheng programme revoke {school.name} --reason 理由），再处理这条异议")
    return school


def withdrawn_schools(session: Session, campaign: Campaign) -> set[int]:
    """The schools whose result an objection upheld during the results' 公示 withdrew."""
    publicity = publicity_of(session, campaign, "results")
    if publicity is None:
        return set()
    return {o.school_id for o in queries.objections(session, campaign.id)
            if o.publicity_id == publicity.id and o.upheld and o.school_id is not None}


def _listed_entry(session: Session, campaign: Campaign, objection: Objection) -> tuple[ProgrammeEntry, School] | None:
    """The seed-list entry an upheld objection takes off the list (nominated or 复核 passed), or
    None when the objection names no school on it. A school already promoted 导师型学校 has moved
    past the seed list: refused rather than unpicking its pairings."""
    if objection.school_id is None:
        return None
    entry = queries.entry_of(session, campaign.id, objection.school_id)
    if entry is None or EntryStatus(entry.status) not in (EntryStatus.nominated, EntryStatus.passed):
        return None
    school = session.get(School, objection.school_id)
    if entry.tier == Tier.mentor:
        raise ProgrammeConflict(f"学校「{school.name}」已遴选为导师型学校，不能再按标杆种子校名单的异议移出名单")
    return entry, school


def open_objections(session: Session, campaign: Campaign) -> list[Objection]:
    return [o for o in queries.objections(session, campaign.id) if o.resolved_at is None]


def parse_day(text: str, what: str) -> dt.date:
    """A date the user typed (2027-04-20, 2027/4/20, 2027年4月20日)."""
    from tracker.plans.fields import parse_date

    try:
        value = parse_date(text)
    except ValueError as exc:
        raise ProgrammeError(f"{what}：{exc}") from None
    if not isinstance(value, dt.date):
        raise ProgrammeError(f"{what}：应为日期，写作 2027-04-20")
    return value


def parse_points(pairs: list[str], what: str = "--score") -> dict[str, float]:
    """Scores typed as 类别=分数 (A=45 B=44.5)."""
    out: dict[str, float] = {}
    for pair in pairs:
        code, sep, value = pair.partition("=")
        try:
            if not sep:
                raise ValueError
            out[code.strip()] = float(value)
        except ValueError:
            raise ProgrammeError(f"{what}「{pair}」应写作 类别编号=分数，如 A=45") from None
    return out
