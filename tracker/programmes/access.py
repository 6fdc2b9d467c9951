"""Who sees and does what in a programme (issue 15 §1), for the API and the pages alike:

- office (办公室) of the programme: everything, every move of the office (复核, 公示, objections,
  promotion, pairing, awards) — the office's log-ins are the programme campaign's office users;
- school (学校): its own application (applies once), its own scores once the results' 公示 has
  begun, its pairing's tasks and reports;
- a panel member: an account linked to a person of a panel (``User.person_id``) sees and enters
  only its own scores, of the schools its rounds score;
- department (科室): nominates schools, sees the list; reviewer (评估人员) not on a panel: reads
  everything, changes nothing. A panel member's account is a reviewer linked to the member's person.

A user of another campaign sees nothing of the programme (404, as for any row of another campaign).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlmodel import Session

from tracker.accounts.access import AccessDenied, require_role, role_of
from tracker.accounts.models import User, UserRole
from tracker.org.models import Campaign, Person, School
from tracker.programmes import queries
from tracker.programmes.models import PanelScore, ProgrammeEntry
from tracker.programmes.scoring import panel_member_names, round_scores, scores_of_member
from tracker.programmes.service import ProgrammeNotFound, plan_of, results_open


def check_campaign(user: User, campaign: Campaign) -> None:
    if user.campaign_id != campaign.id:
        raise ProgrammeNotFound("没有这个示范校项目")


def require_office(user: User, campaign: Campaign, what: str) -> None:
    check_campaign(user, campaign)
    require_role(user, UserRole.office, what=what)


def panel_person(session: Session, user: User, campaign: Campaign) -> Person | None:
    """The panel member the user acts as, if any."""
    if user.person_id is None:
        return None
    person = session.get(Person, user.person_id)
    plan = plan_of(campaign)
    if person is None or not any(person.name in panel_member_names(plan, r) for r in plan.rounds):
        return None
    return person


def member_for(session: Session, user: User, campaign: Campaign, name: str | None) -> Person:
    """Whose scores the user enters: a panel member its own; the office any member's (a sheet)."""
    check_campaign(user, campaign)
    person = panel_person(session, user, campaign)
    if person is not None and (name is None or name == person.name):
        return person
    if role_of(user) is UserRole.office and name:
        found = queries.person_by_name(session, campaign.id, name)
        if found is None:
            raise ProgrammeNotFound(f"没有评审组成员「{name}」")
        return found
    raise AccessDenied("只有评审组成员本人（或办公室代为录入）可以打分")


def school_for(user: User, campaign: Campaign, school: School) -> None:
    """A school user acts for its own school only."""
    check_campaign(user, campaign)
    if role_of(user) is UserRole.office:
        return
    if role_of(user) is not UserRole.school or user.school_id != school.id:
        raise AccessDenied(f"只能为本校办理，「{school.name}」不是当前用户的学校")


@dataclass
class SchoolLine:
    """One school as a user may see it on the programme's page."""

    school_id: int
    name: str
    role: str
    entry: ProgrammeEntry | None = None
    totals: dict[str, float] = field(default_factory=dict)  # round code → total (when visible)
    award: str | None = None
    award_confirmed: bool = False


@dataclass
class ProgrammeView:
    campaign: Campaign
    lines: list[SchoolLine]
    my_scores: list[PanelScore]  # a panel member's own scores
    scores_visible: bool
    is_office: bool
    is_member: bool


def view(session: Session, user: User, campaign: Campaign, today: dt.date) -> ProgrammeView:
    from tracker.programmes.service import roles

    check_campaign(user, campaign)
    role = role_of(user)
    member = panel_person(session, user, campaign)
    # a panel member's account (a reviewer linked to the member) sees what it scores, not the rest
    reader = role is UserRole.office or (role is UserRole.reviewer and member is None)
    whole = reader or role is UserRole.department
    open_ = results_open(session, campaign, today)
    entries = {e.school_id: e for e in queries.entries(session, campaign.id)}
    award_of = {a.school_id: a for a in queries.awards(session, campaign.id)}
    plan = plan_of(campaign)
    totals = {r.code: round_scores(session, campaign, r.code) for r in plan.rounds}
    lines = []
    role_of_school = roles(session, campaign)
    for school in queries.schools(session, campaign.id):
        own = role is UserRole.school and user.school_id == school.id
        if not (whole or own or member is not None):
            continue
        line = SchoolLine(school.id, school.name, role_of_school[school.id])
        if whole or own:
            line.entry = entries.get(school.id)
        if reader or (own and open_):
            line.totals = {code: t[school.id].total for code, t in totals.items() if school.id in t}
            award = award_of.get(school.id)
            if award is not None and (award.confirmed_at or role is UserRole.office):
                line.award, line.award_confirmed = award.category, award.confirmed_at is not None
        lines.append(line)
    return ProgrammeView(campaign=campaign, lines=lines,
                         my_scores=scores_of_member(session, campaign, member) if member else [],
                         scores_visible=open_, is_office=role is UserRole.office, is_member=member is not None)
