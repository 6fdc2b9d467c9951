"""`junheng demo [--dir DIR]`: the example county end to end, in one directory.

A clear sequence of steps, each printed as it runs (later issues add steps: the mail sink, the
web pages). Running it again changes nothing that exists: the plan is applied idempotently and
the self-check creates no second task.

1. the database: DIR/junheng.db, unless JUNHENG_DATABASE_URL names another; migrated;
2. the campaign from examples/plan.yaml (created, or updated in place);
3. the self-check flow on examples/schools.xlsx (import → assess → tasks);
4. the dispatcher: flows that react to recorded events;
5. the documents, written into DIR: 任务分解表 (.xlsx, .docx) and the assessment (.json, .xlsx);
6. the campaign's status.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from rich.console import Console
from rich.markup import escape

from junheng.cli.prefect_console import quiet_prefect

console = Console(highlight=False, soft_wrap=True)
errors = Console(stderr=True, highlight=False, soft_wrap=True)

DEFAULT_DIR = Path("junheng-demo")
DEMO_ACTOR = "韩静"  # the example plan's office director runs the self-check


class DemoError(Exception):
    """Something the demo needs is missing (Chinese message)."""


def examples_dir() -> Path:
    """The bundled example county: in an installed wheel it ships inside the package
    (junheng/examples); in a checkout it is the repository's examples/ beside the package."""
    package = Path(__file__).resolve().parents[1]
    for candidate in (package / "examples", package.parent / "examples"):
        if (candidate / "plan.yaml").is_file() and (candidate / "schools.xlsx").is_file():
            return candidate
    raise DemoError(f"找不到示例文件（plan.yaml、schools.xlsx）：已查找 {package / 'examples'} 和 "
                    f"{package.parent / 'examples'}")


def _fail(message: str) -> NoReturn:
    errors.print(f"[red]错误：[/red]{escape(message)}")
    raise typer.Exit(2)


def _step(number: int, text: str) -> None:
    console.print(f"\n[bold]{number}. {escape(text)}[/bold]")


def use_database(directory: Path) -> tuple[str, bool]:
    """The demo's database: JUNHENG_DATABASE_URL when set (second value True), else DIR/junheng.db
    — made the process default, so the flows' steps (which open their own sessions) use it too."""
    from tracker.settings import get_settings

    given = os.environ.get("JUNHENG_DATABASE_URL")
    url = given or f"sqlite:///{(directory / 'junheng.db').resolve()}"
    os.environ["JUNHENG_DATABASE_URL"] = url
    get_settings.cache_clear()
    return url, bool(given)


def demo(
    directory: Annotated[Path, typer.Option("--dir", help="演示目录：数据库（未设置 JUNHENG_DATABASE_URL 时）和生成的文件都放在这里")] = DEFAULT_DIR,
) -> None:
    """演示：用示例县（青川县）的方案和学校数据走一遍——建立创建工作、运行自查流程、导出任务分解表、查看进展。可重复运行。"""
    import asyncio

    from sqlalchemy.engine import make_url

    from tracker.db import migrate

    try:
        examples = examples_dir()
        directory.mkdir(parents=True, exist_ok=True)
    except DemoError as exc:
        _fail(str(exc))
    except OSError as exc:
        _fail(f"无法建立演示目录 {directory}：{exc}")
    url, from_env = use_database(directory)

    _step(1, "数据库")
    parsed = make_url(url)
    shown = (f"{parsed.database}（SQLite 文件）" if parsed.get_backend_name() == "sqlite" and parsed.database
             else parsed.render_as_string(hide_password=True))
    console.print(f"数据库：{escape(shown)}" + ("（来自 JUNHENG_DATABASE_URL）" if from_env else ""))
    migrate(url)

    _step(2, f"创建工作：按方案 {examples / 'plan.yaml'} 建立（已建立则按方案更新）")
    code, name, created = _apply_plan(examples / "plan.yaml")
    console.print(f"{'已建立' if created else '已存在，按方案更新'}：{escape(name)}（编号 {escape(code)}）")

    _step(3, f"自查流程（Prefect）：导入 {examples / 'schools.xlsx'}、评估、生成任务")
    quiet_prefect()
    from flows.dispatcher import DispatchMode, dispatch_pending
    from flows.selfcheck import run_self_check_flow
    from junheng.cli.dispatch import print_report

    console.print("（首次运行时 Prefect 需要十几秒启动本地临时服务器）")
    counts = run_self_check_flow(code, examples / "schools.xlsx", DEMO_ACTOR, "自查（演示）")
    console.print(f"第 {counts['submission_id']} 批数据，评估 #{counts['assessment_id']}；任务：新建 {counts['created']} 项，"
                  f"数据已达标 {counts['resolved']} 项，重新打开 {counts['reopened']} 项，未变 {counts['unchanged']} 项")

    _step(4, "事件分发：启动响应事件的流程（阶段验收、整改复测）")
    print_report(asyncio.run(dispatch_pending(mode=DispatchMode.embedded)))

    _step(5, f"导出文件到 {directory}")
    for path in _write_documents(code, counts["assessment_id"], directory):
        console.print(f"已写出 {escape(str(path))}")

    _step(6, "创建工作进展")
    from junheng.cli.status import status

    status(campaign=code, as_json=False, today=None)
    console.print(f"\n演示完成。再次运行 junheng demo --dir {directory} 不会重复建立创建工作或任务；"
                  f"查看任务：JUNHENG_DATABASE_URL={escape(url)} junheng task list")


def _apply_plan(plan_path: Path) -> tuple[str, str, bool]:
    from sqlmodel import select

    from tracker.campaigns.models import Campaign
    from tracker.campaigns.plan import PlanError, load_plan
    from tracker.campaigns.service import apply_plan
    from tracker.db import session_scope

    try:
        plan = load_plan(plan_path)
    except PlanError as exc:
        _fail(str(exc))
    with session_scope() as session:
        existed = session.exec(select(Campaign.id).where(Campaign.code == plan.code)).first() is not None
        campaign = apply_plan(session, plan)
        return campaign.code, campaign.name, not existed


def _write_documents(code: str, assessment_id: int, directory: Path) -> list[Path]:
    from tracker.assessment.engine import assess
    from tracker.assessment.models import AssessmentSnapshot
    from tracker.assessment.report import write_official_xlsx
    from tracker.campaigns.breakdown import write_breakdown_docx, write_breakdown_xlsx
    from tracker.campaigns.selfcheck import county_inputs_of, records_of
    from tracker.campaigns.service import resolve_campaign
    from tracker.db import session_scope
    from tracker.schooldata.models import DataSubmission
    from tracker.standards import load_standard

    written = []
    with session_scope() as session:
        campaign = resolve_campaign(session, code)
        snapshot = session.get(AssessmentSnapshot, assessment_id)
        for suffix, writer in ((".xlsx", write_breakdown_xlsx), (".docx", write_breakdown_docx)):
            written.append(writer(session, campaign, directory / f"{code}-任务分解表{suffix}"))
        assessment_json = directory / f"{code}-评估结果.json"
        assessment_json.write_text(json.dumps(snapshot.result, ensure_ascii=False, indent=2), encoding="utf-8")
        written.append(assessment_json)
        # the official tables are drawn from the engine's result: assess the stored submission again
        # exactly as the snapshot was made (same records, county inputs and date)
        submission = session.get(DataSubmission, snapshot.submission_id)
        result = assess(load_standard(snapshot.standard_id), records_of(session, submission),
                        county_inputs_of(session, campaign), _as_of(snapshot))
        written.append(write_official_xlsx(result, directory / f"{code}-评估结果.xlsx"))
    return [Path(p) for p in written]


def _as_of(snapshot):
    from tracker.tasks.lifecycle import local_date

    return local_date(snapshot.created_at)
