"""`junheng campaign init|list|show`: set up a campaign from its plan file and look at it."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from sqlmodel import Session

from junheng.cli.common import campaign_or_exit, existing_database_or_exit
from junheng.cli.common import fail as _fail
from tracker.campaigns.service import apply_plan_report
from tracker.db import get_engine, migrate, session_scope
from tracker.events.service import SYSTEM_ACTOR
from tracker.org import queries as org
from tracker.org.models import Campaign, Phase, PhaseStatus
from tracker.org.service import list_campaigns
from tracker.plans import PHASE_KIND_NAMES, UNIT_KIND_NAMES, PlanError, load_plan
from tracker.plans.kinds import PhaseKind, UnitKind
from tracker.reminders.sweep import reschedule_open_tasks
from tracker.settings import get_settings

campaign_app = typer.Typer(help="创建工作：按方案文件建立创建工作，查看阶段、单位和人员", no_args_is_help=True)

CampaignOption = typer.Option(None, "--campaign", "-c", help="创建工作编号；只有一个创建工作时可不写")

PHASE_STATUS_NAMES = {PhaseStatus.pending.value: "未开始", PhaseStatus.active.value: "进行中",
                      PhaseStatus.passed.value: "已通过"}


def _value(value: object) -> str:
    return str(getattr(value, "value", value))


@campaign_app.command("init")
def init_command(
    plan_file: Path = typer.Argument(..., help="方案文件（YAML），参见 examples/plan.yaml", show_default=False),
    actor: str = typer.Option(SYSTEM_ACTOR, "--as", help="记入日志的操作人"),
) -> None:
    """按方案文件建立创建工作；再次运行则按修改后的方案更新人员、邮箱和日期（任务记录保留，按阶段关口或完成时限定的截止日期随之调整）。"""
    try:
        # a 群机器人 the plan names must be configured: refused here, with its line, not at the first sweep
        plan = load_plan(plan_file, robots=set(get_settings().webhooks))
    except PlanError as error:
        err = Console(stderr=True, soft_wrap=True)
        err.print(f"[red]错误：[/red]方案文件 {escape(str(plan_file))} 有 {len(error.problems)} 处问题，"
                  "未作任何改动：")
        for problem in error.problems:
            err.print(f"  • {escape(problem)}")
        raise typer.Exit(2) from None
    migrate()
    console = Console(soft_wrap=True)
    try:
        with session_scope() as session:
            applied = apply_plan_report(session, plan, actor=actor)
            rescheduled = 0
            if applied.ladder_changed:
                # new 提醒 settings: the sweep works out every open task's next reminder again
                rescheduled = reschedule_open_tasks(session, campaign=applied.campaign)
            summary = _summary(session, applied.campaign)
    except PlanError as error:
        _fail("；".join(error.problems) + "（未作任何改动）")
        return
    for warning in plan.warnings:
        console.print(f"[yellow]提示：[/yellow]{escape(warning)}")
    if applied.created:
        console.print(f"[green]已建立创建工作[/green] {escape(plan.code)}（{escape(plan.name)}）")
        if applied.plan_tasks:
            console.print(f"已按方案交办准备工作任务 {len(applied.plan_tasks)} 项（任务交办单在下次提醒扫描时发出）")
    if applied.redated:
        for task_id, title, planned, due in applied.redated:
            console.print(f"  • 任务 #{task_id}「{escape(title)}」原定时限 {planned.isoformat()} 已过，"
                          f"办理时限顺延至 {due.isoformat()}")
    if not applied.created and applied.changes:
        console.print(f"[green]已更新创建工作[/green] {escape(plan.code)}：{len(applied.changes)} 处变化")
        for change in applied.changes:
            console.print(f"  • {escape(change)}")
        if applied.ladder_changed:
            console.print(f"提醒设置有变化：{rescheduled} 项未办结任务的提醒时间将在下次提醒扫描时按新设置重新计算。")
    elif not applied.created:
        console.print(f"创建工作 {escape(plan.code)} 与方案一致，没有变化")
    console.print(summary)


def _summary(session: Session, campaign: Campaign) -> Table:
    departments = org.departments(session, campaign.id, active_only=True)
    people = org.people(session, campaign.id, active_only=True)
    kinds = Counter(_value(d.kind) for d in departments)
    plan = campaign.plan
    table = Table(show_header=False, box=None, padding=(0, 2))
    table.add_column(style="bold")
    table.add_column(overflow="fold")
    table.add_row("县", escape(campaign.county))
    table.add_row("评估标准", escape(campaign.standard_id))
    table.add_row("单位", f"{len(departments)} 个（" + "、".join(
        f"{UNIT_KIND_NAMES[UnitKind(k)]} {n}" for k, n in kinds.items()) + "）")
    table.add_row("人员", f"{len(people)} 人（办公室 {sum(p.is_office for p in people)} 人）")
    table.add_row("分工", f"{len(plan.get('assignments', {}))} 项指标")
    table.add_row("准备工作", f"{len(plan.get('preparatory_tasks', []))} 项")
    table.add_row("阶段", "\n".join(_phase_line(p) for p in _phases(session, campaign)))
    return table


def _phases(session: Session, campaign: Campaign) -> list[Phase]:
    return org.phases(session, campaign.id)


def _phase_line(phase: Phase) -> str:
    return f"{escape(phase.name)} {_window(phase)}"


def _window(phase: Phase) -> str:
    start = phase.starts_on.isoformat() if phase.starts_on else "待定"
    gate = phase.gate_on.isoformat() if phase.gate_on else (phase.note or "以上级通知为准")
    return f"{start} — {gate}"


@campaign_app.command("list")
def list_command() -> None:
    """列出数据库中的创建工作。"""
    existing_database_or_exit()
    migrate()
    with Session(get_engine()) as session:
        campaigns = list_campaigns(session)
        if not campaigns:
            Console().print("数据库中还没有创建工作：请先运行 junheng campaign init PLAN.yaml")
            return
        counts = org.active_counts(session)
        table = Table(title="创建工作")
        for column in ("编号", "名称", "县", "标准", "单位", "人员", "当前阶段"):
            table.add_column(column, overflow="fold", no_wrap=column in ("编号", "标准"))
        for campaign in campaigns:
            units, people = counts.get(campaign.id, (0, 0))
            active = [p.name for p in _phases(session, campaign) if _value(p.status) == PhaseStatus.active.value]
            table.add_row(escape(campaign.code), escape(campaign.name), escape(campaign.county),
                          escape(campaign.standard_id), str(units), str(people), escape("、".join(active) or "—"))
        Console().print(table)


@campaign_app.command("phases")
def phases_command(campaign_code: str | None = CampaignOption) -> None:
    """列出阶段及其编号（同 junheng phase list）。"""
    from junheng.cli.phase import list_command as phase_list

    phase_list(campaign_code)


@campaign_app.command("show")
def show_command(campaign_code: str | None = CampaignOption) -> None:
    """显示一个创建工作的阶段（时间窗口）、单位和人员。"""
    existing_database_or_exit()
    migrate()
    with Session(get_engine()) as session:
        campaign = campaign_or_exit(session, campaign_code)
        console = Console()
        console.print(f"[bold]{escape(campaign.name)}[/bold]（编号 {escape(campaign.code)}，"
                      f"{escape(campaign.county)}，标准 {escape(campaign.standard_id)}）")

        phases = Table(title="阶段")
        for column in ("顺序", "阶段", "类型", "开始", "关口", "状态"):
            phases.add_column(column, overflow="fold")
        for phase in _phases(session, campaign):
            kind = PHASE_KIND_NAMES.get(PhaseKind(_value(phase.kind)), _value(phase.kind))
            phases.add_row(str(phase.ordinal), escape(phase.name), kind,
                           phase.starts_on.isoformat() if phase.starts_on else "待定",
                           phase.gate_on.isoformat() if phase.gate_on else escape(phase.note or "以上级通知为准"),
                           PHASE_STATUS_NAMES.get(_value(phase.status), _value(phase.status)))
        console.print(phases)

        people = org.people(session, campaign.id)
        by_id = {p.id: p for p in people}
        departments = org.departments(session, campaign.id)
        units = Table(title="责任单位")
        for column in ("单位", "简称", "类别", "负责人", "联系人", "分管领导"):
            units.add_column(column, overflow="fold")
        for dept in departments:
            contacts = [p for p in people if p.department_id == dept.id and p.is_contact and p.active]
            if _value(dept.kind) == UnitKind.office.value:
                contacts = [p for p in people if p.is_office and p.active]
            supervisor = by_id.get(dept.supervisor_id) if dept.supervisor_id else None
            name = escape(dept.name) + ("" if dept.active else "（已停用）")
            units.add_row(name, escape(dept.short_name), UNIT_KIND_NAMES[UnitKind(_value(dept.kind))],
                          escape(dept.head_name) or "—",
                          "、".join(escape(p.name) for p in contacts) or "—",
                          escape(supervisor.name) if supervisor else "—")
        console.print(units)

        dept_names = {d.id: d.short_name or d.name for d in departments}
        persons = Table(title="人员")
        for column in ("姓名", "职务", "单位", "邮箱", "身份"):
            persons.add_column(column, overflow="fold")
        for person in people:
            roles = [r for r, on in ((person.group_role or "", bool(person.group_role)),
                                     ("办公室（可销号）", person.is_office), ("联系人", person.is_contact)) if on]
            if not person.active:
                roles.append("已停用")
            persons.add_row(escape(person.name), escape(person.title),
                            escape(dept_names.get(person.department_id, "—")), escape(person.email or "—"),
                            "、".join(roles) or "—")
        console.print(persons)
