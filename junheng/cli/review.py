"""`junheng review open|verdict|findings|list`: the reviews of a campaign (市级复评, 省级评估,
国家审核认定, and the county's own 县级督查 rounds), their verdicts, and their findings, each of
which becomes a rectification task."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from sqlmodel import Session

from junheng.cli.common import campaign_or_exit
from junheng.cli.common import fail as _fail
from junheng.cli.data import print_redated
from tracker.db import get_engine, migrate, session_scope
from tracker.org.models import Campaign
from tracker.org.service import (
    find_person,
    resolve_campaign,
)
from tracker.reviews import service as reviews
from tracker.reviews.models import Review
from tracker.tasks.service import RedatedTask

review_app = typer.Typer(help="评估与督查：市级复评、省级评估、国家审核认定、县级督查的结论和反馈问题",
                         no_args_is_help=True)

CampaignOption = typer.Option(None, "--campaign", "-c", help="创建工作编号；只有一个创建工作时可不写")
AsOption = typer.Option(..., "--as", help="操作人姓名（方案中的人员）", show_default=False)


def _review(session: Session, campaign: Campaign, review_id: int) -> Review:
    try:
        return reviews.review_in(session, campaign, review_id)
    except reviews.ReviewNotFound as error:
        raise reviews.ReviewNotFound(f"{error.message}（junheng review list 可查）") from None


def _parse_date(text: str | None) -> dt.date | None:
    if not text:
        return None
    day = reviews.parse_date(text)
    if day is None:
        _fail(f"日期「{text}」无效，应写作 2027-05-20")
    return day


@review_app.command("open")
def open_command(
    level: str = typer.Argument(..., help="评估级别：市级、省级、国家 或 县级督查", show_default=False),
    held_on: str | None = typer.Option(None, "--date", help="评估（督查）日期，如 2027-05-20"),
    phase_code: str | None = typer.Option(
        None, "--phase", help="所属阶段的编号或名称；不写则按级别对应的阶段，没有该类阶段时（及县级督查）用当前阶段"),
    round_name: str = typer.Option("", "--round", help="县级督查的轮次，如 第一轮；不写则按登记顺序编为第一轮、第二轮……"),
    team: str = typer.Option("", "--team", help="督查组名称及成员"),
    scope: str = typer.Option("", "--scope", help="督查范围（单位、学校或事项）"),
    actor: str | None = typer.Option(None, "--as", help="操作人姓名（方案中的人员）"),
    campaign_code: str | None = CampaignOption,
) -> None:
    """登记一次评估（市级复评、省级评估、国家审核认定）或一轮县级督查。"""
    day = _parse_date(held_on)
    migrate()
    with session_scope() as session:
        campaign = resolve_campaign(session, campaign_code)
        who = find_person(session, campaign, actor).name if actor else "系统"
        if phase_code:
            phase = reviews.find_phase(session, campaign, phase_code)
        else:
            phase = reviews.phase_for_level(session, campaign, level)
        review = reviews.open_review(session, campaign, phase, level, day, actor=who,
                                     round_name=round_name, team=team, scope=scope)
        review_id, phase_name, label = review.id, phase.name, reviews.review_label(review)
    Console(soft_wrap=True).print(f"[green]已登记[/green]评估 #{review_id}：{escape(label)}（阶段「{escape(phase_name)}」"
                                  f"{'，' + day.isoformat() if day else ''}）")


@review_app.command("verdict")
def verdict_command(
    review_id: int = typer.Argument(..., help="评估编号（junheng review list 可查）", show_default=False),
    verdict: str = typer.Argument(..., help="结论：通过、不通过 或 有条件通过", show_default=False),
    note: str = typer.Option("", "--note", help="说明"),
    actor: str = AsOption,
    campaign_code: str | None = CampaignOption,
) -> None:
    """录入评估结论；录入后自动检查该阶段能否通过关口。"""
    migrate()
    with session_scope() as session:
        campaign = resolve_campaign(session, campaign_code)
        person = find_person(session, campaign, actor)
        review = reviews.record_verdict(session, _review(session, campaign, review_id), verdict, person, note=note)
        level = review.level
    Console(soft_wrap=True).print(f"[green]已录入[/green]评估 #{review_id}（{level}）结论：{escape(verdict)}")


@review_app.command("findings")
def findings_command(
    review_id: int = typer.Argument(..., help="评估编号", show_default=False),
    file: Path | None = typer.Argument(None, help="反馈问题表（.xlsx 或 UTF-8 .csv）：序号、问题、指标、责任单位、整改时限；"
                                       "逐条录入时不写", show_default=False),
    text: str | None = typer.Option(None, "--text", help="逐条录入：问题描述"),
    units: list[str] = typer.Option([], "--unit", help="逐条录入：责任单位或学校（可多次；第一个牵头）"),
    due: str | None = typer.Option(None, "--due", help="逐条录入：整改时限，如 2027-06-30"),
    indicator: str | None = typer.Option(None, "--indicator", help="逐条录入：对应指标编号"),
    seq: int | None = typer.Option(None, "--seq", min=1, help="逐条录入：序号；不写则接续已录入的"),
    actor: str = AsOption,
    campaign_code: str | None = CampaignOption,
) -> None:
    """录入评估或督查的反馈问题：每个问题建立一项整改任务，截止日期为其整改时限（整表校验，有问题则不录入）。
    可给出问题表，或用 --text、--unit、--due 逐条录入。"""
    one = text is not None or units or due is not None or indicator is not None or seq is not None
    if file is not None and one:
        _fail("请只用一种方式录入：给出反馈问题表，或用 --text、--unit、--due 逐条录入")
    if file is None and not one:
        _fail("请给出反馈问题表，或用 --text、--unit、--due 逐条录入一个问题")
    findings: list[reviews.FindingInput] = []
    if file is not None:
        findings = reviews.read_findings_sheet(file)
    else:
        missing = [name for name, value in (("--text", (text or "").strip()), ("--unit", units), ("--due", due))
                   if not value]
        if missing:
            _fail(f"逐条录入缺少：{'、'.join(missing)}")
    migrate()
    with session_scope() as session:
        campaign = resolve_campaign(session, campaign_code)
        person = find_person(session, campaign, actor)
        review = _review(session, campaign, review_id)
        if file is None:
            findings = [reviews.finding_from_fields(text=text or "", units=units, due=due or "",
                                                    indicator=indicator,
                                                    seq=seq or reviews.next_seq(session, review))]
        tasks = reviews.add_findings(session, review, findings, person)
        label = reviews.review_label(review)
        lines = [f"  #{t.id} {t.title}（截止 {t.due_on.isoformat()}"
                 + (f"；原定整改时限 {t.planned_due_on.isoformat()} 已过，已顺延" if t.planned_due_on else "")
                 + "）" for t in tasks]
        redated = [RedatedTask.of(t).as_dict() for t in tasks if t.planned_due_on is not None]
    console = Console(soft_wrap=True)
    console.print(f"[green]已录入[/green]评估 #{review_id}（{escape(label)}）的 {len(findings)} 个反馈问题，对应任务：")
    for line in lines:
        console.print(escape(line))
    print_redated(console, redated)


@review_app.command("list")
def list_command(
    level: str | None = typer.Option(None, "--level", help="只列出该级别，如 县级督查"),
    campaign_code: str | None = CampaignOption,
) -> None:
    """列出评估和县级督查：级别与轮次、阶段、日期、结论、反馈问题数和未销号的整改任务数。"""
    migrate()
    with Session(get_engine()) as session:
        campaign = campaign_or_exit(session, campaign_code)
        rows = reviews.review_lines(session, campaign, level)
        if not rows:
            Console().print("还没有登记评估：junheng review open 市级 --date 2027-05-20；"
                            "或 junheng review open 县级督查 --round 第一轮")
            return
        table = Table(title=f"{campaign.name}：评估与督查")
        for column in ("编号", "级别", "阶段", "日期", "督查组", "结论", "反馈问题", "未销号"):
            table.add_column(column, overflow="fold")
        for line in rows:
            review = line.review
            verdict = review.verdict or ("无需结论" if reviews.is_county(review) else "未录入")
            table.add_row(str(review.id), escape(line.label), escape(line.phase_name),
                          review.held_on.isoformat() if review.held_on else "待定", escape(review.team or "—"),
                          verdict, str(line.findings), str(line.open_tasks))
        Console().print(table)
