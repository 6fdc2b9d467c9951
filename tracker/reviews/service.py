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

Functions take a session first and never commit.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from pathlib import Path

from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import case, func
from sqlmodel import Session, select

from tracker.clock import local_date
from tracker.db import utcnow
from tracker.events.service import SYSTEM_ACTOR, record_event
from tracker.org.models import Campaign, Department, Person, Phase, School
from tracker.org.models import PhaseStatus
from tracker.org.service import UnknownName, current_phase, find_department
from tracker.plans.kinds import PhaseKind
from tracker.reviews.models import Review, ReviewFinding
from tracker.standards import load_standard
from tracker.tasks.lifecycle import OPEN
from tracker.tasks.models import Task, TaskOrigin
from tracker.tasks.service import create_task, redate_working_days, working_due
from tracker.errors import ErrorDetail, ErrorKind, JunhengError

# the reviews above the county, each with the kind of phase it normally has
LEVELS: dict[str, PhaseKind] = {
    "市级": PhaseKind.review_city,
    "省级": PhaseKind.review_province,
    "国家": PhaseKind.review_national,
}
COUNTY_LEVEL = "县级督查"  # the county's own 督查: no phase of its own, no verdict needed
ALL_LEVELS = (*LEVELS, COUNTY_LEVEL)
LEVEL_ALIASES = {"市": "市级", "市级复评": "市级", "市级复核": "市级", "市督导室复核": "市级", "省": "省级",
                 "省级评估": "省级", "国家级": "国家", "国家审核认定": "国家", "教育部": "国家",
                 "县级": COUNTY_LEVEL, "县": COUNTY_LEVEL, "督查": COUNTY_LEVEL, "县督查": COUNTY_LEVEL,
                 "县级督导": COUNTY_LEVEL, "专项督查": COUNTY_LEVEL}
# bounds on what the office types about a round (the API checks the same)
ROUND_MAX, TEAM_MAX, SCOPE_MAX, NOTE_MAX = 32, 500, 500, 500
FINDING_TEXT_MAX = 2000
_CHINESE_DIGITS = "零一二三四五六七八九十"
VERDICTS = ("通过", "不通过", "有条件通过")

# The findings sheet: contract header → spellings accepted.
FINDING_COLUMNS: dict[str, tuple[str, ...]] = {
    "序号": ("序号", "编号"),
    "问题": ("问题", "反馈问题", "问题描述", "存在问题"),
    "指标": ("指标", "指标编号", "对应指标"),
    "责任单位": ("责任单位", "整改责任单位", "牵头单位"),
    "整改时限": ("整改时限", "完成时限", "整改期限", "整改时间"),
}
REQUIRED_COLUMNS = ("序号", "问题", "责任单位", "整改时限")
FINDINGS_SHEET_NAME = "反馈问题"
HEADER_SEARCH_ROWS = 10
_DATE = re.compile(r"^\s*(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?\s*(前|之前|以前)?\s*$")
_SPLIT_UNITS = re.compile(r"[、，,；;/\s]+")


class ReviewError(JunhengError, ValueError):
    """A review action that cannot be done as asked (Chinese message); ``field`` names the input
    at fault (level, phase, round_name, team, scope, verdict, note) when one is."""

    def __init__(self, message: str, field: str | None = None, *, kind: ErrorKind | None = None):
        details = [ErrorDetail(message, location=f"body.{field}")] if field else []
        super().__init__(message, kind=kind, details=details)
        self.field = field


class ReviewNotFound(ReviewError, kind=ErrorKind.not_found):
    """No such review in the campaign."""


class ReviewConflict(ReviewError, kind=ErrorKind.conflict):
    """The review's state does not allow the move (a verdict recorded twice)."""

class FindingsError(JunhengError, ValueError):
    """Findings that cannot be stored. ``problems`` name the row and column (Chinese)."""

    def __init__(self, source: str, problems: list[str]):
        self.source = source
        self.problems = problems
        summary = f"{source}有 {len(problems)} 处问题，未录入任何反馈问题"
        super().__init__(f"{summary}：\n" + "\n".join(problems), summary=summary,
                         details=[ErrorDetail(p) for p in problems])


class FindingInput(BaseModel):
    """One finding as read from a sheet or typed on the CLI (validated, not yet stored)."""

    model_config = ConfigDict(frozen=True)

    seq: int = Field(ge=1)
    text: str = Field(min_length=1)
    indicator: str | None = None
    units: list[str] = Field(min_length=1)  # the first leads; a unit or a school name
    due_on: dt.date
    row: int | None = None  # the sheet row it came from, for messages
    place: str | None = None  # or where else it came from (an API body's findings[0])

    def where(self) -> str:
        if self.row is not None:
            return f"第 {self.row} 行"
        return self.place or f"序号 {self.seq}"


# ---------------------------------------------------------------------------------------------
# Reviews and verdicts


def normalize_level(level: str) -> str:
    text = (level or "").strip()
    text = LEVEL_ALIASES.get(text, text)
    if text not in ALL_LEVELS:
        raise ReviewError(f"评估级别「{level}」无效，应为 {'、'.join(ALL_LEVELS)} 之一", "level")
    return text


def is_county(review: Review) -> bool:
    return review.level == COUNTY_LEVEL


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


def review_label(review: Review) -> str:
    """How a review is named to people: 市级, or 县级督查第一轮."""
    return f"{review.level}{review.round_name}" if is_county(review) else review.level


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


def finding_from_fields(*, text: str, units: list[str] | str, due: str | dt.date, indicator: str | None = None,
                        seq: int, where: str = "") -> FindingInput:
    """One finding as typed (CLI, API): every problem named by its field, raised together as
    ``FindingsError``. ``units`` may be one text with several names separated by 、."""
    prefix = f"{where}" if where else ""
    problems: list[str] = []
    text = (text or "").strip()
    if not text:
        problems.append(f"{prefix}「问题」：不能为空")
    names = [units] if isinstance(units, str) else list(units)
    unit_names = [u for name in names for u in _SPLIT_UNITS.split(name or "") if u]
    if not unit_names:
        problems.append(f"{prefix}「责任单位」：不能为空")
    due_on = parse_date(due) if due else None
    if due_on is None:
        problems.append(f"{prefix}「整改时限」：「{due}」不是日期，应写作 2027-06-30" if due else f"{prefix}「整改时限」：不能为空")
    if seq < 1:
        problems.append(f"{prefix}「序号」：应为正整数")
    if problems:
        raise FindingsError("反馈问题", problems)
    assert due_on is not None
    indicator = (indicator or "").strip().removeprefix("指标").strip() or None
    return FindingInput(seq=seq, text=text, indicator=indicator, units=unit_names, due_on=due_on,
                        place=where or None)


def next_seq(session: Session, review: Review) -> int:
    """The 序号 a finding entered on its own gets: one past the review's highest."""
    top = session.exec(select(func.max(ReviewFinding.seq)).where(ReviewFinding.review_id == review.id)).one()
    return int(top or 0) + 1


def findings_of(session: Session, review: Review) -> list[ReviewFinding]:
    """The review's findings in 序号 order."""
    return list(session.exec(select(ReviewFinding).where(ReviewFinding.review_id == review.id)
                             .order_by(ReviewFinding.seq)))


def review_in(session: Session, campaign: Campaign, review_id: int) -> Review:
    """The campaign's review ``review_id`` (another campaign's does not exist here)."""
    review = session.get(Review, review_id)
    if review is None or review.campaign_id != campaign.id:
        raise ReviewNotFound(f"创建工作「{campaign.code}」中没有编号为 #{review_id} 的评估")
    return review


# ---------------------------------------------------------------------------------------------
# What the lists show


@dataclass(frozen=True)
class ReviewLine:
    """A review with its phase and how far its findings are rectified."""

    review: Review
    phase_code: str
    phase_name: str
    findings: int
    tasks: int
    open_tasks: int

    @property
    def label(self) -> str:
        return review_label(self.review)


def review_lines(session: Session, campaign: Campaign, level: str | None = None) -> list[ReviewLine]:
    """The campaign's reviews (of one level if given), oldest first: three queries however many."""
    stmt = select(Review).where(Review.campaign_id == campaign.id)
    if level is not None:
        stmt = stmt.where(Review.level == normalize_level(level))
    rows = list(session.exec(stmt.order_by(Review.id)))
    phases = {p.id: p for p in session.exec(select(Phase).where(Phase.campaign_id == campaign.id))}
    findings = dict(session.exec(select(ReviewFinding.review_id, func.count()).where(
        ReviewFinding.campaign_id == campaign.id).group_by(ReviewFinding.review_id)).all())
    tasks = {review_id: (int(total), int(open_ or 0)) for review_id, total, open_ in session.exec(
        select(ReviewFinding.review_id, func.count(Task.id),
               func.sum(case((Task.status.in_([s.value for s in OPEN]), 1), else_=0)))
        .join(Task, Task.finding_id == ReviewFinding.id)
        .where(ReviewFinding.campaign_id == campaign.id).group_by(ReviewFinding.review_id)).all()}
    return [ReviewLine(review=r, phase_code=phases[r.phase_id].code, phase_name=phases[r.phase_id].name,
                       findings=int(findings.get(r.id, 0)), tasks=tasks.get(r.id, (0, 0))[0],
                       open_tasks=tasks.get(r.id, (0, 0))[1]) for r in rows]


def finding_reviews(session: Session, finding_ids: list[int]) -> dict[int, Review]:
    """The review of each finding, by finding id (for lists that show where a finding came from)."""
    if not finding_ids:
        return {}
    return {fid: review for fid, review in session.exec(
        select(ReviewFinding.id, Review).join(Review, Review.id == ReviewFinding.review_id)
        .where(ReviewFinding.id.in_(finding_ids))).all()}


# ---------------------------------------------------------------------------------------------
# Gates: which verdicts count


def latest_verdict(session: Session, phase_id: int) -> Review | None:
    """The latest verdict that counts for a phase's gate: of a review above the county held in
    it (a 县级督查's verdict never holds a gate)."""
    return session.exec(
        select(Review).where(Review.phase_id == phase_id, Review.level != COUNTY_LEVEL, Review.verdict.is_not(None))
        .order_by(Review.verdict_at.desc(), Review.id.desc())
    ).first()


def hosting_phase_ids(session: Session, campaign_id: int) -> set[int]:
    """The phases that hold a review above the county (whatever their kind): their gates wait
    for its verdict."""
    return set(session.exec(select(Review.phase_id).where(
        Review.campaign_id == campaign_id, Review.level != COUNTY_LEVEL).distinct()).all())


def decided_phase_ids(session: Session, campaign_id: int) -> set[int]:
    """The phases with a verdict of a review above the county."""
    return set(session.exec(select(Review.phase_id).where(
        Review.campaign_id == campaign_id, Review.level != COUNTY_LEVEL, Review.verdict.is_not(None)).distinct()).all())


# ---------------------------------------------------------------------------------------------
# The findings sheet


def parse_date(value: object) -> dt.date | None:
    """A deadline cell: a date, or text like 2027-06-30, 2027年6月30日, 2027/6/30 (前)."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        match = _DATE.match(value)
        if match:
            try:
                return dt.date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
            except ValueError:
                return None
    return None


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _grid(path: Path) -> list[tuple[int, list[object]]]:
    suffix = path.suffix.lower()
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise FindingsError(f"文件「{path.name}」", [f"找不到文件：{path}"]) from None
    except OSError as exc:
        raise FindingsError(f"文件「{path.name}」", [f"无法读取文件：{exc}"]) from None
    if suffix in (".xlsx", ".xlsm"):
        from openpyxl import load_workbook

        try:
            wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        except Exception as exc:  # openpyxl raises many kinds on damaged files
            raise FindingsError(f"文件「{path.name}」", [f"无法读取 Excel 文件（文件损坏或不是 .xlsx 格式）：{exc}"]) from None
        try:
            ws = next((wb[n] for n in wb.sheetnames if n.strip() == FINDINGS_SHEET_NAME), wb.worksheets[0])
            rows = [list(r) for r in ws.iter_rows(values_only=True)]
        finally:
            wb.close()
    elif suffix in (".csv", ".txt"):
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise FindingsError(f"文件「{path.name}」", ["文件不是 UTF-8 编码：请在 Excel 中另存为「CSV UTF-8（逗号分隔）」或使用 .xlsx"]) from None
        rows = [list(r) for r in csv.reader(io.StringIO(text, newline=""))]
    else:
        raise FindingsError(f"文件「{path.name}」", [f"不支持的文件类型「{suffix or '无扩展名'}」，请使用 .xlsx 或 UTF-8 编码的 .csv"])
    return [(n, r) for n, r in enumerate(rows, start=1) if any(_cell_text(v) for v in r)]


def read_findings_sheet(path: str | Path) -> list[FindingInput]:
    """Read a review's findings sheet (.xlsx, first sheet or one named 反馈问题, or UTF-8 .csv).

    Columns: 序号, 问题, 指标 (optional), 责任单位 (several separated by 、; the first leads),
    整改时限. Every problem is collected and raised together as ``FindingsError``, naming the
    row and column. Whether the units and indicators exist is checked by ``add_findings``.
    """
    path = Path(path)
    source = f"文件「{path.name}」"
    grid = _grid(path)
    if not grid:
        raise FindingsError(source, ["文件为空，没有任何反馈问题"])
    header_at = None
    positions: dict[str, int] = {}
    for number, values in grid[:HEADER_SEARCH_ROWS]:
        texts = [_cell_text(v).replace(" ", "") for v in values]
        found = {col: texts.index(s) for col, spellings in FINDING_COLUMNS.items() for s in spellings if s in texts}
        if "问题" in found:
            header_at, positions = number, found
            break
    if header_at is None:
        raise FindingsError(source, [f"前 {HEADER_SEARCH_ROWS} 行中找不到表头（须有「问题」列）"])
    missing = [c for c in REQUIRED_COLUMNS if c not in positions]
    if missing:
        raise FindingsError(source, [f"第 {header_at} 行表头缺少列：{'、'.join(missing)}"])

    problems: list[str] = []
    findings: list[FindingInput] = []
    seen: dict[int, int] = {}
    for number, values in grid:
        if number <= header_at:
            continue

        def cell(col: str) -> object:
            i = positions.get(col)
            return values[i] if i is not None and i < len(values) else None

        where = f"第 {number} 行"
        row_problems: list[str] = []
        seq_raw = _cell_text(cell("序号"))
        seq = None
        try:
            seq = int(float(seq_raw)) if seq_raw else None
            if seq is not None and (seq < 1 or float(seq_raw) != seq):
                seq = None
        except ValueError:
            seq = None
        if seq is None:
            row_problems.append(f"{where}「序号」：「{seq_raw}」不是正整数" if seq_raw else f"{where}「序号」：不能为空")
        elif seq in seen:
            row_problems.append(f"{where}「序号」：序号 {seq} 与第 {seen[seq]} 行重复")
        else:
            seen[seq] = number
        text = _cell_text(cell("问题"))
        if not text:
            row_problems.append(f"{where}「问题」：不能为空")
        units = [u for u in _SPLIT_UNITS.split(_cell_text(cell("责任单位"))) if u]
        if not units:
            row_problems.append(f"{where}「责任单位」：不能为空")
        due_raw = cell("整改时限")
        due = parse_date(due_raw)
        if due is None:
            shown = _cell_text(due_raw)
            row_problems.append(f"{where}「整改时限」：「{shown}」不是日期，应写作 2027-06-30 或 2027年6月30日"
                                if shown else f"{where}「整改时限」：不能为空")
        indicator = _cell_text(cell("指标")).removeprefix("指标").strip() or None
        if row_problems:
            problems += row_problems
            continue
        assert seq is not None and due is not None
        findings.append(FindingInput(seq=seq, text=text, indicator=indicator, units=units, due_on=due, row=number))
    if problems:
        raise FindingsError(source, problems)
    if not findings:
        raise FindingsError(source, [f"第 {header_at} 行表头之下没有任何反馈问题"])
    return findings
