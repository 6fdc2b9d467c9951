"""`junheng assess FILE`: assess a school sheet against a standard, print a summary, write reports.

Exit code 0 whenever the assessment ran, whatever its verdict; 2 on bad input (sheet, standard,
county inputs, an output path that cannot be written), with the problems in Chinese and no
traceback.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from rich.console import Console
from rich.table import Table

from tracker.assessment import Assessment, AssessmentInputError
from tracker.assessment import assess as assess_county
from tracker.assessment.report import official_round, to_json, write_official_xlsx
from tracker.schooldata.sheet import read_school_sheet
from tracker.standards import load_standard
from tracker.standards.schema import STAGE_NAMES

console = Console()
errors = Console(stderr=True)

BAD_INPUT = 2
TOP_SHORTFALLS = 12
_VERDICT = {True: "[green]达标[/green]", False: "[red]不达标[/red]", None: "[yellow]无法判定[/yellow]"}
_STATUS = {"pass": "达标", "fail": "不达标", "unknown": "未知"}


def assess(
    file: Annotated[Path, typer.Argument(help="学校数据表（.xlsx 或 UTF-8 .csv）", show_default=False)],
    standard: Annotated[str, typer.Option("--standard", help="评估标准编号（见 junheng standards list）")] = (
        "national-2017"
    ),
    json_out: Annotated[Path | None, typer.Option("--json", help="把评估结果写成 JSON 文件")] = None,
    xlsx_out: Annotated[
        Path | None, typer.Option("--xlsx", help="写出官方表式（表Ⅱ-2、表Ⅲ、问题清单）的 .xlsx 文件")
    ] = None,
    inputs: Annotated[
        Path | None,
        typer.Option("--inputs", help="县级指标录入文件（YAML/JSON：指标代码: 数值、通过/不通过 或 得分）"),
    ] = None,
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="评估日期 YYYY-MM-DD，决定放宽条款是否适用（默认今天）")
    ] = None,
) -> None:
    """按标准评估学校数据：资源配置 7 项指标、差异系数、各校达标情况和问题清单。"""
    if xlsx_out is not None and xlsx_out.suffix.lower() != ".xlsx":
        _fail([f"--xlsx 的文件名应以 .xlsx 结尾，实际为「{xlsx_out.name}」。"])
    date = _parse_date(as_of)
    std = load_standard(standard)
    county_inputs = _read_inputs(inputs) if inputs is not None else None
    records = read_school_sheet(file)
    try:
        result = assess_county(std, records, county_inputs, as_of=date)
    except AssessmentInputError as exc:
        _fail([f"县级指标录入文件「{inputs}」有问题："] + exc.problems)

    _summary(result, len(records))
    if json_out is not None:
        _write(json_out, lambda: json_out.write_text(
            json.dumps(to_json(result), ensure_ascii=False, indent=2), encoding="utf-8"))
        console.print(f"已写出 JSON：{json_out}", highlight=False, soft_wrap=True)
    if xlsx_out is not None:
        _write(xlsx_out, lambda: write_official_xlsx(result, xlsx_out))
        console.print(f"已写出官方表式：{xlsx_out}", highlight=False, soft_wrap=True)


def _fail(lines: list[str]) -> NoReturn:
    errors.print("[red]错误：[/red]" + lines[0], soft_wrap=True, highlight=False, markup=True)
    for line in lines[1:]:
        errors.print("  " + line, soft_wrap=True, highlight=False, markup=False)
    raise typer.Exit(code=BAD_INPUT)


def _parse_date(text: str | None) -> dt.date | None:
    if text is None:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        _fail([f"--as-of 应为日期，格式 YYYY-MM-DD，实际为「{text}」。"])


def _read_inputs(path: Path) -> dict[str, object]:
    # a file a person gives: read within the bounds every YAML input has (size, depth, aliases)
    from tracker.yamlfile import YamlError, read_text, read_yaml

    try:
        data = read_yaml(read_text(path), dates=False).data  # JSON is YAML too
    except FileNotFoundError:
        _fail([f"找不到县级指标录入文件：{path}"])
    except (OSError, UnicodeDecodeError) as exc:
        _fail([f"无法读取县级指标录入文件「{path}」：{exc}"])
    except YamlError as exc:
        where = f"第 {exc.line} 行：" if exc.line else ""
        _fail([f"县级指标录入文件「{path}」格式错误：{where}{exc.message}"])
    if data is None:
        return {}
    if not isinstance(data, dict):
        _fail([f"县级指标录入文件「{path}」应为「指标代码: 值」的映射。"])
    return {str(k): v for k, v in data.items()}


def _write(path: Path, write) -> None:  # noqa: ANN001
    if path.is_dir():
        _fail([f"「{path}」是一个目录，请给出文件名。"])
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write()
    except OSError as exc:
        _fail([f"无法写入「{path}」：{exc.strerror or exc}"])


def _fmt(value: float | None, digits: int) -> str:
    """Rounded half up like the official tables, so the summary and 表Ⅲ show the same figures."""
    return "—" if value is None else f"{official_round(value, digits):.{digits}f}"


def _summary(result: Assessment, n_records: int) -> None:
    sections = sum(len(s.schools) for s in result.stages.values())
    console.rule(f"{result.standard_title}（{result.standard}）")
    console.print(
        f"学校 {n_records} 所，参评学段 {sections} 个"
        + (f"，未参评 {len(result.excluded)} 所" if result.excluded else "")
        + f"；评估日期 {result.as_of.isoformat()}",
        highlight=False,
    )
    reasons = result.verdict_reasons()
    console.print(f"资源配置结论：{_VERDICT[result.ok]}" + (f"（{'；'.join(reasons)}）" if reasons else ""),
                  highlight=False, soft_wrap=True)

    table = Table(title="资源配置指标（县域值为总量之比，差异系数按在校生数加权）", show_lines=False)
    table.add_column("指标", min_width=12, overflow="fold")
    for column in ("学段", "标准", "县域值", "差异系数", "限值", "未达标", "结论"):
        table.add_column(column, justify="right", no_wrap=True)
    codes = list(next(iter(result.stages.values())).indicators) if result.stages else []
    for code in codes:
        for stage, stage_result in result.stages.items():
            ind = stage_result.indicators[code]
            table.add_row(
                f"{code}.{ind.title}" if stage == "primary" else "",
                STAGE_NAMES[stage],
                f"{ind.threshold:g}",
                _fmt(ind.county_value, result.rounding["county_value"]),
                _fmt(ind.cv, result.rounding["cv"]),
                f"{ind.cv_limit:.2f}",
                f"{ind.schools_below}/{ind.sections}",
                _VERDICT[ind.cv_ok],
            )
    console.print(table)

    for stage, stage_result in result.stages.items():
        n = len(stage_result.schools)
        console.print(
            f"{STAGE_NAMES[stage]}：{n} 个学段中 {stage_result.schools_not_ok} 个未达到每校标准",
            highlight=False,
        )
    for check in result.checks:
        console.print(f"指标 {check.indicator}（按校检查）：{_STATUS[check.status]}，{check.detail}", highlight=False,
                      soft_wrap=True)
    county = [c.status for c in result.county]
    if county:
        console.print(
            f"县级指标及申报条件、否决项 {len(county)} 项：达标 {county.count('pass')}，"
            f"不达标 {county.count('fail')}，未录入 {county.count('unknown')}",
            highlight=False,
        )
    if result.scoring is not None:
        sc = result.scoring
        total = "未全部评分" if sc.total is None else f"{sc.total:g} 分"
        console.print(f"B 类计分：{total}，{_VERDICT[sc.ok]}" + (f"，等次 {sc.grade}" if sc.grade else "")
                      + (f"（{sc.grade_note}）" if sc.grade_note else ""), highlight=False, soft_wrap=True)
        if sc.grade:
            console.print(f"[dim]{sc.grade_rule}[/dim]", highlight=False, soft_wrap=True)

    blocking = [s for s in result.shortfalls if s.blocking]
    order = {"cv": 0, "county": 1, "school_value": 2, "school_check": 3}
    blocking.sort(key=lambda s: order[s.kind])
    plans = sum(s.plan_required for s in result.shortfalls)
    console.print(
        f"问题清单：{len(result.shortfalls)} 项，其中影响达标 {len(blocking)} 项"
        + (f"，需制定建设规划 {plans} 项" if plans else ""),
        highlight=False,
    )
    for s in blocking[:TOP_SHORTFALLS]:
        console.print(f"  · {s.description}", highlight=False, soft_wrap=True, markup=False)
    if len(blocking) > TOP_SHORTFALLS:
        console.print(f"  …… 另有 {len(blocking) - TOP_SHORTFALLS} 项，见 --json / --xlsx 输出", highlight=False)
    for note in result.notes:
        console.print(f"[dim]{note}[/dim]", highlight=False, soft_wrap=True)
