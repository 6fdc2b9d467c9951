"""`junheng task add|edit|import|template`: 交办 from the command line (issue 12 §1). The commands
are registered on ``task_app`` (junheng.cli.task imports this module)."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.markup import escape

from junheng.cli.common import existing_database_or_exit
from junheng.cli.task import AsOption, task_app
from tracker.db import get_engine, migrate, session_scope
from tracker.org.models import Campaign
from tracker.org.service import find_person, resolve_campaign
from tracker.tasks.service import get_task

# `junheng task list` loads this module too: what only these commands need is imported in them
SOURCE_NAMES = ("领导批示", "会议决定", "上级交办", "督查发现", "方案任务", "其他")  # TaskSource, for --help


CampaignOption = typer.Option(None, "--campaign", "-c", help="创建工作编号；只有一个创建工作时可不写")


def _split(values: list[str]) -> list[str]:
    out: list[str] = []
    for value in values:
        out += [v.strip() for v in value.replace("，", "、").replace(",", "、").split("、") if v.strip()]
    return out


@task_app.command("add")
def add_command(
    title: str = typer.Argument(..., help="任务名称"),
    lead: str = typer.Option(..., "--lead", help="牵头单位（全称、简称或别名；或学校名称）", show_default=False),
    due: str = typer.Option(..., "--due", help="完成时限 YYYY-MM-DD", show_default=False),
    source: str = typer.Option("其他", "--source", help="事项来源：" + "、".join(SOURCE_NAMES)),
    source_ref: str = typer.Option("", "--ref", help="来源文号，或会议名称和日期"),
    measures: str = typer.Option("", "--measures", help="措施/要求"),
    cooperating: list[str] = typer.Option([], "--with", help="配合单位（可重复，或用顿号分隔）"),
    phase: str | None = typer.Option(None, "--phase", help="阶段名称或代码；不填为当前阶段"),
    evidence: bool = typer.Option(False, "--evidence/--no-evidence", help="提交前是否须上传佐证材料"),
    indicator: str | None = typer.Option(None, "--indicator", help="对应的指标代码（选填）"),
    every: str | None = typer.Option(None, "--every", help="重复：「每月 25 日」或「每周五」，到期后自动交办下一期"),
    campaign: str | None = CampaignOption,
    actor: str = AsOption,
) -> None:
    """交办一项任务（仅办公室人员）；任务交办单在下次提醒扫描时发出。"""
    from tracker.tasks.assign import OfficeTaskInput, create_office_task

    existing_database_or_exit()
    migrate()
    with session_scope(get_engine()) as session:
        camp = resolve_campaign(session, campaign)
        person = find_person(session, camp, actor)
        task = create_office_task(session, camp, OfficeTaskInput(
            title=title, lead=lead, due_on=due, source=source, source_ref=source_ref, measures=measures,
            cooperating=_split(cooperating), phase=phase, evidence_required=evidence, indicator=indicator,
            recurrence=every),
            person)
        task_id, due_on = task.id, task.due_on
    Console(soft_wrap=True).print(f"已交办任务 #{task_id}「{escape(title)}」，完成时限 {due_on.isoformat()}")


@task_app.command("edit")
def edit_command(
    task_id: int = typer.Argument(..., help="任务编号"),
    reason: str = typer.Option(..., "--reason", help="调整原因", show_default=False),
    title: str | None = typer.Option(None, "--title", help="新的任务名称"),
    measures: str | None = typer.Option(None, "--measures", help="新的措施/要求"),
    lead: str | None = typer.Option(None, "--lead", help="新的牵头单位（仅待签收的任务）"),
    cooperating: list[str] | None = typer.Option(None, "--with", help="新的配合单位（全部列出；可重复）"),
    clear_cooperating: bool = typer.Option(False, "--no-cooperating", help="取消全部配合单位"),
    due: str | None = typer.Option(None, "--due", help="新的完成时限 YYYY-MM-DD"),
    actor: str = AsOption,
) -> None:
    """调整办公室交办的任务（仅办公室人员），记录原因并通知责任单位。"""
    from tracker.reminders import immediate
    from tracker.tasks.assign import TaskEdit, describe_changes

    existing_database_or_exit()
    migrate()
    helpers = [] if clear_cooperating else (_split(cooperating) if cooperating else None)
    with session_scope(get_engine()) as session:
        task = get_task(session, task_id)
        person = find_person(session, session.get(Campaign, task.campaign_id), actor)
        event = immediate.edit_task(session, task, TaskEdit(reason=reason, title=title, measures=measures,
                                                            lead=lead, cooperating=helpers, due_on=due), person)
        changes = event.payload["changes"] if event is not None else None
    console = Console(soft_wrap=True)
    if not changes:
        console.print(f"任务 #{task_id} 没有变化")
        return
    console.print(f"已调整任务 #{task_id}：{escape(describe_changes(changes))}（已通知责任单位）")


@task_app.command("template")
def template_command(
    out: Path = typer.Option(Path("任务清单.xlsx"), "--out", "-o", help="保存路径（.xlsx）"),
    campaign: str | None = CampaignOption,
) -> None:
    """生成任务清单模板（.xlsx），带本创建工作的单位、阶段和事项来源下拉列表。"""
    from tracker.tasks.tasklist import write_tasklist_template

    existing_database_or_exit()
    migrate()
    with session_scope(get_engine()) as session:
        path = write_tasklist_template(session, resolve_campaign(session, campaign), out)
    Console(soft_wrap=True).print(f"已生成任务清单模板：{escape(str(path))}")


@task_app.command("import")
def import_command(
    file: Path = typer.Argument(..., help="任务清单 .xlsx（junheng task template 生成）"),
    campaign: str | None = CampaignOption,
    actor: str = AsOption,
) -> None:
    """导入任务清单，批量交办（仅办公室人员）。先检查整份清单，有任何问题都不导入；重复导入不会重复建任务。"""
    from tracker.tasks.tasklist import import_tasklist

    existing_database_or_exit()
    migrate()
    with session_scope(get_engine()) as session:
        camp = resolve_campaign(session, campaign)
        result = import_tasklist(session, camp, file, find_person(session, camp, actor))
        created = [(t.id, t.title) for t in result.created]
        unchanged = result.unchanged
    console = Console(soft_wrap=True)
    console.print(f"已导入任务清单：新建 {len(created)} 项" + (f"，已导入过未重复创建 {unchanged} 项" if unchanged else ""))
    for task_id, title in created:
        console.print(f"  #{task_id} {escape(title)}")
