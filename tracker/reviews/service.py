"""Reviews (市级复评, 省级评估, 国家审核认定): the verdict, and the findings that become tasks.

A review belongs to a phase. Its findings (反馈问题) come from a sheet the reviewers hand over
(序号, 问题, 指标, 责任单位, 整改时限) or from the CLI; each becomes a task due at its
rectification deadline. The finding's task belongs to the review's phase, so the phase's gate
waits for every finding to be rectified and verified, and for the verdict.

Functions take a session first and never commit.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field
from sqlmodel import Session, select

from tracker.clock import local_date
from tracker.db import utcnow
from tracker.events.service import SYSTEM_ACTOR, record_event
from tracker.org.models import Campaign, Department, Person, Phase, School
from tracker.org.service import UnknownName, find_department
from tracker.plans.kinds import PhaseKind
from tracker.reviews.models import Review, ReviewFinding
from tracker.standards import load_standard
from tracker.tasks.models import Task, TaskOrigin
from tracker.tasks.service import create_task, redate_working_days, working_due
from tracker.errors import ErrorDetail, ErrorKind, JunhengError

LEVELS: dict[str, PhaseKind] = {
    "市级": PhaseKind.review_city,
    "省级": PhaseKind.review_province,
    "国家": PhaseKind.review_national,
}
LEVEL_ALIASES = {"市": "市级", "市级复评": "市级", "省": "省级", "省级评估": "省级", "国家级": "国家",
                 "国家审核认定": "国家", "教育部": "国家"}
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
    """A review action that cannot be done as asked (Chinese message)."""


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

    def where(self) -> str:
        return f"第 {self.row} 行" if self.row is not None else f"序号 {self.seq}"


# ---------------------------------------------------------------------------------------------
# Reviews and verdicts


def normalize_level(level: str) -> str:
    text = (level or "").strip()
    text = LEVEL_ALIASES.get(text, text)
    if text not in LEVELS:
        raise ReviewError(f"评估级别「{level}」无效，应为 {'、'.join(LEVELS)} 之一")
    return text


def phase_for_level(session: Session, campaign: Campaign, level: str) -> Phase:
    """The campaign's phase for a review level (市级 → the 市级复评 phase …)."""
    kind = LEVELS[normalize_level(level)]
    phase = session.exec(select(Phase).where(Phase.campaign_id == campaign.id, Phase.kind == kind.value)
                         .order_by(Phase.ordinal)).first()
    if phase is None:
        raise ReviewError(f"创建工作「{campaign.name}」没有类型为「{level}」评估的阶段，请用 --phase 指定阶段")
    return phase


def open_review(session: Session, campaign: Campaign, phase: Phase, level: str, held_on: dt.date | None,
                actor: str = SYSTEM_ACTOR) -> Review:
    """Record that a review of ``level`` is (to be) held on ``held_on`` in ``phase``."""
    level = normalize_level(level)
    if phase.campaign_id != campaign.id:
        raise ReviewError(f"阶段「{phase.name}」不属于创建工作「{campaign.name}」")
    review = Review(campaign_id=campaign.id, phase_id=phase.id, level=level, held_on=held_on)
    session.add(review)
    session.flush()
    record_event(session, type="review.opened", actor=actor, campaign_id=campaign.id,
                 payload={"review_id": review.id, "phase_id": phase.id, "phase": phase.code, "level": level,
                          "held_on": held_on.isoformat() if held_on else None})
    return review


def _actor(actor: str | Person) -> tuple[str, int | None]:
    return (actor.name, actor.id) if isinstance(actor, Person) else (actor, None)


def record_verdict(session: Session, review: Review, verdict: str, actor: str | Person, note: str = "") -> Review:
    """Record the reviewers' verdict (通过 / 不通过 / 有条件通过). Writes ``review.verdict``; the
    dispatcher then checks the phase's gate. A verdict is recorded once."""
    verdict = (verdict or "").strip()
    if verdict not in VERDICTS:
        raise ReviewError(f"评估结论「{verdict}」无效，应为 {'、'.join(VERDICTS)} 之一")
    if review.verdict is not None:
        raise ReviewError(f"评估 #{review.id}（{review.level}）已录入结论「{review.verdict}」，不能重复录入",
                          kind=ErrorKind.conflict)
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
    return f"【{review.level}反馈问题{finding.seq}】{short}"


def _find_unit(session: Session, campaign: Campaign, name: str) -> Department | School | None:
    try:
        return find_department(session, campaign, name)
    except UnknownName:
        pass
    return session.exec(select(School).where(School.campaign_id == campaign.id, School.name == name)).first()


def add_findings(session: Session, review: Review, findings: list[FindingInput], actor: str | Person) -> list[Task]:
    """Store each finding and open its task (origin finding, due at the rectification deadline,
    in the review's phase). Everything is checked first: an unknown unit or indicator, or a
    序号 already recorded with other text, stores nothing. Re-entering the same findings returns
    their tasks and creates nothing.

    A finding whose 整改时限 has already passed when it is entered keeps that date (on the finding,
    and as its task's 原定时限); its task is due the plan's 逾期顺延工作日 working days later, and
    its measures say so."""
    campaign = session.get(Campaign, review.campaign_id)
    phase = session.get(Phase, review.phase_id)
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
        raise FindingsError(f"评估 #{review.id}（{review.level}）的反馈问题", problems)

    name, person_id = _actor(actor)
    today = local_date(utcnow())
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
