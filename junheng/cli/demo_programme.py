"""`junheng demo`'s 示范校 step (issue 15 §1): a small illustrative programme beside the demo county,
from examples/programme.yaml with its phases moved so that today falls in its 表彰奖励 phase.

The first run walks it through every phase with illustrative scores — sections nominate two
schools, one school applies and passes 复核, one is refused, the panel scores, the best seed
becomes a 导师型学校 and pairs with three potential schools, they are scored, the results' 公示
has ended — and computes the awards, leaving their confirmation to the office's log-in. A later
run only gives the programme's demo accounts new passwords."""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path

from rich.console import Console
from rich.markup import escape

console = Console(soft_wrap=True)

ACCOUNTS = (  # username, role, binding (filled in below)
    ("sfx-office", "office"),
    ("sfx-school", "school"),
    ("sfx-panel", "reviewer"),
)


def _shifted(plan, today: dt.date):
    """The plan with its phases moved so that its last phase began yesterday."""
    delta = (today - dt.timedelta(days=1)) - plan.phases[-1].starts_on
    phases = [p.model_copy(update={"starts_on": p.starts_on + delta, "ends_on": p.ends_on + delta}) for p in plan.phases]
    return plan.model_copy(update={"phases": phases})


def _walk(session, campaign, plan, schools, today: dt.date) -> None:
    from tracker.programmes import awards, pairing, scoring, service

    office = next(p.name for p in plan.people if p.office)
    section = next(u.name for u in plan.units if not u.office)
    rng = random.Random(15)
    members = [m.name for m in plan.panel(plan.rounds[0].panel).members]
    day = {p.code: p.starts_on + (p.ends_on - p.starts_on) // 2 for p in plan.phases}
    codes = [c.code for c in plan.criteria.categories]
    full = {c.code: c.points for c in plan.criteria.categories}

    def points(level: float) -> dict[str, float]:  # a share of each criterion's points, a little noise
        return {c: round(min(full[c], max(0, full[c] * (level + rng.uniform(-0.05, 0.05)))) * 2) / 2 for c in codes}

    seeds, applicant, refused, potentials = schools[:2], schools[2], schools[3], schools[4:7]
    for school in seeds:
        service.nominate(session, campaign, school.name, section, "办学条件和教学质量在同类学校中突出", actor=office)
    service.apply(session, campaign, applicant, points(0.85), "自评各项达到评选标准", actor=applicant.name)
    service.apply(session, campaign, refused, points(0.6), "自评基本达标", actor=refused.name)
    service.review(session, campaign, applicant, True, "经督导室与业务科室复核，达到评选标准", actor=office)
    service.review(session, campaign, refused, False, "生均占有值等指标未达到评选标准", actor=office)
    seed_phase = plan.phase("seed") if any(p.code == "seed" for p in plan.phases) else plan.phases[0]
    service.open_publicity(session, campaign, "seeds", seed_phase.ends_on - dt.timedelta(days=6), seed_phase.ends_on,
                           actor=office)
    levels = {seeds[0].id: 0.9, seeds[1].id: 0.8, applicant.id: 0.78}
    mentor_round = plan.round(plan.mentor.round)
    for school in (*seeds, applicant):
        for member in members:
            scoring.score(session, campaign, mentor_round.code, service.find_person(session, campaign, member), school,
                          points(levels[school.id]), today=day[mentor_round.phase], actor=member)
    scoring.promote(session, campaign, seeds[0], codes[:2], actor=office)
    group = pairing.pair(session, campaign, seeds[0], potentials, actor=office)
    # no pairing task here: its date is past, and the county's sweep would chase it on every run
    assert group.id is not None
    pairing.report(session, campaign, potentials[0], "已开展两次联合教研，导师校派出骨干教师两名", actor=potentials[0].name)
    for school, level in zip((*potentials, refused), (0.9, 0.8, 0.7, 0.5)):
        for scoring_round in (r for r in plan.rounds if r.role == "潜力校"):
            for member in members:
                scoring.score(session, campaign, scoring_round.code, service.find_person(session, campaign, member),
                              school, points(level), today=day[scoring_round.phase], actor=member)
    acceptance = plan.phase(next(r for r in plan.rounds if r.role == "潜力校").phase)
    service.open_publicity(session, campaign, "results", acceptance.ends_on - dt.timedelta(days=6), acceptance.ends_on,
                           actor=office)
    awards.compute(session, campaign, actor=office, today=today)


def programme_demo(plan_path: Path, county_code: str) -> list[dict]:
    """Set up (first run) the demo programme; its accounts with new one-time passwords."""
    from tracker.accounts.service import create_user, find_user, generate_password, set_password
    from tracker.clock import local_today
    from tracker.db import session_scope
    from tracker.plans.programme import load_programme_plan
    from tracker.programmes import queries, service

    today = local_today()
    plan = _shifted(load_programme_plan(plan_path), today).model_copy(update={"beside": county_code})
    rows = []
    with session_scope() as session:
        campaign = queries.campaign_by_code(session, plan.code)
        if campaign is None:
            campaign = service.create_programme(session, plan, actor="演示")
            schools = queries.schools(session, campaign.id)
            if len(schools) < 7:
                console.print("[yellow]注意：示例县学校不足 7 所，示范校项目只建立，不演示各环节。[/yellow]")
            else:
                _walk(session, campaign, plan, schools, today)
            console.print(f"示范校项目：已建立 {escape(plan.name)}（编号 {plan.code}，{len(schools)} 所学校），"
                          f"已走完圈定、申请、复核、公示、评分、结对和验收，表彰类别待办公室确认")
        else:
            console.print(f"示范校项目：{escape(plan.name)} 已存在（编号 {plan.code}），不重复建立")
        schools = queries.schools(session, campaign.id)
        bindings = {"sfx-office": {"person": next(p.name for p in plan.people if p.office)},
                    "sfx-school": {"school": schools[4].name} if len(schools) > 4 else None,
                    "sfx-panel": {"person": plan.panels[0].members[0].name}}
        for username, role in ACCOUNTS:
            binding = bindings[username]
            if binding is None:
                continue
            password = generate_password()
            user = find_user(session, username)
            if user is not None and user.campaign_id != campaign.id:
                console.print(f"[yellow]注意：用户名「{username}」已被另一个创建工作使用，演示不改动它。[/yellow]")
                continue
            if user is None:
                user = create_user(session, campaign, {"username": username, "role": role, "password": password,
                                                       **binding})
            else:
                set_password(session, user, password)
            unit = binding.get("school") or binding.get("person")
            role_name = {"office": "示范校·办公室", "school": "示范校·学校", "reviewer": "示范校·验收组"}[role]
            rows.append({"username": username, "role": role_name, "name": user.name, "unit": unit,
                         "password": password})
    return rows
