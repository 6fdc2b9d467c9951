"""The programme's spreadsheets: the score sheet a panel member fills in (one row per school, one
column per criterion) and reads back, and the certificate list (证书名单) of confirmed awards.
Written through ``tracker.spreadsheets`` (text never a formula)."""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass

from sqlmodel import Session

from tracker.org.models import Campaign, Person
from tracker.plans.programme_sections import AWARD_CATEGORIES
from tracker.programmes import queries
from tracker.programmes.awards import confirmed
from tracker.programmes.scoring import role_matches, round_of, score
from tracker.programmes.service import ProgrammeConflict, ProgrammeError, ProgrammeNotFound, find_school, plan_of, roles
from tracker.spreadsheets import new_workbook, workbook_bytes

SHEET_SCHOOL = "学校"
MAX_SHEET_BYTES = 2 * 1024 * 1024


def score_sheet(session: Session, campaign: Campaign, round_code: str, person: Person) -> bytes:
    """A blank (or already filled) score sheet of a round for one member: the schools it scores."""
    from openpyxl.styles import Font

    plan = plan_of(campaign)
    scoring = round_of(plan, round_code)
    wb = new_workbook()
    ws = wb.active
    ws.title = "评分"
    ws.append([f"{plan.name} · {scoring.name} · 评分人：{person.name}"])
    criteria = plan.criteria.categories
    ws.append([SHEET_SCHOOL, *(f"{c.code} {c.name}（{c.points:g}分）" for c in criteria)])
    for cell in ws[2]:
        cell.font = Font(bold=True)
    given = {(s.school_id, s.criterion): s.points for s in queries.scores(session, campaign.id, round_code,
                                                                          person_id=person.id)}
    role_of = roles(session, campaign)
    for school in queries.schools(session, campaign.id):
        if role_matches(role_of[school.id], scoring.role) and school.id != person.school_id:
            ws.append([school.name, *(given.get((school.id, c.code)) for c in criteria)])
    ws.column_dimensions["A"].width = 24
    return workbook_bytes(wb)


@dataclass
class SheetRow:
    row: int
    school: str
    points: dict[str, float]


def read_score_sheet(campaign: Campaign, content: bytes) -> list[SheetRow]:
    """The rows of a filled score sheet; a bad cell is an error naming its row and column, and
    a row left blank is skipped (the school is not scored by this sheet)."""
    if len(content) > MAX_SHEET_BYTES:
        raise ProgrammeError(f"评分表过大（{len(content) // 1024} KB），不能超过 {MAX_SHEET_BYTES // 1024} KB")
    from openpyxl import load_workbook

    plan = plan_of(campaign)
    try:
        ws = load_workbook(io.BytesIO(content), read_only=True, data_only=True).worksheets[0]
    except Exception as exc:  # noqa: BLE001 — any unreadable file is the user's to fix
        raise ProgrammeError(f"无法读取评分表（{type(exc).__name__}）：请上传本系统生成的 .xlsx") from None
    rows = list(ws.iter_rows(min_row=2, values_only=True))
    if not rows or not rows[0] or str(rows[0][0] or "").strip() != SHEET_SCHOOL:
        raise ProgrammeError("评分表第 2 行应为表头（第一列「学校」），请使用本系统生成的评分表")
    codes = [str(h or "").split(" ")[0] for h in rows[0][1:]]
    known = [c.code for c in plan.criteria.categories]
    if codes[:len(known)] != known:
        raise ProgrammeError(f"评分表的列应为评选标准的类别 {'、'.join(known)}，现为 {'、'.join(codes) or '（无）'}")
    out = []
    for offset, values in enumerate(rows[1:], start=3):
        if not values or not str(values[0] or "").strip():
            continue
        cells = list(values[1:len(known) + 1]) + [None] * max(0, len(known) + 1 - len(values))
        if all(v is None or str(v).strip() == "" for v in cells):
            continue
        points = {}
        for code, value in zip(known, cells):
            try:
                points[code] = float(value)
            except (TypeError, ValueError):
                raise ProgrammeError(f"评分表第 {offset} 行「{values[0]}」类别 {code} 的分数「{value}」不是数字") from None
        out.append(SheetRow(offset, str(values[0]).strip(), points))
    return out


def score_from_sheet(session: Session, campaign: Campaign, round_code: str, person: Person, content: bytes, *,
                     today: dt.date, actor: str) -> int:
    """Every filled row of a member's sheet scored, or none (a bad row stops the whole sheet)."""
    rows = read_score_sheet(campaign, content)
    if not rows:
        raise ProgrammeError("评分表中没有填写分数的学校")
    for row in rows:
        try:
            school = find_school(session, campaign, row.school)
        except ProgrammeNotFound as exc:
            raise ProgrammeError(f"评分表第 {row.row} 行：{exc.message}") from None
        score(session, campaign, round_code, person, school, row.points, today=today, actor=actor)
    return len(rows)


def certificate_list(session: Session, campaign: Campaign, issued_on: dt.date) -> bytes:
    """证书名单: the confirmed awards, by category in the rules' order, then school."""
    from openpyxl.styles import Font

    names = {s.id: s.name for s in queries.schools(session, campaign.id)}
    awards = [a for a in confirmed(session, campaign) if a.category in AWARD_CATEGORIES]
    if not awards:
        raise ProgrammeConflict("还没有确认的表彰：办公室确认后才能生成证书名单")
    order = {c: i for i, c in enumerate(AWARD_CATEGORIES)}
    awards.sort(key=lambda a: (order[a.category], names[a.school_id]))
    wb = new_workbook()
    ws = wb.active
    ws.title = "证书名单"
    ws.append([f"{campaign.name} 表彰证书名单（{issued_on.isoformat()}）"])
    ws.append(["序号", "学校", "表彰类别", "证书名称", "得分"])
    for cell in ws[2]:
        cell.font = Font(bold=True)
    for i, award in enumerate(awards, start=1):
        ws.append([i, names[award.school_id], award.category, f"全县义务教育优质均衡{award.category}",
                   award.score])
    ws.column_dimensions["B"].width = 28
    ws.column_dimensions["D"].width = 32
    return workbook_bytes(wb)
