"""Reviews (市级复评, 省级评估, 国家审核认定, and the county's own 县级督查): the verdict, and
the findings that become tasks.

A review belongs to a phase. Its findings (反馈问题) come from a sheet the reviewers hand over
(序号, 问题, 指标, 责任单位, 整改时限) or are entered one by one; each becomes a task due at its
rectification deadline. A finding's task of a review above the county belongs to the review's
phase, so the phase's gate waits for every finding to be rectified and verified, and for the
verdict. A review above the county may sit in a phase of another kind (seed 001 puts 市督导室复核
inside 自评申报): that phase's gate then waits for its verdict too.

A 县级督查 (the county's own 督查小组 / 包校督学) has no phase of its own: a round (第一轮, 第二轮 …)
is opened in the phase current at the time, and each of its findings becomes a task of the
phase current when the finding is entered. It needs no verdict, and a verdict recorded for it is
kept on record but never holds a gate: only its open tasks do, as open tasks of their phase.

Functions take a session first and never commit. The levels, verdicts and errors are in
`levels`, the findings sheet in `findings_sheet`, the reads and the gates' verdicts in `queries`;
every name is importable from here as before.
"""

from __future__ import annotations

import datetime as dt

from sqlmodel import Session, select

from tracker.clock import local_date
from tracker.db import utcnow
from tracker.events.service import SYSTEM_ACTOR, record_event
from tracker.org.models import Campaign, Department, Person, Phase, School
from tracker.org.models import PhaseStatus
from tracker.org.service import UnknownName, current_phase, find_department
from tracker.reviews.findings_sheet import (FINDING_COLUMNS, FINDINGS_SHEET_NAME, HEADER_SEARCH_ROWS,
                                            REQUIRED_COLUMNS, FindingInput, FindingsError, finding_from_fields,
                                            parse_date, read_findings_sheet)
from tracker.reviews.levels import (ALL_LEVELS, COUNTY_LEVEL, FINDING_TEXT_MAX, LEVEL_ALIASES, LEVELS, NOTE_MAX,
                                    ROUND_MAX, SCOPE_MAX, TEAM_MAX, VERDICTS, ReviewConflict, ReviewError,
                                    ReviewNotFound, is_county, normalize_level, review_label)
from tracker.reviews.models import Review, ReviewFinding
from tracker.reviews.queries import (ReviewLine, decided_phase_ids, finding_reviews, findings_of, hosting_phase_ids,
                                     latest_verdict, next_seq, review_lines)
from tracker.standards import load_standard
from tracker.tasks.models import Task, TaskOrigin
from tracker.tasks.service import create_task, redate_working_days, working_due

# Callers import every review name from here (``from tracker.reviews import service as reviews``).
__all__ = [
    "ALL_LEVELS", "COUNTY_LEVEL", "FINDING_COLUMNS", "FINDING_TEXT_MAX", "FINDINGS_SHEET_NAME", "HEADER_SEARCH_ROWS",
    "LEVEL_ALIASES", "LEVELS", "NOTE_MAX", "REQUIRED_COLUMNS", "ROUND_MAX", "SCOPE_MAX", "TEAM_MAX", "VERDICTS",
    "FindingInput", "FindingsError", "ReviewConflict", "ReviewError", "ReviewLine", "ReviewNotFound",
    "add_findings", "decided_phase_ids", "find_phase", "finding_from_fields", "finding_phase", "finding_reviews",
    "findings_of", "hosting_phase_ids", "is_county", "latest_verdict", "next_seq", "normalize_level", "open_review",
    "parse_date", "phase_for_level", "read_findings_sheet", "record_verdict", "review_in", "review_label",
    "review_lines",
]

_CHINESE_DIGITS = "零一二三四五六七八九十"


# ---------------------------------------------------------------------------------------------
# Reviews and verdicts


def find_phase(session: Session, campaign: Campaign, code_or_name: str) -> Phase:
    """A phase of the campaign by its 编号 or its 名称."""
    text = (code_or_name or "").strip()
    phases = list(session.exec(select(Phase).where(Phase.campaign_id == campaign.id).order_by(Phase.ordinal)))
    for phase in phases:
        if text in (phase.code, phase.name):
            return phase
    known = "、".join(f"{p.code}（{p.name}）" for p in phases)
    raise ReviewError(f"创建工作「{campaign.code}」中没有编号或名称为「{code_or_name}」的阶段；现有阶段：{known}", "phase")


def phase_for_level(session: Session, campaign: Campaign, level: str, today: dt.date | None = None) -> Phase:
    """The phase a review of ``level`` goes into when none is named: for 市级/省级/国家 the
    campaign's phase of that kind (市级 → the 市级复评 phase …), else the phase current on
    ``today`` (a plan may hold its city check inside another phase); for a 县级督查 the current
    phase."""
    level = normalize_level(level)
    today = today or local_date(utcnow())
    if level in LEVELS:
        kind = LEVELS[level]
        phase = session.exec(select(Phase).where(Phase.campaign_id == campaign.id, Phase.kind == kind.value)
                             .order_by(Phase.ordinal)).first()
        if phase is not None:
            return phase
    phase = current_phase(session, campaign, today)
    if phase is None:
        if level in LEVELS:
            raise ReviewError(f"创建工作「{campaign.name}」没有类型为「{level}」评估的阶段，且所有阶段均已通过；"
                              "请用 --phase 指定阶段", "phase")
        raise ReviewError(f"创建工作「{campaign.name}」的所有阶段均已通过关口，不能再登记县级督查", "phase")
    return phase


def _round_number(n: int) -> str:
    if n <= 10:
        return _CHINESE_DIGITS[n]
    if n < 20:
        return "十" + _CHINESE_DIGITS[n - 10]
    if n < 100:
        return _CHINESE_DIGITS[n // 10] + "十" + (_CHINESE_DIGITS[n % 10] if n % 10 else "")
    return str(n)


_FIELD_NAMES = {"round_name": "轮次", "team": "督查组", "scope": "督查范围", "note": "说明"}


def _bounded(field: str, value: str, limit: int) -> str:
    text = (value or "").strip()
    name = _FIELD_NAMES[field]
    if len(text) > limit:
        raise ReviewError(f"「{name}」过长：{len(text)} 个字，最多 {limit} 个字", field)
    if any(ord(ch) < 32 and ch not in "\n\t" for ch in text):
        raise ReviewError(f"「{name}」含有不允许的控制字符", field)
    return text


def open_review(session: Session, campaign: Campaign, phase: Phase, level: str, held_on: dt.date | None,
                actor: str = SYSTEM_ACTOR, *, round_name: str = "", team: str = "", scope: str = "") -> Review:
    """Record that a review of ``level`` is (to be) held on ``held_on`` in ``phase``.

    A 县级督查 round is named (``round_name``, by default 第一轮, 第二轮 … in the order opened; a
    name already used in the campaign is refused) and may say its 督查组 (``team``: name and
    members) and ``scope``. It cannot be opened in a phase whose gate has passed."""
    level = normalize_level(level)
    if phase.campaign_id != campaign.id:
        raise ReviewError(f"阶段「{phase.name}」不属于创建工作「{campaign.name}」")
    round_name = _bounded("round_name", round_name, ROUND_MAX)
    team = _bounded("team", team, TEAM_MAX)
    scope = _bounded("scope", scope, SCOPE_MAX)
    if level == COUNTY_LEVEL:
        if PhaseStatus(phase.status) is PhaseStatus.passed:
            raise ReviewError(f"阶段「{phase.name}」已通过关口，不能在其中登记县级督查", "phase")
        rounds = list(session.exec(select(Review.id, Review.round_name).where(
            Review.campaign_id == campaign.id, Review.level == COUNTY_LEVEL)))
        if not round_name:
            used = {name for _, name in rounds}
            n = len(rounds) + 1
            while f"第{_round_number(n)}轮" in used:
                n += 1
            round_name = f"第{_round_number(n)}轮"
        clash = next((rid for rid, name in rounds if name == round_name), None)
        if clash is not None:
            raise ReviewError(f"县级督查「{round_name}」已登记（评估 #{clash}），请换一个轮次名称", "round_name")
    review = Review(campaign_id=campaign.id, phase_id=phase.id, level=level, held_on=held_on,
                    round_name=round_name, team=team, scope=scope)
    session.add(review)
    session.flush()
    payload = {"review_id": review.id, "phase_id": phase.id, "phase": phase.code, "level": level,
               "held_on": held_on.isoformat() if held_on else None}
    if level == COUNTY_LEVEL or round_name or team or scope:
        payload.update(round=round_name, team=team, scope=scope)
    record_event(session, type="review.opened", actor=actor, campaign_id=campaign.id, payload=payload)
    return review


def _actor(actor: str | Person) -> tuple[str, int | None]:
    return (actor.name, actor.id) if isinstance(actor, Person) else (actor, None)


def record_verdict(session: Session, review: Review, verdict: str, actor: str | Person, note: str = "") -> Review:
    """Record the reviewers' verdict (通过 / 不通过 / 有条件通过). Writes ``review.verdict``; the
    dispatcher then checks the phase's gate. A verdict is recorded once."""
    verdict = (verdict or "").strip()
    note = _bounded("note", note, NOTE_MAX)
    if verdict not in VERDICTS:
        raise ReviewError(f"评估结论「{verdict}」无效，应为 {'、'.join(VERDICTS)} 之一", "verdict")
    if review.verdict is not None:
        raise ReviewConflict(f"评估 #{review.id}（{review_label(review)}）已录入结论「{review.verdict}」，不能重复录入",
                             "verdict")
    name, person_id = _actor(actor)
    now = utcnow()
    review.verdict = verdict
    review.verdict_at = now
    review.recorded_by = name
    if note:
        review.note = note.strip()
    session.add(review)
    session.flush()
    record_event(session, type="review.verdict", actor=name, actor_id=person_id, campaign_id=review.campaign_id,
                 payload={"review_id": review.id, "phase_id": review.phase_id, "level": review.level,
                          "verdict": verdict, "note": review.note}, at=now)
    return review


# ---------------------------------------------------------------------------------------------
# Findings


def _finding_title(review: Review, finding: FindingInput) -> str:
    text = finding.text.strip().replace("\n", " ")
    short = text if len(text) <= 30 else text[:29] + "…"
    if is_county(review):
        return f"【{review_label(review)}问题{finding.seq}】{short}"
    return f"【{review.level}反馈问题{finding.seq}】{short}"


def _find_unit(session: Session, campaign: Campaign, name: str) -> Department | School | None:
    try:
        return find_department(session, campaign, name)
    except UnknownName:
        pass
    return session.exec(select(School).where(School.campaign_id == campaign.id, School.name == name)).first()


def finding_phase(session: Session, review: Review, today: dt.date) -> Phase:
    """The phase a finding's task goes into: the review's, or for a 县级督查 the phase current
    on ``today`` (its own phase once every phase has passed)."""
    if is_county(review):
        campaign = session.get(Campaign, review.campaign_id)
        assert campaign is not None
        phase = current_phase(session, campaign, today)
        if phase is not None:
            return phase
    phase = session.get(Phase, review.phase_id)
    assert phase is not None
    return phase


def add_findings(session: Session, review: Review, findings: list[FindingInput], actor: str | Person) -> list[Task]:
    """Store each finding and open its task (origin finding, due at the rectification deadline,
    in the review's phase, or for a 县级督查 in the phase current now). Everything is checked first: an unknown unit or indicator, or a
    序号 already recorded with other text, stores nothing. Re-entering the same findings returns
    their tasks and creates nothing.

    A finding whose 整改时限 has already passed when it is entered keeps that date (on the finding,
    and as its task's 原定时限); its task is due the plan's 逾期顺延工作日 working days later, and
    its measures say so."""
    campaign = session.get(Campaign, review.campaign_id)
    today = local_date(utcnow())
    phase = finding_phase(session, review, today)
    assert campaign is not None and phase is not None
    standard = load_standard(campaign.standard_id)
    codes = {i.code for i in standard.indicators}
    codes |= {c.code for c in (*standard.application_conditions, *standard.vetoes)}
    existing = {f.seq: f for f in session.exec(select(ReviewFinding).where(ReviewFinding.review_id == review.id))}

    problems: list[str] = []
    resolved: list[tuple[FindingInput, list[Department | School]]] = []
    seen: dict[int, str] = {}
    for finding in findings:
        where = finding.where()
        if finding.seq in seen:
            problems.append(f"{where}「序号」：序号 {finding.seq} 与{seen[finding.seq]}重复")
        seen[finding.seq] = where
        if len(finding.text.strip()) > FINDING_TEXT_MAX:
            problems.append(f"{where}「问题」：过长，最多 {FINDING_TEXT_MAX} 个字")
        if finding.indicator and finding.indicator not in codes:
            problems.append(f"{where}「指标」：未知的指标「{finding.indicator}」（标准 {standard.id} 中没有）")
        units: list[Department | School] = []
        for name in finding.units:
            unit = _find_unit(session, campaign, name)
            if unit is None:
                problems.append(f"{where}「责任单位」：未知单位「{name}」（须是方案中的责任单位或本县学校的名称）")
            elif unit not in units:
                units.append(unit)
        if len(units) > 1 and any(isinstance(u, School) for u in units[1:]):
            problems.append(f"{where}「责任单位」：学校只能作为唯一或第一个（牵头）责任单位")
        old = existing.get(finding.seq)
        if old is not None and old.text.strip() != finding.text.strip():
            problems.append(f"{where}「问题」：本次评估的序号 {finding.seq} 已录入为「{old.text}」，与本次内容不同；"
                            "请改用新的序号")
        resolved.append((finding, units))
    if problems:
        raise FindingsError(f"评估 #{review.id}（{review_label(review)}）的反馈问题", problems)

    name, person_id = _actor(actor)
    working_days = redate_working_days(campaign)
    tasks: list[Task] = []
    added: list[int] = []
    redated: list[int] = []
    for finding, units in resolved:
        lead = units[0]
        stored = existing.get(finding.seq)
        if stored is None:
            stored = ReviewFinding(
                campaign_id=campaign.id, review_id=review.id, seq=finding.seq, text=finding.text.strip(),
                indicator=finding.indicator or None,
                department_id=lead.id if isinstance(lead, Department) else None,
                school_id=lead.id if isinstance(lead, School) else None,
                due_on=finding.due_on)
            session.add(stored)
            session.flush()
            added.append(stored.id)
        due = working_due(finding.due_on, today, working_days)
        deadline = (f"原定整改时限 {finding.due_on.isoformat()} 已过，限 {due.due_on.isoformat()} 前整改到位"
                    if due.redated else f"限 {finding.due_on.isoformat()} 前整改到位")
        measures = f"{finding.text.strip().rstrip('。')}。{deadline}，并提交整改报告和佐证材料。"
        tasks.append(create_task(
            session, campaign=campaign, phase=phase, title=_finding_title(review, finding), measures=measures,
            origin=TaskOrigin.finding, origin_key=f"finding|{review.id}|{finding.seq}", due_on=finding.due_on,
            department=lead if isinstance(lead, Department) else None,
            responsible_school=lead if isinstance(lead, School) else None,
            indicator=finding.indicator or None,
            cooperating=[u for u in units[1:] if isinstance(u, Department)],
            actor=actor if isinstance(actor, Person) else name, finding_id=stored.id, today=today))
        if stored.id in added and tasks[-1].planned_due_on is not None:
            redated.append(tasks[-1].id)
    if added:
        record_event(session, type="review.findings_added", actor=name, actor_id=person_id,
                     campaign_id=campaign.id,
                     payload={"review_id": review.id, "phase_id": phase.id, "findings": added,
                              "tasks": [t.id for t in tasks], "redated": redated})
    return tasks


def review_in(session: Session, campaign: Campaign, review_id: int) -> Review:
    """The campaign's review ``review_id`` (another campaign's does not exist here)."""
    review = session.get(Review, review_id)
    if review is None or review.campaign_id != campaign.id:
        raise ReviewNotFound(f"创建工作「{campaign.code}」中没有编号为 #{review_id} 的评估")
    return review

