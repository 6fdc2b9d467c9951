"""A campaign's organisation: finding the campaign, its units, people and townships by name,
and who the plan makes responsible for an indicator.
"""

from __future__ import annotations

import datetime as dt
import difflib
from collections.abc import Callable, Iterable
from typing import Any

from sqlmodel import Session, select

from tracker.org.models import Campaign, Department, Person, Phase, PhaseStatus
from tracker.plans import TOWNSHIPS_PLACEHOLDER, CampaignPlan
from tracker.plans.kinds import UnitKind
from tracker.errors import ErrorKind, JunhengError


class CampaignNotFound(JunhengError, LookupError, kind=ErrorKind.not_found):
    """No campaign matches, or several do and ``--campaign`` was left out (Chinese message)."""


class UnknownName(JunhengError, LookupError, kind=ErrorKind.not_found):
    """A unit, person, indicator or township the campaign does not have (Chinese message)."""


def plan_of(campaign: Campaign) -> CampaignPlan:
    """The plan as last applied to the campaign."""
    return CampaignPlan.from_stored(campaign.plan)


# ---------------------------------------------------------------------------- finding


def list_campaigns(session: Session) -> list[Campaign]:
    return list(session.exec(select(Campaign).order_by(Campaign.code)))


def resolve_campaign(session: Session, code: str | None = None) -> Campaign:
    """The campaign ``--campaign`` names (its code; its name or county also do when unique).

    Without a code: the only county campaign there is (a programme beside it does not count),
    else the only campaign, else ``CampaignNotFound`` listing the codes.
    """
    campaigns = list_campaigns(session)
    codes = "、".join(c.code for c in campaigns) or "（无）"
    if not code:
        counties = [c for c in campaigns if c.kind == "county"]
        if len(counties) == 1:  # a programme beside it (示范校, issue 15) is named with --campaign
            return counties[0]
        if len(campaigns) == 1:
            return campaigns[0]
        if not campaigns:
            raise CampaignNotFound("数据库中还没有创建工作：请先运行 junheng campaign init PLAN.yaml")
        raise CampaignNotFound(f"数据库中有 {len(campaigns)} 个创建工作（{codes}），请用 --campaign 指定其中一个",
                               kind=ErrorKind.invalid)  # which one is for the user to say
    code = code.strip()
    for campaign in campaigns:
        if campaign.code == code:
            return campaign
    by_name = [c for c in campaigns if code in (c.name, c.county)]
    if len(by_name) == 1:
        return by_name[0]
    raise CampaignNotFound(f"没有编号为「{code}」的创建工作；现有：{codes}")


def _suggestion(name: str, known: Iterable[str]) -> str:
    close = difflib.get_close_matches(name, list(known), n=1, cutoff=0.5)
    return f"，是否指「{close[0]}」？" if close else ""


def _aliases(campaign: Campaign) -> dict[str, str]:
    """Alias → full unit name, from the stored plan."""
    out: dict[str, str] = {}
    for dept in campaign.plan.get("departments", []):
        for alias in dept.get("aliases", []):
            out[alias] = dept["name"]
    return out


def unit_robots(plan: dict | None) -> dict[str, str]:
    """Unit (full name) → the name of its group robot (群机器人, a JUNHENG_WEBHOOKS name), from the
    stored plan; units without one are left out. The office is a unit here too."""
    return {dept["name"]: dept["robot"] for dept in (plan or {}).get("departments", []) if dept.get("robot")}


def office_robot(plan: dict | None) -> str | None:
    """The name of the office's group robot (its 群机器人 in the plan), if it has one."""
    return next((dept.get("robot") for dept in (plan or {}).get("departments", [])
                 if dept.get("kind") == UnitKind.office.value and dept.get("robot")), None)


def find_department(session: Session, campaign: Campaign, name_or_short: str) -> Department:
    """A unit of the campaign by its full name, short name or an alias from the plan."""
    wanted = name_or_short.strip()
    # in the plan's order: the list in the error reads the same every time, on any database
    rows = list(session.exec(select(Department).where(Department.campaign_id == campaign.id)
                             .order_by(Department.id)))
    full = _aliases(campaign).get(wanted, wanted)
    for match in ([d for d in rows if d.name == full], [d for d in rows if d.short_name == wanted]):
        active = [d for d in match if d.active]
        if len(active) == 1:
            return active[0]
        if match and not active:
            raise UnknownName(f"单位「{wanted}」已从方案中移除（停用）")
    known = [d.short_name or d.name for d in rows if d.active]
    raise UnknownName(f"创建工作「{campaign.code}」中没有单位「{wanted}」{_suggestion(wanted, known)}"
                      f"（单位有：{'、'.join(known)}）")


def find_person(session: Session, campaign: Campaign, name: str) -> Person:
    """A person of the campaign by name (``--as`` on the CLI)."""
    wanted = name.strip()
    person = session.exec(select(Person).where(Person.campaign_id == campaign.id, Person.name == wanted)).first()
    if person is not None and person.active:
        return person
    if person is not None:
        raise UnknownName(f"「{wanted}」已从方案中移除，不能再以其身份操作")
    names = session.exec(select(Person.name).where(Person.campaign_id == campaign.id, Person.active)).all()
    raise UnknownName(f"创建工作「{campaign.code}」的方案中没有「{wanted}」{_suggestion(wanted, names)}")


def township_department(session: Session, campaign: Campaign, township: str | None) -> Department | None:
    """The township unit a school's 所在乡镇 names (name, short name or alias), or None."""
    if not township or not township.strip():
        return None
    name = _township_name(campaign.plan.get("departments", []), township.strip())
    if name is None:
        return None
    return session.exec(select(Department).where(Department.campaign_id == campaign.id,
                                                 Department.name == name)).first()


def township_lookup(session: Session, campaign: Campaign) -> Callable[[str | None], Department | None]:
    """``township_department`` for many schools: the campaign's units read once."""
    by_name = {d.name: d for d in session.exec(select(Department).where(Department.campaign_id == campaign.id))}
    departments = (campaign.plan or {}).get("departments", [])

    def lookup(township: str | None) -> Department | None:
        if not township or not township.strip():
            return None
        name = _township_name(departments, township.strip())
        return by_name.get(name) if name is not None else None

    return lookup


def _township_name(departments: list[dict], township: str) -> str | None:
    for dept in departments:
        if dept["kind"] == UnitKind.township.value and township in (
                dept["name"], dept.get("short_name"), *dept.get("aliases", [])):
            return dept["name"]
    return None


def assignment_for(plan_or_campaign: CampaignPlan | Campaign | dict, indicator: str,
                   school: Any = None) -> tuple[str, list[str]]:
    """(lead unit, [cooperating units]) of an indicator, as full unit names.

    "各乡镇" among the cooperating units becomes the township of ``school`` (anything with a
    ``township`` attribute: a School row or a SchoolRecord); a school without a township drops
    it; without a school (county-level work) it becomes every township of the plan.
    """
    if isinstance(plan_or_campaign, CampaignPlan):
        entry = plan_or_campaign.assignments.get(str(indicator))
        row = {"lead": entry.lead, "cooperating": entry.cooperating} if entry else None
        departments = [{"name": d.name, "short_name": d.short_name, "aliases": d.aliases, "kind": d.kind.value}
                       for d in plan_or_campaign.townships]
    else:
        data = plan_or_campaign.plan if isinstance(plan_or_campaign, Campaign) else plan_or_campaign
        row = data.get("assignments", {}).get(str(indicator))
        departments = data.get("departments", [])
    if row is None:
        raise UnknownName(f"指标「{indicator}」不在方案的分工表中")
    lead: str = row["lead"]
    cooperating: list[str] = []
    for name in row["cooperating"]:
        if name != TOWNSHIPS_PLACEHOLDER:
            names = [name]
        elif school is None:
            names = [d["name"] for d in departments if d["kind"] == UnitKind.township.value]
        else:
            township = (getattr(school, "township", None) or "").strip()
            if not township:
                names = []
            else:
                found = _township_name(departments, township)
                if found is None:
                    known = "、".join(d.get("short_name") or d["name"] for d in departments
                                     if d["kind"] == UnitKind.township.value)
                    raise UnknownName(f"学校「{getattr(school, 'name', '')}」的所在乡镇「{township}」不是方案中的乡镇"
                                      f"（方案中的乡镇：{known}）")
                names = [found]
        for n in names:
            if n != lead and n not in cooperating:
                cooperating.append(n)
    return lead, cooperating




def current_phase(session: Session, campaign: Campaign, today: dt.date) -> Phase | None:
    """The phase the campaign is in: the active one (the earliest if several are); else the
    earliest phase not yet passed that has started by ``today``; else the next one to come.
    None once every phase has passed."""
    phases = list(session.exec(
        select(Phase).where(Phase.campaign_id == campaign.id).order_by(Phase.ordinal, Phase.id)))
    return pick_phase(phases, today)


def pick_phase(phases: list[Phase], today: dt.date) -> Phase | None:
    """``current_phase``'s rule over a campaign's phases already read, in their order (the region
    roll-up reads every county's phases in one statement)."""
    active = [p for p in phases if PhaseStatus(p.status) is PhaseStatus.active]
    if active:
        return active[0]
    waiting = [p for p in phases if PhaseStatus(p.status) is not PhaseStatus.passed]
    started = [p for p in waiting if p.starts_on is not None and p.starts_on <= today]
    if started:
        return started[0]
    return waiting[0] if waiting else None
