"""Panel scoring: each member of a round's panel scores each school of the round's role per
criterion, only within the round's window (its phase's dates), never their own school. A school's
score on a criterion is the plan's aggregate of the members' (the mean, after dropping the highest
and the lowest when at least ``去掉最高最低分的最少人数`` members scored); its round total is the
sum over criteria; a potential school's final score weighs its rounds by their 权重."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sqlmodel import Session

from tracker.db import utcnow
from tracker.errors import ErrorKind
from tracker.events.service import record_event
from tracker.events.types import EventType
from tracker.org.models import Campaign, Person, School
from tracker.plans.programme import ProgrammePlan
from tracker.plans.programme_sections import ROLE_MENTOR, ROLE_POTENTIAL, ROLE_SEED, ScoringRound
from tracker.programmes import queries
from tracker.programmes.models import PanelScore, Tier
from tracker.programmes.service import (
    ProgrammeConflict,
    ProgrammeError,
    ProgrammeNotFound,
    check_points,
    plan_of,
    roles,
)


class ScoringRefused(ProgrammeConflict):
    """Scoring outside the window, of one's own school, or by someone not on the panel."""


def round_of(plan: ProgrammePlan, code: str) -> ScoringRound:
    scoring = plan.round(code)
    if scoring is None:
        raise ProgrammeNotFound(f"方案中没有评分「{code}」（有：{'、'.join(r.code for r in plan.rounds)}）")
    return scoring


def window(plan: ProgrammePlan, scoring: ScoringRound) -> tuple[dt.date, dt.date]:
    phase = plan.phase(scoring.phase)
    return phase.starts_on, phase.ends_on


def panel_member_names(plan: ProgrammePlan, scoring: ScoringRound) -> list[str]:
    return [m.name for m in plan.panel(scoring.panel).members]


def role_matches(role: str, wanted: str) -> bool:
    # a 导师型学校 is a 标杆种子校 too: the mentor round scores seeds before they are promoted
    return role == wanted or (wanted == ROLE_SEED and role == ROLE_MENTOR)


def score(session: Session, campaign: Campaign, round_code: str, person: Person, school: School,
          points: Mapping[str, float], *, today: dt.date, actor: str) -> list[PanelScore]:
    """Store (or replace) a member's scores of a school on every criterion of the round."""
    plan = plan_of(campaign)
    scoring = round_of(plan, round_code)
    if person.name not in panel_member_names(plan, scoring):
        raise ScoringRefused(f"「{person.name}」不是{plan.panel(scoring.panel).name}成员，不能为「{scoring.name}」打分",
                             kind=ErrorKind.forbidden)
    starts, ends = window(plan, scoring)
    if not starts <= today <= ends:
        raise ScoringRefused(f"「{scoring.name}」的评分时间为 {starts.isoformat()} 至 {ends.isoformat()}，"
                             f"{today.isoformat()} 不在评分时间内")
    if person.school_id is not None and person.school_id == school.id:
        raise ScoringRefused(f"「{person.name}」是「{school.name}」的人员，不能为本校打分",
                             kind=ErrorKind.forbidden)
    role = roles(session, campaign).get(school.id)
    if role is None or not role_matches(role, scoring.role):
        raise ProgrammeError(f"「{scoring.name}」评的是{scoring.role}，「{school.name}」是{role}")
    checked = check_points(plan, points, f"「{school.name}」的评分")
    existing = queries.score_rows(session, campaign.id, scoring.code, person.id, school.id)
    now = utcnow()
    rows = []
    for criterion, value in checked.items():
        row = existing.get(criterion) or PanelScore(campaign_id=campaign.id, round=scoring.code, person_id=person.id,
                                                    school_id=school.id, criterion=criterion, points=value)
        row.points, row.scored_at = value, now
        rows.append(row)
    session.add_all(rows)
    session.flush()
    record_event(session, type=EventType.programme_scored.value, actor=actor, campaign_id=campaign.id,
                 payload={"round": scoring.code, "member": person.name, "school": school.name,
                          "total": sum(checked.values())})
    return rows


def aggregate(values: Sequence[float], drop_extremes_from: int) -> float:
    """The mean; after dropping one highest and one lowest when there are enough scores."""
    ordered = sorted(values)
    if drop_extremes_from and len(ordered) >= max(drop_extremes_from, 3):
        ordered = ordered[1:-1]
    return sum(ordered) / len(ordered)


@dataclass
class SchoolScore:
    school_id: int
    by_criterion: dict[str, float]  # the aggregate per criterion
    members: int  # how many members scored the school

    @property
    def total(self) -> float:
        return round(sum(self.by_criterion.values()), 2)


def round_scores(session: Session, campaign: Campaign, round_code: str) -> dict[int, SchoolScore]:
    """Each scored school's aggregate per criterion and total in a round (one query)."""
    plan = plan_of(campaign)
    round_of(plan, round_code)
    values: dict[tuple[int, str], list[float]] = defaultdict(list)
    members: dict[int, set[int]] = defaultdict(set)
    for row in queries.scores(session, campaign.id, round_code):
        values[(row.school_id, row.criterion)].append(row.points)
        members[row.school_id].add(row.person_id)
    out: dict[int, SchoolScore] = {}
    for (school_id, criterion), points in values.items():
        entry = out.setdefault(school_id, SchoolScore(school_id, {}, len(members[school_id])))
        entry.by_criterion[criterion] = round(aggregate(points, plan.aggregate.drop_extremes_from), 2)
    return out


def final_scores(session: Session, campaign: Campaign) -> dict[int, float]:
    """A potential school's final score (its rounds weighed); a seed's its 导师型 round's total.
    A school missing a round it should have has no final score."""
    plan = plan_of(campaign)
    role_of = roles(session, campaign)
    totals = {r.code: round_scores(session, campaign, r.code) for r in plan.rounds}
    out: dict[int, float] = {}
    for school_id, role in role_of.items():
        wanted = [r for r in plan.rounds if role_matches(role, r.role)]
        if not wanted or any(school_id not in totals[r.code] for r in wanted):
            continue
        if role == ROLE_POTENTIAL:
            out[school_id] = round(sum(totals[r.code][school_id].total * r.weight for r in wanted), 2)
        else:
            out[school_id] = round(sum(totals[r.code][school_id].total for r in wanted) / len(wanted), 2)
    return out


def promote(session: Session, campaign: Campaign, school: School, practices: Sequence[str], *,
            actor: str) -> None:
    """A 标杆种子校 becomes a 导师型学校: its score in the plan's round reaches the line and it
    shows at least the plan's number of replicable practices (criteria categories)."""
    plan = plan_of(campaign)
    entry = queries.entry_of(session, campaign.id, school.id)
    if entry is None or entry.tier is None:
        raise ProgrammeConflict(f"「{school.name}」不是标杆种子校，不能遴选为导师型学校")
    if entry.tier == Tier.mentor:
        raise ProgrammeConflict(f"「{school.name}」已是导师型学校")
    codes = {c.code for c in plan.criteria.categories}
    chosen = list(dict.fromkeys(p.strip() for p in practices if p.strip()))
    unknown = [p for p in chosen if p not in codes]
    if unknown:
        raise ProgrammeError(f"可复制经验的类别「{'、'.join(unknown)}」不在评选标准中")
    if len(chosen) < plan.mentor.min_practices:
        raise ProgrammeConflict(f"「{school.name}」的可复制经验 {len(chosen)} 项，不足 {plan.mentor.min_practices} 项")
    result = round_scores(session, campaign, plan.mentor.round).get(school.id)
    if result is None:
        raise ProgrammeConflict(f"「{school.name}」还没有「{round_of(plan, plan.mentor.round).name}」的评分")
    if result.total < plan.mentor.min_score:
        raise ProgrammeConflict(f"「{school.name}」得分 {result.total:g}，低于导师型学校的 {plan.mentor.min_score:g} 分")
    entry.tier, entry.practices = Tier.mentor, chosen
    session.add(entry)
    record_event(session, type=EventType.programme_promoted.value, actor=actor, campaign_id=campaign.id,
                 payload={"school": school.name, "score": result.total, "practices": chosen})


def scores_of_member(session: Session, campaign: Campaign, person: Person) -> list[PanelScore]:
    """What a panel member scored (all they see of the scores)."""
    return queries.scores(session, campaign.id, person_id=person.id)
