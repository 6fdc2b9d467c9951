"""`junheng review open|verdict|findings|list`: the reviews of a campaign (市级复评, 省级评估,
国家审核认定), their verdicts, and their findings, each of which becomes a rectification task."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from sqlmodel import Session, select

from junheng.cli.common import campaign_or_exit
from junheng.cli.common import fail as _fail
from junheng.cli.data import print_redated
from tracker.db import get_engine, migrate, session_scope
from tracker.org.models import Campaign, Phase
from tracker.org.service import (
    find_person,
    resolve_campaign,
)
from tracker.reviews import service as reviews
from tracker.reviews.models import Review, ReviewFinding
from tracker.tasks.service import RedatedTask

review_app = typer.Typer(help="评估：市级复评、省级评估、国家审核认定的结论和反馈问题", no_args_is_help=True)

CampaignOption = typer.Option(None, "--campaign", "-c", help="创建工作编号；只有一个创建工作时可不写")
AsOption = typer.Option(..., "--as", help="操作人姓名（方案中的人员）", show_default=False)


def _review(session: Session, campaign: Campaign, review_id: int) -> Review:
    review = session.get(Review, review_id)
    if review is None or review.campaign_id != campaign.id:
        raise reviews.ReviewError(f"创建工作「{campaign.code}」中没有编号为 #{review_id} 的评估（junheng review list 可查）")
    return review


def _parse_date(text: str | None) -> dt.date | None:
    if not text:
        return None
    day = reviews.parse_date(text)
    if day is None:
        _fail(f"日期「{text}」无效，应写作 2027-05-20")
    return day


@review_app.command("open")
def open_command(
    level: str = typer.Argument(..., help="评估级别：市级、省级 或 国家", show_default=False),
    held_on: str | None = typer.Option(None, "--date", help="评估日期，如 2027-05-20"),
    phase_code: str | None = typer.Option(None, "--phase", help="所属阶段编号；不写则按级别对应的阶段"),
    actor: str | None = typer.Option(None, "--as", help="操作人姓名（方案中的人员）"),
    campaign_code: str | None = CampaignOption,
) -> None:
    """登记一次评估（市级复评、省级评估或国家审核认定）。"""
    day = _parse_date(held_on)
    migrate()
    with session_scope() as session:
        campaign = resolve_campaign(session, campaign_code)
        who = find_person(session, campaign, actor).name if actor else "系统"
        if phase_code:
            phase = session.exec(select(Phase).where(Phase.campaign_id == campaign.id,
                                                     Phase.code == phase_code.strip())).first()
            if phase is None:
                raise reviews.ReviewError(f"创建工作「{campaign.code}」中没有编号为「{phase_code}」的阶段")
        else:
            phase = reviews.phase_for_level(session, campaign, level)
        review = reviews.open_review(session, campaign, phase, level, day, actor=who)
        review_id, phase_name, level_text = review.id, phase.name, review.level
    Console(soft_wrap=True).print(f"[green]已登记[/green]评估 #{review_id}：{level_text}（阶段「{escape(phase_name)}」"
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
    file: Path = typer.Argument(..., help="反馈问题表（.xlsx 或 UTF-8 .csv）：序号、问题、指标、责任单位、整改时限",
                                show_default=False),
    actor: str = AsOption,
    campaign_code: str | None = CampaignOption,
) -> None:
    """录入评估反馈问题：每个问题建立一项整改任务，截止日期为其整改时限（整表校验，有问题则不录入）。"""
    findings = reviews.read_findings_sheet(file)
    migrate()
    with session_scope() as session:
        campaign = resolve_campaign(session, campaign_code)
        person = find_person(session, campaign, actor)
        review = _review(session, campaign, review_id)
        tasks = reviews.add_findings(session, review, findings, person)
        lines = [f"  #{t.id} {t.title}（截止 {t.due_on.isoformat()}"
                 + (f"；原定整改时限 {t.planned_due_on.isoformat()} 已过，已顺延" if t.planned_due_on else "")
                 + "）" for t in tasks]
        redated = [RedatedTask.of(t).as_dict() for t in tasks if t.planned_due_on is not None]
    console = Console(soft_wrap=True)
    console.print(f"[green]已录入[/green]评估 #{review_id} 的 {len(findings)} 个反馈问题，对应任务：")
    for line in lines:
        console.print(escape(line))
    print_redated(console, redated)


@review_app.command("list")
def list_command(campaign_code: str | None = CampaignOption) -> None:
    """列出评估及其结论和反馈问题数。"""
    migrate()
    with Session(get_engine()) as session:
        campaign = campaign_or_exit(session, campaign_code)
        rows = list(session.exec(select(Review).where(Review.campaign_id == campaign.id).order_by(Review.id)))
        if not rows:
            Console().print("还没有登记评估：junheng review open 市级 --date 2027-05-20")
            return
        phases = {p.id: p.name for p in session.exec(select(Phase).where(Phase.campaign_id == campaign.id))}
        table = Table(title=f"{campaign.name}：评估")
        for column in ("编号", "级别", "阶段", "日期", "结论", "反馈问题"):
            table.add_column(column, overflow="fold")
        for review in rows:
            count = len(session.exec(select(ReviewFinding.id).where(ReviewFinding.review_id == review.id)).all())
            table.add_row(str(review.id), review.level, escape(phases.get(review.phase_id, "")),
                          review.held_on.isoformat() if review.held_on else "待定", review.verdict or "未录入",
                          str(count))
        Console().print(table)
