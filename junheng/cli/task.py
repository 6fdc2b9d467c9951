"""`junheng task list|show|accept|progress|submit|verify|return|withdraw`: tasks for people without
the web pages. Every move names its actor with ``--as`` (a person of the campaign's plan)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from sqlmodel import Session

from junheng.cli.common import existing_database_or_exit
from junheng.cli.common import fail as _fail
from tracker.clock import local_time, local_today
from tracker.db import get_engine, migrate, session_scope
from tracker.events.models import Event
from tracker.events.service import task_history
from tracker.org.models import Campaign, Person, Phase
from tracker.org.queries import department_names, school_names
from tracker.org.service import (
    find_department,
    find_person,
    resolve_campaign,
)
from tracker.reminders import immediate
from tracker.tasks import lifecycle
from tracker.tasks.lifecycle import days_overdue, is_overdue, on_time
from tracker.tasks.models import Task, TaskOrigin, TaskStatus
from tracker.tasks.service import (
    Unsigned,
    cooperators,
    get_task,
    list_tasks,
    unsigned_details,
)

task_app = typer.Typer(help="任务：交办、查看、签收、报告进度、提交、销号、退回、撤销、延期、转办、分解、联办", no_args_is_help=True)

STATUS_STYLE = {"待签收": "yellow", "已签收": "cyan", "办理中": "blue", "已提交": "magenta",
                "已销号": "green", "已撤销": "dim"}
ORIGIN_NAMES = {TaskOrigin.shortfall.value: "自查问题", TaskOrigin.attestation.value: "县级指标佐证",
                TaskOrigin.finding.value: "评估反馈问题", TaskOrigin.plan.value: "方案任务",
                TaskOrigin.split.value: "分解任务",
                TaskOrigin.office.value: "办公室交办"}
EVENT_NAMES = {"task.created": "创建", "task.accepted": "签收", "task.progress": "报告进度",
               "task.submitted": "提交", "task.verified": "销号", "task.returned": "退回",
               "task.withdrawn": "撤销", "task.reopened": "重新打开", "task.resolved_by_data": "数据已达标",
               "task.due_changed": "调整截止日期", "task.extension_requested": "申请延期",
               "task.extension_approved": "同意延期", "task.extension_refused": "不同意延期",
               "task.transferred": "转办", "task.split": "分解任务", "task.cooperator_reported": "配合单位报告进展",
               "task.cooperator_chased": "催办配合单位",
               "task.edited": "调整任务"}
STATUS_KEYS = {s.name: s for s in TaskStatus}  # English names are accepted too (accepted, submitted …)

AsOption = typer.Option(..., "--as", help="操作人姓名（方案中的人员）", show_default=False)


def parse_today(text: str | None) -> dt.date:
    """``--today YYYY-MM-DD`` for rehearsals; otherwise today's local date (tracker.clock)."""
    if not text:
        return local_today()
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        _fail(f"--today 的日期「{text}」无效，应为 YYYY-MM-DD，例如 2027-03-01")


def _parse_status(text: str) -> TaskStatus:
    value = text.strip()
    if value in STATUS_KEYS:
        return STATUS_KEYS[value]
    try:
        return TaskStatus(value)
    except ValueError:
        _fail(f"任务状态「{value}」无效，可选：{'、'.join(s.value for s in TaskStatus)}")


def _styled_status(status: str) -> str:
    style = STATUS_STYLE.get(status, "")
    return f"[{style}]{status}[/{style}]" if style else status


def _unit_names(session: Session, campaign_id: int, short: bool = False) -> tuple[dict[int, str], dict[int, str]]:
    return department_names(session, campaign_id, short=short), school_names(session, campaign_id)


def _unit_of(task: Task, depts: dict[int, str], schools: dict[int, str]) -> str:
    if task.department_id is not None:
        return depts.get(task.department_id, "?")
    if task.responsible_school_id is not None:
        return schools.get(task.responsible_school_id, "?")
    return "—"


@task_app.command("list")
def list_command(
    status: str | None = typer.Option(None, "--status", help="只列此状态：待签收、已签收、办理中、已提交、已销号、已撤销"),
    department: str | None = typer.Option(None, "--department", "-d", help="只列此责任单位（全称、简称或别名）"),
    overdue: bool = typer.Option(False, "--overdue", help="只列逾期任务"),
    campaign: str | None = typer.Option(None, "--campaign", "-c", help="创建工作编号；只有一个创建工作时可不写"),
    limit: int | None = typer.Option(None, "--limit", min=1, help="最多列出多少项"),
    today: str | None = typer.Option(None, "--today", help="按此日期（YYYY-MM-DD）计算逾期，用于演练"),
) -> None:
    """列出任务（按截止日期排序）。"""
    day = parse_today(today)
    wanted_status = _parse_status(status) if status else None
    existing_database_or_exit()
    migrate()
    with session_scope(get_engine()) as session:
        camp = resolve_campaign(session, campaign)
        dept = find_department(session, camp, department) if department else None
        tasks = list_tasks(session, camp, status=wanted_status, department=dept,
                           overdue=True if overdue else None, today=day, limit=limit)
        depts, schools = _unit_names(session, camp.id, short=True)
        # who has not signed: how long each has waited and how often it was reminded
        unsigned = unsigned_details(session, tasks, day) if wanted_status is TaskStatus.assigned else None
    console = Console(soft_wrap=True)
    if not tasks:
        console.print("没有符合条件的任务")
        return
    if unsigned is not None:
        units = {_unit_of(t, depts, schools) for t in tasks}
        console.print(f"未签收的任务 {len(tasks)} 项，涉及 {len(units)} 个单位："
                      + "、".join(escape(u) for u in sorted(units)))
    table = Table(title=f"{escape(camp.name)}：任务（{len(tasks)} 项）", show_lines=False)
    table.add_column("编号", justify="right", no_wrap=True)
    table.add_column("任务", overflow="fold")
    table.add_column("责任单位", overflow="fold")
    table.add_column("截止", no_wrap=True)
    table.add_column("状态", no_wrap=True)
    table.add_column("进度", justify="right", no_wrap=True)
    table.add_column("逾期", justify="right", no_wrap=True)
    if unsigned is not None:
        table.add_column("未签收", overflow="fold")
    for task in tasks:
        late = ""
        if is_overdue(task, day):  # past a Friday deadline on the weekend: overdue, 0 working days yet
            late = f"[red]{days_overdue(task, day) or '已逾期'}{' 个工作日' if days_overdue(task, day) else ''}[/red]"
        row = [str(task.id), escape(task.title), escape(_unit_of(task, depts, schools)),
               task.due_on.isoformat(),
               _styled_status(task.status) + (" [red]已退回[/red]" if task.return_reason is not None else ""),
               f"{task.progress}%", late]
        if unsigned is not None:
            row.append(_unsigned_text(unsigned.get(task.id)))
        table.add_row(*row)
    console.print(table)


def _unsigned_text(info: Unsigned | None) -> str:
    if info is None:
        return ""
    text = f"已交办 {info.working_days} 个工作日" if info.working_days else "今日交办"
    if not info.notified:
        return text + "，交办单尚未发出"
    return text + (f"，已催签 {info.reminders_sent} 次" if info.reminders_sent else "")


def _event_detail(event: Event) -> str:
    p = event.payload or {}
    parts: list[str] = []
    if "from" in p and "to" in p and p["from"] != p["to"]:
        parts.append(f"{p['from']} → {p['to']}")
    if event.type == "task.created":
        parts.append(f"截止 {p.get('due_on', '')}")
    if event.type in ("task.due_changed", "task.extension_requested", "task.extension_approved"):
        parts.append(f"截止 {p.get('due_from', '')} → {p.get('due_to', '')}")
    if event.type == "task.transferred":
        parts.append(f"牵头单位 {p.get('from_unit', '')} → {p.get('to_unit', '')}")
    if event.type in ("task.cooperator_reported", "task.cooperator_chased") and p.get("unit"):
        parts.append(f"配合单位 {p['unit']}")
    if event.type == "task.split":
        parts.append("子任务 " + "、".join(f"#{i}" for i in p.get("children") or []))
    if "percent" in p:
        parts.append(f"进度 {p['percent']}%")
    if event.type == "task.edited":
        from tracker.tasks.assign import describe_changes

        parts.append(describe_changes(p.get("changes") or {}))
    for key, label in (("note", "说明"), ("reason", "原因")):
        if p.get(key):
            parts.append(f"{label}：{p[key]}")
    if event.type == "task.resolved_by_data":
        parts.append(f"评估 #{p.get('assessment_id')} 显示已达标，待办公室销号")
    if event.type == "task.reopened" and p.get("assessment_id"):
        parts.append(f"评估 #{p['assessment_id']}")
    return "；".join(parts)


@task_app.command("show")
def show_command(task_id: int = typer.Argument(..., help="任务编号")) -> None:
    """查看一项任务的详情和办理记录（时间为北京时间）。"""
    existing_database_or_exit()
    migrate()
    with session_scope(get_engine()) as session:
        task = get_task(session, task_id)
        camp = session.get(Campaign, task.campaign_id)
        phase = session.get(Phase, task.phase_id)
        depts, schools = _unit_names(session, task.campaign_id)
        helpers = [d.name for d in cooperators(session, task)]
        assignee = session.get(Person, task.assignee_id) if task.assignee_id else None
        history = task_history(session, task.id)
    today = local_today()
    console = Console(soft_wrap=True)
    details = Table(show_header=False, box=None, padding=(0, 2), title=f"任务 #{task.id}：{escape(task.title)}")
    details.add_column(style="bold", no_wrap=True)
    details.add_column(overflow="fold")
    late = ""
    if is_overdue(task, today):
        days = days_overdue(task, today)
        late = f"[red]已逾期{f' {days} 个工作日' if days else ''}[/red]"
    timely = {True: "按期完成", False: "逾期完成", None: ""}[on_time(task)]
    rows = [
        ("创建工作", f"{camp.name}（{camp.code}）"),
        ("阶段", phase.name if phase else ""),
        ("状态", f"{_styled_status(task.status)}  进度 {task.progress}%  {late}{timely}"),
        ("责任单位", escape(_unit_of(task, depts, schools))),
        ("配合单位", escape("、".join(helpers)) or "—"),
        ("学校", escape(schools.get(task.school_id, "")) if task.school_id else "—"),
        ("指标", escape(task.indicator or "—")),
        ("截止日期", task.due_on.isoformat()),
        ("经办人", escape(assignee.name) if assignee else "—"),
        ("来源", ORIGIN_NAMES.get(task.origin, task.origin)
         + (f"：{escape(task.source)}" if task.source else "") + (f"（{escape(task.source_ref)}）" if task.source_ref else "")),
        ("佐证材料", "提交前须上传" if task.evidence_required else "不强制"),
        ("措施", escape(task.measures or "—")),
        ("最新说明", escape(task.notes or "—")),
    ]
    if task.return_reason is not None:
        rows.insert(0, ("已退回", f"[red]{escape(task.return_reason)}[/red]（请补充完善后重新提交）"))
    if task.resolved_by_assessment_id is not None:
        rows.append(("数据核验", f"评估 #{task.resolved_by_assessment_id} 显示已达标，待办公室销号"
                     if task.status != TaskStatus.verified.value else
                     f"评估 #{task.resolved_by_assessment_id} 显示已达标"))
    for label, value in rows:
        details.add_row(label, value)
    console.print(details)
    timeline = Table(title="办理记录（北京时间）")
    timeline.add_column("时间", no_wrap=True)
    timeline.add_column("事件", no_wrap=True)
    timeline.add_column("操作人", no_wrap=True)
    timeline.add_column("说明", overflow="fold")
    for event in history:
        timeline.add_row(local_time(event.at).strftime("%Y-%m-%d %H:%M"), EVENT_NAMES.get(event.type, event.type),
                         escape(event.actor), escape(_event_detail(event)))
    console.print(timeline)


def _move(task_id: int, actor_name: str, move: Callable[[Session, Task, Person], object], done: str) -> None:
    """Load the task, find ``--as`` in its campaign, make the move, commit, and say so."""
    migrate()
    with session_scope(get_engine()) as session:
        task = get_task(session, task_id)
        camp = session.get(Campaign, task.campaign_id)
        person = find_person(session, camp, actor_name)
        move(session, task, person)
        title, status = task.title, task.status
    Console(soft_wrap=True).print(
        f"任务 #{task_id}「{escape(title)}」{done}，当前状态：{_styled_status(status)}（操作人：{escape(actor_name)}）")


@task_app.command("accept")
def accept_command(task_id: int = typer.Argument(..., help="任务编号"), actor: str = AsOption) -> None:
    """签收任务（责任单位人员或办公室人员）。"""
    _move(task_id, actor, lambda s, t, p: lifecycle.accept(s, t, p), "已签收")


@task_app.command("progress")
def progress_command(
    task_id: int = typer.Argument(..., help="任务编号"),
    percent: int = typer.Argument(..., help="完成进度，0 到 100"),
    note: str = typer.Option("", "--note", help="进展说明"),
    actor: str = AsOption,
) -> None:
    """报告进度（首次报告后任务转为办理中）。"""
    _move(task_id, actor, lambda s, t, p: lifecycle.report_progress(s, t, p, percent, note),
          f"已报告进度 {percent}%")


@task_app.command("submit")
def submit_command(
    task_id: int = typer.Argument(..., help="任务编号"),
    note: str = typer.Option("", "--note", help="完成情况说明"),
    actor: str = AsOption,
) -> None:
    """提交任务，等待办公室销号（提交后停止计算逾期）。"""
    _move(task_id, actor, lambda s, t, p: lifecycle.submit(s, t, p, note), "已提交")


@task_app.command("verify")
def verify_command(task_id: int = typer.Argument(..., help="任务编号"), actor: str = AsOption) -> None:
    """销号（仅办公室人员）。"""
    _move(task_id, actor, lambda s, t, p: lifecycle.verify(s, t, p), "已销号")


@task_app.command("return")
def return_command(
    task_id: int = typer.Argument(..., help="任务编号"),
    reason: str = typer.Option(..., "--reason", help="退回原因", show_default=False),
    actor: str = AsOption,
) -> None:
    """退回已提交的任务，转回办理中（仅办公室人员）。"""
    # the 退回通知 is queued with the move (issue 12 §4)
    _move(task_id, actor, lambda s, t, p: immediate.return_task(s, t, p, reason), "已退回")


@task_app.command("withdraw")
def withdraw_command(
    task_id: int = typer.Argument(..., help="任务编号"),
    reason: str = typer.Option(..., "--reason", help="撤销原因", show_default=False),
    actor: str = AsOption,
) -> None:
    """撤销任务（仅办公室人员）。"""
    _move(task_id, actor, lambda s, t, p: lifecycle.withdraw(s, t, p, reason), "已撤销")


# the office's 督办 moves (issue 12 §2–3) add their commands to task_app
from junheng.cli import task_moves  # noqa: E402,F401
# 交办: task add | edit | import | template (registered on task_app)
from junheng.cli import task_assign  # noqa: E402,F401
