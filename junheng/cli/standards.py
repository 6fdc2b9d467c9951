"""`junheng standards list|show`: the evaluation standards the tool knows."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from tracker.standards import list_standards, load_standard, load_standard_file
from tracker.standards.describe import (
    JUDGED_NAMES,
    grade_rule_text,
    number,
    per_school_rule_text,
    requirement_text,
)
from tracker.standards.schema import STAGE_NAMES, Condition, Judged, Standard

standards_app = typer.Typer(
    help="评估标准：列出和查看督导评估标准（国家标准、省级标准）",
    no_args_is_help=True,
)


@standards_app.command("list")
def list_command() -> None:
    """列出所有可用的评估标准。"""
    standards = list_standards()
    table = Table(title="评估标准", show_lines=True)
    table.add_column("编号", no_wrap=True)
    table.add_column("名称", overflow="fold")
    table.add_column("文件", overflow="fold")
    table.add_column("指标")
    for standard in standards:
        counts = Counter(ind.judged for ind in standard.indicators)
        breakdown = "\n".join(f"{JUDGED_NAMES[j]} {counts[j]}" for j in Judged if counts[j])
        table.add_row(
            standard.id,
            escape(standard.title),
            escape(standard.document),
            f"共 {len(standard.indicators)} 项\n{breakdown}",
        )
    Console().print(table)


def _load(reference: str) -> Standard:
    """An id of a known standard, or a path to a YAML file (a county's own standard)."""
    if reference.endswith((".yaml", ".yml")) or "/" in reference or "\\" in reference:
        return load_standard_file(Path(reference))
    return load_standard(reference)


def _condition_lines(items: list[Condition]) -> list[str]:
    lines = []
    for item in items:
        units = "、".join(item.departments) or "—"
        sections = f"（科室：{'、'.join(item.bureau_units)}）" if item.bureau_units else ""
        lines.append(f"  [bold]{escape(item.code)}[/bold]  {escape(item.title)}")
        lines.append(f"      责任单位：{escape(units + sections)}")
    return lines


@standards_app.command("show")
def show_command(
    standard_ref: str = typer.Argument(
        ..., metavar="ID", help="标准编号（如 national-2017）或标准 YAML 文件路径"
    ),
) -> None:
    """显示一个标准的全部指标、申报条件、否决项和放宽条件。"""
    standard = _load(standard_ref)
    out: list[str] = []
    out.append(f"[bold]{escape(standard.id)}[/bold]  {escape(standard.title)}")
    issued = f"  印发：{standard.issued.isoformat()}" if standard.issued else ""
    out.append(f"文件：{escape(standard.document)}{issued}  适用：{escape(standard.region)}")
    out.append(
        "差异系数："
        + "；".join(f"{STAGE_NAMES[s]} ≤ {v['cv_limit']:.2f}" for s, v in standard.stages.items())
    )
    out.append(f"按校规则：{per_school_rule_text(standard)}")
    out.append(
        "设施拆分（每生权重）："
        + "；".join(f"{t} {' : '.join(number(r) for r in ratios)}" for t, ratios in standard.splitting.items())
    )
    if standard.scoring is not None:
        sc = standard.scoring
        out.append(
            f"计分：B 类总分 {number(sc.total_points)} 分，总分 ≥ {number(sc.pass_total)} 分且每项不低于"
            f"该项分值的 {number(sc.per_indicator_min_ratio * 100)}%；{escape(grade_rule_text(sc))}。"
            "有分项的指标可按分项录入得分（如 8.1、8.2），合计为该指标得分"
        )
    for area in standard.areas:
        indicators = [ind for ind in standard.indicators if ind.area == area.code]
        out.append("")
        out.append(f"[bold cyan]{escape(area.code)} {escape(area.title)}[/bold cyan]（{len(indicators)} 项）")
        for ind in indicators:
            klass = f"[{ind.klass}类] " if ind.klass else ""
            out.append(
                f"  [bold]{escape(ind.code)}[/bold]  {escape(ind.title)}  "
                f"{escape(klass)}（{JUDGED_NAMES[ind.judged]}）"
            )
            out.append(f"      要求：{escape(requirement_text(ind))}")
            if ind.judged in (Judged.attestation, Judged.county_figure):
                for criterion in ind.criteria:
                    out.append(f"        · {escape(criterion)}")
            for k, item in enumerate(ind.sub_items, start=1):
                out.append(f"        · {escape(ind.code)}.{k} {escape(str(item['title']))}"  # type: ignore[arg-type]
                           f"（{number(float(item['points']))} 分）")  # type: ignore[arg-type]
            units = "、".join(ind.departments) or "—"
            sections = f"（科室：{'、'.join(ind.bureau_units)}）" if ind.bureau_units else ""
            school = "；学校可自行整改" if ind.school_can_fix else ""
            out.append(f"      责任单位：{escape(units + sections + school)}")
    if standard.application_conditions:
        out.append("")
        out.append("[bold cyan]申报条件[/bold cyan]")
        out.extend(_condition_lines(standard.application_conditions))
    if standard.vetoes:
        out.append("")
        out.append("[bold cyan]一票否决[/bold cyan]（有以下情况之一的县不予认定）")
        out.extend(_condition_lines(standard.vetoes))
    if standard.allowances:
        out.append("")
        out.append("[bold cyan]放宽条件[/bold cyan]")
        for allowance in standard.allowances:
            out.append(f"  [bold]{escape(allowance.id)}[/bold]  {escape(allowance.title)}")
            when = f"自 {allowance.valid_from.isoformat()} 起" if allowance.valid_from else "无起始日期"
            if allowance.valid_until:
                when += f"，至 {allowance.valid_until.isoformat()}"
            extra = []
            if allowance.applies_to:
                extra.append(f"适用指标 {'、'.join(allowance.applies_to)}")
            if allowance.requires_plan:
                extra.append(f"须做建设规划，认定后 {allowance.years_to_full_standard} 年内达标")
            if not allowance.computed:
                extra.append("不能由学校数据判定，由县里认定")
            out.append(f"      {escape('；'.join([when, *extra]))}")
    console = Console(soft_wrap=True)
    for line in out:
        console.print(line)
