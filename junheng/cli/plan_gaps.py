"""`junheng plan-gaps FILE`: the least-cost additions that make the assessment pass (补短板测算).

FILE is a school sheet as `junheng assess` takes it; or `--campaign CODE` plans from the campaign's
latest assessment. cvxpy is imported by the planner only when this command runs.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from tracker.errors import ErrorKind, JunhengError
from tracker.standards.schema import STAGE_NAMES

console = Console(soft_wrap=True, highlight=False)


class PlanGapsUsage(JunhengError, ValueError, kind=ErrorKind.invalid):
    """The command's arguments do not fit together."""


def plan_gaps(
    file: Annotated[Path | None, typer.Argument(help="学校数据表（.xlsx 或 UTF-8 .csv）；用 --campaign 时不写",
                                               show_default=False)] = None,
    standard: Annotated[str, typer.Option("--standard", help="评估标准编号（见 junheng standards list）")] = (
        "national-2017"
    ),
    costs: Annotated[Path | None, typer.Option("--costs", help="单价文件（YAML）；不写时用内置的示意单价")] = None,
    margin: Annotated[float, typer.Option("--margin", help="差异系数预留余量：测算目标为 限值 − 余量")] = 0.02,
    json_out: Annotated[Path | None, typer.Option("--json", help="把测算结果写成 JSON 文件")] = None,
    xlsx_out: Annotated[Path | None, typer.Option("--xlsx", help="把测算结果写成 .xlsx 文件")] = None,
    campaign: Annotated[str | None, typer.Option("--campaign", "-c",
                                                 help="按该创建工作最近一次评估的数据测算（不写 FILE）")] = None,
) -> None:
    """补短板测算：以最少费用补充教师、校舍和运动场馆面积、仪器设备、多媒体教室，使资源配置评估通过。"""
    from tracker.gaps.costs import read_costs
    from tracker.gaps.report import plan_json, write_plan_xlsx

    if (file is None) == (campaign is None):
        raise PlanGapsUsage("请给出学校数据表 FILE，或用 --campaign 指定创建工作（二者选一）。")
    if not 0 <= margin < 0.45:
        raise PlanGapsUsage(f"--margin 应在 0 到 0.45 之间，实际为 {margin:g}。")
    if xlsx_out is not None and xlsx_out.suffix.lower() != ".xlsx":
        raise PlanGapsUsage(f"--xlsx 的文件名应以 .xlsx 结尾，实际为「{xlsx_out.name}」。")
    book = read_costs(costs)
    if campaign is not None:
        from junheng.cli.common import campaign_or_exit
        from tracker.db import session_scope
        from tracker.gaps.campaign import campaign_gap_plan

        with session_scope() as session:  # the plan is kept for the tasks and the 任务分解表
            plan = campaign_gap_plan(session, campaign_or_exit(session, campaign), book, margin)
    else:
        from tracker.gaps.report import make_plan
        from tracker.schooldata.sheet import read_school_sheet
        from tracker.standards import load_standard

        assert file is not None
        plan = make_plan(load_standard(standard), read_school_sheet(file), book, margin)

    data = plan_json(plan)
    _summary(plan, data)
    if json_out is not None:
        _write(json_out, lambda: json_out.write_text(json.dumps(data, ensure_ascii=False, indent=2), encoding="utf-8"))
        console.print(f"已写出 JSON：{json_out}")
    if xlsx_out is not None:
        _write(xlsx_out, lambda: write_plan_xlsx(plan, xlsx_out))
        console.print(f"已写出测算表：{xlsx_out}")


class OutputError(JunhengError, ValueError, kind=ErrorKind.invalid):
    """An output path that cannot be written."""


def _write(path: Path, write) -> None:  # noqa: ANN001
    if path.is_dir():
        raise OutputError(f"「{path}」是一个目录，请给出文件名。")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write()
    except OSError as exc:
        raise OutputError(f"无法写入「{path}」：{exc.strerror or exc}") from None


def _summary(plan, data: dict) -> None:  # noqa: ANN001
    result = plan.result
    console.rule(f"补短板测算（{plan.standard.title}）")
    if plan.costs.illustrative:
        console.print("[yellow]注意：使用的是内置示意单价，仅供演示；请用 --costs 指定本县实际单价。[/yellow]")
    if not result.feasible:
        console.print("[red]在给定上限内无法使评估通过：[/red]")
        for text in result.infeasible:
            console.print(f"  · {text}", markup=False)
    else:
        verdict = "[green]通过[/green]" if plan.feasible else "[red]仍未通过[/red]"
        console.print(f"测算方案费用：{data['total_cost']:.2f} 万元（补充后资源配置评估：{verdict}）")
        console.print(f"连续最优解（人数、间数不取整）：{data['continuous_cost']:.2f} 万元；"
                      f"下界：{data['lower_bound']:.2f} 万元")
        console.print("“6 项达标、第 7 项不低于 85%”的选择："
                      + ("已证明最优" if data["exact_choice"]
                         else f"未证明最优（外逼近达到迭代或时间上限，与下界相差 {data['choice_gap']:.2f} 万元）"))
    naive = data["naive"]
    console.print(f"朴素方案（各未达标学校补到标准）：{naive['total_cost']:.2f} 万元，"
                  + ("能通过" if naive["ok"] else "不能通过：" + "；".join(naive["reasons"])))
    if not data["additions"]:
        return
    table = Table(title="按指标汇总")
    for column in ("指标", "增加数量", "费用（万元）"):
        table.add_column(column, justify="right" if column != "指标" else "left")
    for row in data["totals"]["by_indicator"]:
        table.add_row(f"{row['indicator']}. {row['title']}", f"{row['amount']:g} {row['unit']}", f"{row['cost']:.2f}")
    console.print(table)
    cvs = Table(title="差异系数（补充前 → 补充后，目标 = 限值 − 余量）")
    for column in ("学段", "指标", "补充前", "补充后", "目标"):
        cvs.add_column(column, justify="right")
    for row in data["cvs"]:
        before = "—" if row["before"] is None else f"{row['before']:.4f}"
        after = "—" if row["after"] is None else f"{row['after']:.4f}"
        cvs.add_row(STAGE_NAMES[row["stage"]], row["indicator"], before, after, f"{row['target']:.3f}")
    console.print(cvs)
    console.print(f"补充明细 {len(data['additions'])} 项，见 --json / --xlsx 输出。")
