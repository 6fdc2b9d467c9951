"""School data and assessments on the CLI:

- `junheng data import FILE` / `junheng data list`: store a school sheet as a data submission;
- `junheng selfcheck FILE`: 自查自评 — import, assess, and create or update the tasks;
- `junheng reassess [FILE]`: assess again (new data, or changed county inputs) and update the tasks;
- `junheng county-input set CODE VALUE`: enter a county-level figure or verdict.
"""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from sqlmodel import Session

from junheng.cli.common import campaign_or_exit
from tracker.assessment import county_inputs
from tracker.assessment.models import AssessmentSnapshot
from tracker.assessment.queries import latest_by_submission, shortfall_count
from tracker.campaigns import selfcheck
from tracker.clock import local_time
from tracker.db import get_engine, migrate, session_scope
from tracker.events.service import SYSTEM_ACTOR
from tracker.org.models import Campaign
from tracker.org.service import (
    find_person,
    resolve_campaign,
)
from tracker.schooldata import submissions
from tracker.schooldata.models import DataSubmission
from tracker.schooldata.queries import campaign_submissions

data_app = typer.Typer(help="学校数据：导入填报表、查看各批数据", no_args_is_help=True)
county_input_app = typer.Typer(help="县级指标：录入县级数据或认定结果（政府保障、教育质量、社会认可度、申报条件、否决事项）",
                               no_args_is_help=True)

CampaignOption = typer.Option(None, "--campaign", "-c", help="创建工作编号；只有一个创建工作时可不写")
OptionalAs = typer.Option(None, "--as", help="操作人姓名（方案中的人员）；不写则记为「系统」")


def _actor(session: Session, campaign: Campaign, name: str | None) -> str:
    """The actor's name: a person of the plan when ``--as`` is given, else 系统."""
    if not name:
        return SYSTEM_ACTOR
    return find_person(session, campaign, name).name


def _verdict(ok: bool | None) -> str:
    return {True: "[green]达标[/green]", False: "[red]不达标[/red]", None: "[yellow]无法判定[/yellow]"}[ok]


def _print_reconcile(console: Console, snapshot: AssessmentSnapshot, shortfalls: int, counts: dict) -> None:
    console.print(f"评估 #{snapshot.id}：资源配置 {_verdict(snapshot.ok)}，问题 {shortfalls} 项")
    console.print(f"任务：新建 {counts['created']} 项，数据已达标待销号 {counts['resolved']} 项，"
                  f"重新打开 {counts['reopened']} 项，未变 {counts['unchanged']} 项")
    print_redated(console, counts.get("redated") or [])


def print_redated(console: Console, redated: list[dict]) -> None:
    """The created tasks whose plan date had passed: the office is told they were re-dated."""
    if not redated:
        return
    console.print(f"[yellow]注意：[/yellow]{len(redated)} 项任务建立时原定时限已过，未计为逾期，办理时限已顺延：")
    for r in redated:
        console.print(escape(f"  #{r['task_id']} {r['title']}：原定时限 {r['planned_due_on']} → {r['due_on']}"
                             f"（顺延 {r['working_days']} 个工作日）"))


@data_app.command("import")
def import_command(
    file: Path = typer.Argument(..., help="学校数据表（.xlsx 或 UTF-8 .csv，可用 junheng template 生成模板）",
                                show_default=False),
    label: str = typer.Option("", "--label", help="批次说明，如「整改后复测 2027-05」"),
    actor: str | None = OptionalAs,
    campaign_code: str | None = CampaignOption,
) -> None:
    """导入一份学校数据表，存为一批填报数据（整表校验，有任何问题则不导入）。"""
    migrate()
    with session_scope() as session:
        campaign = resolve_campaign(session, campaign_code)
        submission = submissions.import_submission(session, campaign, file, _actor(session, campaign, actor),
                                                 label=label)
        sub_id, count = submission.id, submission.school_count
    Console(soft_wrap=True).print(f"[green]已导入[/green]第 {sub_id} 批数据：{count} 所学校（{escape(file.name)}）。"
                                  "运行 junheng reassess 评估并更新任务。")


@data_app.command("list")
def list_command(campaign_code: str | None = CampaignOption) -> None:
    """列出各批学校数据及其最近一次评估。"""
    migrate()
    with Session(get_engine()) as session:
        campaign = campaign_or_exit(session, campaign_code)
        submissions = campaign_submissions(session, campaign.id)
        if not submissions:
            Console().print("还没有导入学校数据：运行 junheng data import FILE 或 junheng selfcheck FILE")
            return
        table = Table(title=f"{campaign.name}：学校数据")
        for column in ("批次", "说明", "文件", "学校数", "导入时间", "导入人", "最近评估"):
            table.add_column(column, overflow="fold")
        assessed_by = latest_by_submission(session, [sub.id for sub in submissions])
        for sub in submissions:
            snapshot, shortfalls = assessed_by.get(sub.id, (None, 0))
            assessed = "未评估" if snapshot is None else f"#{snapshot.id} {_verdict(snapshot.ok)}，问题 {shortfalls} 项"
            table.add_row(str(sub.id), escape(sub.label), escape(sub.source_filename), str(sub.school_count),
                          local_time(sub.submitted_at).strftime("%Y-%m-%d %H:%M"), escape(sub.submitted_by), assessed)
        Console().print(table)


def selfcheck_command(
    file: Path = typer.Argument(..., help="学校数据表（.xlsx 或 UTF-8 .csv）", show_default=False),
    actor: str | None = OptionalAs,
    label: str = typer.Option("自查", "--label", help="批次说明"),
    campaign_code: str | None = CampaignOption,
) -> None:
    """自查自评：导入学校数据、评估，并按问题清单建立或更新任务（可重复运行，不会重复建任务）。"""
    from tracker.schooldata.sheet import read_school_sheet

    # the whole sheet is checked before the flow starts Prefect (seconds): a missing file or a
    # bad cell is reported at once; the flow reads it again and stores it
    read_school_sheet(file)
    migrate()
    with session_scope() as session:
        campaign = resolve_campaign(session, campaign_code)
        code, who = campaign.code, _actor(session, campaign, actor)
    # The self-check flow (flows/selfcheck.py), run here in-process: import, assess and
    # reconcile as three recorded Prefect tasks, each its own transaction.
    from junheng.cli.prefect_console import quiet_prefect

    quiet_prefect()
    from flows.selfcheck import run_self_check_flow

    counts = run_self_check_flow(code, file, who, label)
    with Session(get_engine()) as session:
        snapshot = session.get(AssessmentSnapshot, counts["assessment_id"])
        schools = session.get(DataSubmission, counts["submission_id"]).school_count
        shortfalls = shortfall_count(session, snapshot.id)
    console = Console(soft_wrap=True)
    console.print(f"[green]自查完成[/green]：第 {counts['submission_id']} 批数据，{schools} 所学校")
    _print_reconcile(console, snapshot, shortfalls, counts)


def reassess_command(
    file: Path | None = typer.Argument(None, help="新的学校数据表；不写则重新评估最近一批数据（如县级数据有变化）",
                                       show_default=False),
    actor: str | None = OptionalAs,
    label: str = typer.Option("整改后复测", "--label", help="新数据的批次说明"),
    campaign_code: str | None = CampaignOption,
) -> None:
    """重新评估并更新任务：问题已消除的任务标记为数据已达标（待办公室销号），问题再次出现的任务重新打开。"""
    migrate()
    with session_scope() as session:
        campaign = resolve_campaign(session, campaign_code)
        who = _actor(session, campaign, actor)
        submission = None
        if file is not None:
            submission = submissions.import_submission(session, campaign, file, who, label=label,
                                                    assessed_by_caller=True)
        snapshot, reconciled = selfcheck.reassess(session, campaign, submission, actor=who)
        shortfalls = shortfall_count(session, snapshot.id)
        counts = reconciled.report()
        sub_id = snapshot.submission_id
    console = Console(soft_wrap=True)
    console.print(f"[green]已重新评估[/green]第 {sub_id} 批数据")
    _print_reconcile(console, snapshot, shortfalls, counts)


@county_input_app.command("set")
def set_command(
    code: str = typer.Argument(..., help="指标编号（如 23），申报条件（E1）或否决事项（V1）；多个数值的指标写 18:backbone_share；"
                               "计分指标的分项写 8.1、8.2",
                               show_default=False),
    value: str = typer.Argument(..., help="数值（如 96.5 或 96.5%），或 通过/不通过；否决事项按事项本身作答：存在/不存在、"
                                     "发生/未发生，或 是/否（“存在…”答 是 即否决）",
                                show_default=False),
    note: str = typer.Option("", "--note", help="说明或数据来源"),
    actor: str = typer.Option(..., "--as", help="录入人姓名（方案中的人员）", show_default=False),
    campaign_code: str | None = CampaignOption,
) -> None:
    """录入一项县级数据或认定结果（以最近一次录入为准）；之后运行 junheng reassess 重新评估。"""
    migrate()
    with session_scope() as session:
        campaign = resolve_campaign(session, campaign_code)
        entry = county_inputs.set_county_input(session, campaign, code, value, _actor(session, campaign, actor),
                                           note=note)
        shown = {"pass": "通过", "fail": "不通过"}.get(entry.status or "", f"{entry.value:g}" if entry.value is not None else "")
    Console(soft_wrap=True).print(f"[green]已录入[/green] {escape(code)} = {escape(shown)}。运行 junheng reassess 重新评估。")


@county_input_app.command("list")
def county_list_command(campaign_code: str | None = CampaignOption) -> None:
    """列出已录入的县级数据（每项以最近一次为准）。"""
    migrate()
    with Session(get_engine()) as session:
        campaign = campaign_or_exit(session, campaign_code)
        latest = county_inputs.latest_county_inputs(session, campaign.id)
        if not latest:
            Console().print("还没有录入县级数据：junheng county-input set CODE VALUE --as 姓名")
            return
        table = Table(title=f"{campaign.name}：县级数据")
        for column in ("指标", "录入值", "说明", "录入人", "录入时间"):
            table.add_column(column, overflow="fold")
        for code, row in latest.items():
            shown = {"pass": "通过", "fail": "不通过"}.get(row.status or "", f"{row.value:g}" if row.value is not None else "")
            table.add_row(escape(code), shown, escape(row.note), escape(row.entered_by),
                          local_time(row.entered_at).strftime("%Y-%m-%d %H:%M"))
        Console().print(table)
