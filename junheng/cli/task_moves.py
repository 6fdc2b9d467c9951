"""`junheng task extend|extensions|approve-extension|refuse-extension|redate|transfer|split|
coop-report|chase|accept-many`: the office's 督办 moves (issue 12 §2–3) through
tracker.tasks.moves, added to the `task` group. Every move names its actor with ``--as``."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from sqlmodel import Session

from junheng.cli.common import fail
from junheng.cli.task import AsOption, task_app
from tracker.db import get_engine, migrate, session_scope
from tracker.org.models import Campaign, Person
from tracker.org.service import find_department, find_person
from tracker.tasks import moves
from tracker.tasks.models import Task
from tracker.tasks.service import get_task


def _day(text: str, what: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        fail(f"{what}「{text}」无效，应为 YYYY-MM-DD，例如 2027-05-31")


def _run(task_id: int, actor_name: str, move: Callable[[Session, Task, Person, Campaign], str]) -> None:
    """Load the task, find ``--as`` in its campaign, make the move, commit, print what it says."""
    migrate()
    with session_scope(get_engine()) as session:
        task = get_task(session, task_id)
        campaign = session.get(Campaign, task.campaign_id)
        person = find_person(session, campaign, actor_name)
        said = move(session, task, person, campaign)
    Console(soft_wrap=True).print(f"{said}（操作人：{escape(actor_name)}）")


@task_app.command("extend")
def extend_command(
    task_id: int = typer.Argument(..., help="任务编号"),
    due_on: str = typer.Argument(..., help="申请延至，YYYY-MM-DD"),
    reason: str = typer.Option(..., "--reason", help="申请理由", show_default=False),
    actor: str = AsOption,
) -> None:
    """申请延期（牵头单位人员），等待办公室审批。"""
    day = _day(due_on, "申请延至的日期")

    def move(s, t, p, c) -> str:
        ext = moves.request_extension(s, t, p, day, reason)
        return f"任务 #{t.id} 已提交延期申请 #{ext.id}：{ext.due_from} → {ext.due_on}，等待办公室审批"
    _run(task_id, actor, move)


@task_app.command("extensions")
def extensions_command(task_id: int = typer.Argument(..., help="任务编号")) -> None:
    """列出任务的延期申请及审批结果。"""
    migrate()
    with session_scope(get_engine()) as session:
        get_task(session, task_id)
        rows = moves.task_extensions(session, task_id)
        table = Table(title=f"任务 #{task_id} 的延期申请")
        for header in ("编号", "状态", "原截止日期", "申请延至", "理由", "申请人", "审批人", "审批意见"):
            table.add_column(header)
        for e in rows:
            table.add_row(str(e.id), e.status, str(e.due_from), str(e.due_on), escape(e.reason),
                          escape(e.requested_by), escape(e.decided_by or ""), escape(e.decision_note))
    console = Console(soft_wrap=True)
    console.print(table if rows else f"任务 #{task_id} 没有延期申请")


def _decide(extension_id: int, actor_name: str, approve: bool, text: str) -> None:
    migrate()
    with session_scope(get_engine()) as session:
        ext = moves.get_extension(session, extension_id)
        campaign = session.get(Campaign, ext.campaign_id)
        person = find_person(session, campaign, actor_name)
        if approve:
            task = moves.approve_extension(session, ext, person, text)
            said = f"已同意延期申请 #{ext.id}：任务 #{task.id} 的截止日期调整为 {task.due_on}"
        else:
            task = moves.refuse_extension(session, ext, person, text)
            said = f"已不同意延期申请 #{ext.id}：任务 #{task.id} 的截止日期仍为 {task.due_on}"
    Console(soft_wrap=True).print(f"{said}（操作人：{escape(actor_name)}）")


@task_app.command("approve-extension")
def approve_extension_command(
    extension_id: int = typer.Argument(..., help="延期申请编号"),
    note: str = typer.Option("", "--note", help="审批意见"),
    actor: str = AsOption,
) -> None:
    """同意延期申请（仅办公室人员）：截止日期调整，提醒按新日期重新计算，并通知责任单位。"""
    _decide(extension_id, actor, True, note)


@task_app.command("refuse-extension")
def refuse_extension_command(
    extension_id: int = typer.Argument(..., help="延期申请编号"),
    reason: str = typer.Option(..., "--reason", help="不同意的原因", show_default=False),
    actor: str = AsOption,
) -> None:
    """不同意延期申请（仅办公室人员），并通知责任单位。"""
    _decide(extension_id, actor, False, reason)


@task_app.command("redate")
def redate_command(
    task_id: int = typer.Argument(..., help="任务编号"),
    due_on: str = typer.Argument(..., help="新的截止日期，YYYY-MM-DD"),
    reason: str = typer.Option(..., "--reason", help="调整原因", show_default=False),
    actor: str = AsOption,
) -> None:
    """直接调整在办任务的截止日期（仅办公室人员）。"""
    day = _day(due_on, "截止日期")

    def move(s, t, p, c) -> str:
        before = t.due_on
        moves.redate(s, t, p, day, reason)
        return f"任务 #{t.id} 的截止日期已由 {before} 调整为 {day}"
    _run(task_id, actor, move)


@task_app.command("transfer")
def transfer_command(
    task_id: int = typer.Argument(..., help="任务编号"),
    unit: str = typer.Argument(..., help="新的牵头单位：单位名称、简称或学校名称"),
    reason: str = typer.Option(..., "--reason", help="转办原因", show_default=False),
    actor: str = AsOption,
) -> None:
    """转办：把任务交给另一个牵头单位（仅办公室人员），保留办理记录，新单位重新签收。"""
    def move(s, t, p, c) -> str:
        target = moves.find_unit(s, c, unit, "新的牵头单位")
        moves.transfer(s, t, p, target, reason)
        return f"任务 #{t.id} 已转办给「{escape(target.name)}」，等待签收"
    _run(task_id, actor, move)


@task_app.command("split")
def split_command(
    task_id: int = typer.Argument(..., help="任务编号"),
    units: list[str] = typer.Option(..., "--unit", help="承办单位或学校（可重复，每个一项子任务）",
                                    show_default=False),
    title: str = typer.Option(..., "--title", help="子任务标题", show_default=False),
    due_on: str = typer.Option(..., "--due", help="子任务截止日期，YYYY-MM-DD，不晚于本任务", show_default=False),
    measures: str = typer.Option("", "--measures", help="措施"),
    actor: str = AsOption,
) -> None:
    """分解任务（牵头单位或办公室）：为每个承办单位建立一项子任务；子任务全部销号后本任务才能提交。"""
    day = _day(due_on, "截止日期")

    def move(s, t, p, c) -> str:
        subtasks = [moves.SubTask(title, moves.find_unit(s, c, name, "承办单位"), day, measures)
                    for name in dict.fromkeys(units)]
        made = moves.split(s, t, p, subtasks)
        return f"任务 #{t.id} 已分解为 {len(made)} 项子任务：" + "、".join(f"#{k.id}" for k in made)
    _run(task_id, actor, move)


@task_app.command("coop-report")
def coop_report_command(
    task_id: int = typer.Argument(..., help="任务编号"),
    percent: int = typer.Argument(..., help="本单位配合事项的完成进度，0 到 100"),
    note: str = typer.Option(..., "--note", help="进展说明", show_default=False),
    actor: str = AsOption,
) -> None:
    """配合单位报告本单位承担部分的进展（联办）。"""
    def move(s, t, p, c) -> str:
        moves.cooperator_report(s, t, p, percent, note)
        return f"已报告任务 #{t.id} 配合事项进展 {percent}%"
    _run(task_id, actor, move)


@task_app.command("chase")
def chase_command(
    task_id: int = typer.Argument(..., help="任务编号"),
    unit: str = typer.Argument(..., help="配合单位名称或简称"),
    note: str = typer.Option("", "--note", help="催办要求"),
    actor: str = AsOption,
) -> None:
    """单独催办一个配合单位（仅办公室人员），通知发给该单位联系人。"""
    def move(s, t, p, c) -> str:
        dept = find_department(s, c, unit)
        event = moves.chase_cooperator(s, t, p, dept.id, note)
        return f"已催办任务 #{t.id} 的配合单位「{escape(dept.name)}」（第 {event.payload['occurrence']} 次）"
    _run(task_id, actor, move)


@task_app.command("accept-many")
def accept_many_command(
    task_ids: list[int] = typer.Argument(..., help="任务编号（可多个）"),
    actor: str = AsOption,
) -> None:
    """批量签收：逐项签收，各记一条签收记录；不能签收的任务列出原因。"""
    migrate()
    with session_scope(get_engine()) as session:
        first = get_task(session, task_ids[0])
        campaign = session.get(Campaign, first.campaign_id)
        person = find_person(session, campaign, actor)
        found = moves.tasks_by_id(session, campaign.id, list(dict.fromkeys(task_ids)))
        missing = [moves.Refusal(i, f"没有编号为 #{i} 的任务") for i in dict.fromkeys(task_ids) if i not in found]
        done, refused = moves.accept_many(session, list(found.values()), person)
        refused = missing + refused
    console = Console(soft_wrap=True)
    console.print(f"已签收 {len(done)} 项任务：" + ("、".join(f"#{t.id}" for t in done) or "无")
                  + f"（操作人：{escape(actor)}）")
    for r in refused:
        console.print(f"未能签收 #{r.task_id}：{escape(r.reason)}")
    if refused and not done:
        raise typer.Exit(2)
