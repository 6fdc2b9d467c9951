"""Awards: computed from the plan's rules, confirmed by the office. The rules are tried in order
and a school gets the first it meets: its role is one of the rule's, its score reaches the rule's
line, and (for a 贡献校) its pairing's potential schools average at least the rule's line. A
potential school scoring below 一票否决线 gets 一票否决: no honours. A school whose result an
objection upheld during the results' 公示 withdrew gets 结果公示期间异议成立: no award, the reason
shown to the office. The office may confirm a
different category only when the rules allow the school it (an award against the rules is
refused); the certificate list and the 表彰通报 list confirmed awards only."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlmodel import Session

from tracker.db import utcnow
from tracker.events.service import record_event
from tracker.events.types import EventType
from tracker.org.models import Campaign
from tracker.plans.programme import ProgrammePlan
from tracker.plans.programme_sections import AWARD_CATEGORIES, ROLE_POTENTIAL, VETO, WITHDRAWN, AwardRule
from tracker.programmes import queries
from tracker.programmes.models import Award
from tracker.programmes.scoring import final_scores
from tracker.programmes.service import (
    ProgrammeConflict, ProgrammeError, open_objections, plan_of, publicity_of, roles, withdrawn_schools,
)


class AwardAgainstRules(ProgrammeConflict):
    """An award the plan's rules do not give the school."""


@dataclass
class Standing:
    """What the rules read of a school: its role, final score and (a mentor) its pairing's mean."""

    school_id: int
    role: str
    score: float | None
    pair_mean: float | None
    withdrawn: bool = False  # an objection upheld during the results' 公示: no award


def standings(session: Session, campaign: Campaign) -> dict[int, Standing]:
    role_of = roles(session, campaign)
    finals = final_scores(session, campaign)
    members = queries.pairing_members(session, campaign.id)
    mentor_of_pairing = {p.id: p.mentor_school_id for p in queries.pairings(session, campaign.id)}
    pair_scores: dict[int, list[float]] = {}
    for school_id, pairing_id in members.items():
        if school_id in finals:
            pair_scores.setdefault(mentor_of_pairing[pairing_id], []).append(finals[school_id])
    withdrawn = withdrawn_schools(session, campaign)
    return {sid: Standing(sid, role, finals.get(sid),
                          sum(pair_scores[sid]) / len(pair_scores[sid]) if pair_scores.get(sid) else None,
                          withdrawn=sid in withdrawn)
            for sid, role in role_of.items()}


def meets(rule: AwardRule, standing: Standing) -> bool:
    if standing.role not in rule.roles:
        return False
    if rule.min_score is not None and (standing.score is None or standing.score < rule.min_score):
        return False
    if rule.min_pair_mean is not None and (standing.pair_mean is None or standing.pair_mean < rule.min_pair_mean):
        return False
    return True


def vetoed(plan: ProgrammePlan, standing: Standing) -> bool:
    return standing.role == ROLE_POTENTIAL and standing.score is not None and standing.score < plan.awards.veto_below


def allowed(plan: ProgrammePlan, standing: Standing) -> list[str]:
    """Every category the rules allow the school, the first being what it is computed to get. A
    school whose result was withdrawn gets only ``WITHDRAWN``: the reason, shown, never an award."""
    if standing.withdrawn:
        return [WITHDRAWN]
    if vetoed(plan, standing):
        return [VETO]
    return [rule.category for rule in plan.awards.rules if meets(rule, standing)]


def compute(session: Session, campaign: Campaign, *, actor: str, today: dt.date) -> list[Award]:
    """Compute every school's award from the rules once the results' 公示 is over and its
    objections resolved; confirmed awards are kept as confirmed."""
    plan = plan_of(campaign)
    publicity = publicity_of(session, campaign, "results")
    if publicity is None or today <= publicity.ends_on:
        raise ProgrammeConflict("验收成绩公示期满后才能评选表彰" + (
            f"（公示期至 {publicity.ends_on.isoformat()}）" if publicity else "：验收成绩还没有公示"))
    pending = [o for o in open_objections(session, campaign) if o.publicity_id == publicity.id]
    if pending:
        raise ProgrammeConflict(f"验收成绩公示还有 {len(pending)} 条异议未处理，处理后才能评选表彰")
    existing = {a.school_id: a for a in queries.awards(session, campaign.id)}
    now = utcnow()
    out = []
    for standing in standings(session, campaign).values():
        categories = allowed(plan, standing)
        award = existing.get(standing.school_id)
        if award is not None and award.confirmed_at is not None:
            out.append(award)
            continue
        if not categories:
            if award is not None:
                session.delete(award)
            continue
        award = award or Award(campaign_id=campaign.id, school_id=standing.school_id, category=categories[0],
                               role=standing.role)
        award.category, award.role, award.score, award.computed_at = categories[0], standing.role, standing.score, now
        session.add(award)
        out.append(award)
    session.flush()
    record_event(session, type=EventType.programme_awards_computed.value, actor=actor, campaign_id=campaign.id,
                 payload={c: sum(a.category == c for a in out) for c in (*AWARD_CATEGORIES, VETO, WITHDRAWN)})
    return out


def confirm(session: Session, campaign: Campaign, school_id: int, category: str | None = None, *,
            actor: str) -> Award:
    """The office confirms a school's award: as computed, or another category the rules allow it."""
    plan = plan_of(campaign)
    award = queries.award_of(session, campaign.id, school_id)
    if award is None:
        raise ProgrammeConflict("这所学校还没有计算出的表彰类别：先运行评选（compute）")
    if award.confirmed_at is not None:
        raise ProgrammeConflict("这所学校的表彰类别已经确认")
    standing = standings(session, campaign)[school_id]
    permitted = allowed(plan, standing)
    if permitted == [WITHDRAWN]:
        raise AwardAgainstRules(f"不能确认：{WITHDRAWN}，该校本轮验收结果已撤销，不予表彰")
    if category is not None and category not in (*AWARD_CATEGORIES, VETO):
        raise ProgrammeError(f"表彰类别应为 {'、'.join(AWARD_CATEGORIES)} 之一")
    category = category or award.category
    if category not in permitted:
        why = "一票否决，不得评先树优" if permitted == [VETO] else \
            f"按表彰规则只可评为 {'、'.join(permitted)}" if permitted else "按表彰规则不能获得任何表彰"
        raise AwardAgainstRules(f"不能评为{category}：该校为{standing.role}，得分 "
                                f"{'—' if standing.score is None else f'{standing.score:g}'}，{why}")
    award.category, award.confirmed_by, award.confirmed_at = category, actor, utcnow()
    session.add(award)
    record_event(session, type=EventType.programme_award_confirmed.value, actor=actor, campaign_id=campaign.id,
                 payload={"school_id": school_id, "category": category})
    return award


def revoke(session: Session, campaign: Campaign, school_id: int, reason: str, *, actor: str) -> Award:
    """The office takes back its confirmation of a school's award (reason required): the award is
    as computed again, awaiting confirmation, off the certificate list and the 表彰通报 — e.g. so
    that an objection to the school's result can then be upheld."""
    award = queries.award_of(session, campaign.id, school_id)
    if award is None or award.confirmed_at is None:
        raise ProgrammeConflict("这所学校的表彰类别还没有确认，无需撤销")
    reason = (reason or "").strip()
    if not reason:
        raise ProgrammeError("撤销表彰确认须写明理由")
    if len(reason) > 2000:
        raise ProgrammeError("撤销理由不能超过 2000 字")
    category = award.category
    award.confirmed_by, award.confirmed_at = "", None
    session.add(award)
    record_event(session, type=EventType.programme_award_revoked.value, actor=actor, campaign_id=campaign.id,
                 payload={"school_id": school_id, "category": category, "reason": reason})
    return award


def confirmed(session: Session, campaign: Campaign) -> list[Award]:
    return [a for a in queries.awards(session, campaign.id) if a.confirmed_at is not None]


@dataclass
class AwardNotice:
    """The 表彰通报 as issued: what the .docx says (notifications renders it)."""

    programme_name: str
    county: str
    issuing_office: str
    issued_on: dt.date
    by_category: dict[str, list[str]]  # category → school names, in the rules' order
    vetoed: list[str]


def award_notice(session: Session, campaign: Campaign, issued_on: dt.date) -> AwardNotice:
    from tracker.org import queries as org_queries

    names = {s.id: s.name for s in queries.schools(session, campaign.id)}
    done = confirmed(session, campaign)
    if not any(a.category in AWARD_CATEGORIES for a in done):
        raise ProgrammeConflict("还没有确认的表彰：办公室确认后才能印发表彰通报")
    by_category = {c: sorted(names[a.school_id] for a in done if a.category == c) for c in AWARD_CATEGORIES}
    office = org_queries.office_department(session, campaign.id)
    return AwardNotice(programme_name=campaign.name, county=campaign.county,
                       issuing_office=office.name if office else f"{campaign.county}教育主管部门",
                       issued_on=issued_on, by_category={c: v for c, v in by_category.items() if v},
                       vetoed=sorted(names[a.school_id] for a in done if a.category == VETO))
