"""Standards as data: load and validate the YAML files beside this module.

``load_standard("national-2017")`` returns the validated ``Standard``; a county's own
provincial standard can be loaded from any path (``load_standard_file``) or dropped into
``<JUNHENG_DATA_DIR>/standards/`` where ``load_standard`` and ``list_standards`` find it.
Every problem in a file is reported at once, in Chinese, naming the file and the field
path (``indicators[3].thresholds.primary``); nothing half-valid is ever returned.
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from tracker.standards.records import SCHOOL_TYPES, SchoolSection
from tracker.standards.schema import (
    STAGE_NAMES,
    Allowance,
    Check,
    Indicator,
    Judged,
    Standard,
    indicator_sort_key,
)
from tracker.errors import ErrorDetail, JunhengError
from tracker.yamlfile import YamlError, read_text, read_yaml

__all__ = [
    "BUNDLED_DIR",
    "CHECK_KINDS",
    "ALLOWANCE_CONDITIONS",
    "ROUNDING_KEYS",
    "StandardError",
    "indicator_sort_key",
    "list_standards",
    "load_standard",
    "load_standard_file",
    "standard_dirs",
]

BUNDLED_DIR = Path(__file__).resolve().parent

# The check kinds the engine implements and the params each one needs.
CHECK_KINDS: dict[str, tuple[str, ...]] = {
    "class_size": ("primary_max", "junior_max"),
    "school_size": ("max_students", "max_students_through"),
    "rooms_per_classes": ("classes_per_room", "music_min_area", "art_min_area"),
}
# Allowance conditions the engine can decide from school data, with their numbers.
ALLOWANCE_CONDITIONS: dict[str, tuple[str, ...]] = {
    "built_2016_or_earlier": ("built_year_max",),
    "rural_small_school": ("max_class_size_below",),
    "built_2010_or_earlier_or_migrant_over_50pct": ("built_year_max", "migrant_share_over"),
}
# What the official forms round, and to how many decimals unless a standard says otherwise.
ROUNDING_KEYS: tuple[str, ...] = ("school_value", "county_value", "cv")
# SchoolSection attributes a formula may name (the numeric per-section quantities).
_FORMULA_FIELDS = frozenset(
    f.name
    for f in dataclasses.fields(SchoolSection)
    if f.name not in {"school", "school_key", "stage", "students", "share"}
)
_ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]*$")


class StandardError(JunhengError, ValueError):
    """A standard file that cannot be used. ``str()`` is the Chinese message for users."""

    def __init__(self, file: str, problems: list[tuple[str, str]]):
        self.file = file
        self.problems = problems  # (field path or "", message)
        lines = [
            f"标准文件 {file}：{path}：{message}" if path else f"标准文件 {file}：{message}"
            for path, message in problems
        ]
        summary = lines[0] if len(lines) == 1 else f"标准文件 {file} 有 {len(lines)} 处问题"
        super().__init__("\n".join(lines), summary=summary, details=[
            ErrorDetail(line, location=path or None) for line, (path, _) in zip(lines, problems, strict=True)])


# ---------------------------------------------------------------------------- finding files


def standard_dirs() -> list[Path]:
    """Where standards are looked up by id: the bundled ones, then the county's own."""
    from tracker.settings import get_settings

    return [BUNDLED_DIR, get_settings().data_dir / "standards"]


def _files_by_id() -> dict[str, Path]:
    found: dict[str, Path] = {}
    for directory in standard_dirs():
        if not directory.is_dir():
            continue
        for path in sorted(directory.glob("*.yaml")):
            if path.stem in found:
                raise StandardError(
                    _display_name(path),
                    [("", f"标准编号“{path.stem}”与 {_display_name(found[path.stem])} 重名，请改名")],
                )
            found[path.stem] = path
    return found


def load_standard(standard_id: str) -> Standard:
    """The standard with this id (its file is ``<id>.yaml``); cached until the file changes."""
    if not _ID_PATTERN.match(standard_id or ""):
        raise StandardError(str(standard_id), [("", "标准编号只能由小写字母、数字、- 和 _ 组成")])
    files = _files_by_id()
    path = files.get(standard_id)
    if path is None:
        known = "、".join(sorted(files)) or "（无）"
        raise StandardError(f"{standard_id}.yaml", [("", f"没有编号为“{standard_id}”的标准；现有：{known}")])
    standard = load_standard_file(path)
    if standard.id != standard_id:
        raise StandardError(
            _display_name(path), [("id", f"应与文件名一致（“{standard_id}”），现为“{standard.id}”")]
        )
    return standard


def list_standards() -> list[Standard]:
    """Every standard that can be loaded by id, sorted by id."""
    return [load_standard(standard_id) for standard_id in sorted(_files_by_id())]


_cache: dict[tuple[str, int, int], Standard] = {}


def load_standard_file(path: str | Path) -> Standard:
    """Load and validate one standard file from any path (a county's provincial standard)."""
    path = Path(path)
    name = _display_name(path)
    try:
        stat = path.stat()
    except OSError:
        raise StandardError(name, [("", "找不到文件或无法读取")]) from None
    key = (str(path.resolve()), stat.st_mtime_ns, stat.st_size)
    if key in _cache:
        return _cache[key]
    standard = _parse(path, name)
    _cache[key] = standard
    return standard


def _display_name(path: Path) -> str:
    try:
        if path.resolve().parent == BUNDLED_DIR:
            return path.name
    except OSError:
        pass
    return str(path)


# ---------------------------------------------------------------------------- parsing


def _parse(path: Path, name: str) -> Standard:
    try:
        text = read_text(path)  # a county's own standard is a file a person gives: bounded
    except UnicodeDecodeError:
        raise StandardError(name, [("", "不是 UTF-8 编码的文本文件")]) from None
    except YamlError as exc:
        raise StandardError(name, [("", exc.message)]) from None
    except OSError:
        raise StandardError(name, [("", "找不到文件或无法读取")]) from None
    try:
        data = read_yaml(text).data
    except YamlError as exc:
        if exc.limit:
            raise StandardError(name, [("", exc.message)]) from None
        where = f"第 {exc.line} 行第 {exc.column} 列：" if exc.line else ""
        raise StandardError(name, [("", f"{where}YAML 格式错误（{exc.message}）")]) from None
    if not isinstance(data, dict):
        raise StandardError(name, [("", "文件内容应为一个映射（键: 值），以 id、title 等字段开头")])
    try:
        standard = Standard.model_validate(data)
    except ValidationError as exc:
        raise StandardError(name, [_pydantic_problem(err) for err in exc.errors()]) from None
    problems = list(_consistency_problems(standard))
    if problems:
        raise StandardError(name, problems)
    return standard


def _field_path(loc: Iterable[Any]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part == "[key]":
            out += "（键）"
        else:
            out += f".{part}" if out else str(part)
    return out


_TYPE_MESSAGES = {
    "missing": "缺少必填字段",
    "extra_forbidden": "不认识的字段（拼写错误？）",
    "float_parsing": "应为数字",
    "float_type": "应为数字",
    "finite_number": "应为有限的数字",
    "int_parsing": "应为整数",
    "int_type": "应为整数",
    "int_from_float": "应为整数",
    "bool_parsing": "应为 true 或 false",
    "bool_type": "应为 true 或 false",
    "string_type": "应为文字",
    "list_type": "应为列表",
    "dict_type": "应为映射（键: 值）",
    "model_type": "应为映射（键: 值）",
    "model_attributes_type": "应为映射（键: 值）",
    "date_parsing": "应为日期，格式 YYYY-MM-DD",
    "date_from_datetime_parsing": "应为日期，格式 YYYY-MM-DD",
    "date_from_datetime_inexact": "应为日期，格式 YYYY-MM-DD",
    "date_type": "应为日期，格式 YYYY-MM-DD",
}


def _pydantic_problem(err: dict[str, Any]) -> tuple[str, str]:
    kind = err.get("type", "")
    ctx = err.get("ctx") or {}
    if kind in ("literal_error", "enum"):
        message = f"取值应为 {ctx.get('expected', '')}，现为 {err.get('input')!r}"
    elif kind in ("value_error", "assertion_error"):
        message = str(ctx.get("error", err.get("msg", "")))
    elif kind in _TYPE_MESSAGES:
        message = _TYPE_MESSAGES[kind]
        if kind == "string_type" and isinstance(err.get("input"), int | float):
            message += "（编号等请加引号，如 \"1\"）"
        elif kind not in ("missing", "extra_forbidden"):
            message += f"，现为 {err.get('input')!r}"
    else:
        message = f"取值无效（{err.get('msg', kind)}）"
    return _field_path(err.get("loc", ())), message


# ---------------------------------------------------------------------------- cross-field rules


def _duplicates(values: list[str]) -> dict[str, list[int]]:
    seen: dict[str, list[int]] = {}
    for i, value in enumerate(values):
        seen.setdefault(value, []).append(i)
    return {v: idx for v, idx in seen.items() if len(idx) > 1}


def _consistency_problems(std: Standard) -> Iterable[tuple[str, str]]:
    """Rules that span fields: references resolve, codes are unique, points add up."""
    if not _ID_PATTERN.match(std.id):
        yield "id", "只能由小写字母、数字、- 和 _ 组成"

    # areas and stages
    for code, idx in _duplicates([a.code for a in std.areas]).items():
        for i in idx[1:]:
            yield f"areas[{i}].code", f"方面编号“{code}”重复"
    if not std.stages:
        yield "stages", "至少要有一个学段（primary 或 junior）"
    for stage, values in std.stages.items():
        limit = values.get("cv_limit")
        if limit is None:
            yield f"stages.{stage}.cv_limit", "缺少必填字段"
        elif not (0 < limit < math.inf):
            yield f"stages.{stage}.cv_limit", f"差异系数限值应大于 0，现为 {limit}"

    for school_type, ratios in std.splitting.items():
        if school_type not in SCHOOL_TYPES:
            yield f"splitting.{school_type}", f"学校类型应为 {'、'.join(SCHOOL_TYPES)} 之一"
        if len(ratios) < 2 or any(not (0 < r < math.inf) for r in ratios):
            yield f"splitting.{school_type}", "应为至少两个正数（各学段每生权重，如 [1, 1.1]）"
    if std.teaching_point_min_students < 0:
        yield "teaching_point_min_students", "不能为负数"
    for key, digits in std.rounding.items():
        if key not in ROUNDING_KEYS:
            yield f"rounding.{key}", f"不认识的字段（应为 {'、'.join(ROUNDING_KEYS)}）"
        elif not 0 <= digits <= 6:
            yield f"rounding.{key}", f"小数位数应在 0 到 6 之间，现为 {digits}"

    # indicators
    area_codes = {a.code for a in std.areas}
    codes = [ind.code for ind in std.indicators]
    for code, idx in _duplicates(codes).items():
        for i in idx[1:]:
            yield f"indicators[{i}].code", f"指标编号“{code}”重复（另见 indicators[{idx[0]}]）"
    by_code = {ind.code: ind for ind in std.indicators}
    allowance_ids = [a.id for a in std.allowances]
    for aid, idx in _duplicates(allowance_ids).items():
        for i in idx[1:]:
            yield f"allowances[{i}].id", f"放宽条件编号“{aid}”重复"

    for i, ind in enumerate(std.indicators):
        where = f"indicators[{i}]"
        if not ind.code.strip():
            yield f"{where}.code", "指标编号不能为空"
        if ind.area not in area_codes:
            yield f"{where}.area", f"方面“{ind.area}”不在 areas 中（{'、'.join(sorted(area_codes))}）"
        yield from _indicator_problems(std, ind, where, set(allowance_ids))

    # per-school rule
    rule = std.per_school_rule
    for j, code in enumerate(rule.indicators):
        ind = by_code.get(code)
        if ind is None:
            yield f"per_school_rule.indicators[{j}]", f"没有编号为“{code}”的指标"
        elif ind.judged is not Judged.per_school_value:
            yield f"per_school_rule.indicators[{j}]", f"指标“{code}”不是按校计算的指标（per_school_value）"
    if not 1 <= rule.min_met <= len(rule.indicators):
        yield "per_school_rule.min_met", f"应在 1 到 {len(rule.indicators)} 之间"
    if rule.min_met < len(rule.indicators) and rule.rest_min_ratio is None:
        yield "per_school_rule.rest_min_ratio", "未达标的余项须有最低比例（如 0.85）"
    if rule.rest_min_ratio is not None and not 0 < rule.rest_min_ratio <= 1:
        yield "per_school_rule.rest_min_ratio", "应在 0 到 1 之间（如 0.85）"

    # the satisfaction survey's rule: it fills a county figure in percent
    if std.survey is not None:
        ind = by_code.get(std.survey.indicator)
        if ind is None:
            yield "survey.indicator", f"没有编号为“{std.survey.indicator}”的指标"
        elif ind.judged is not Judged.county_figure or len(ind.all_thresholds) != 1:
            yield "survey.indicator", f"指标“{std.survey.indicator}”应为只有一个数值的县级指标（county_figure）"
        if not std.survey.satisfied:
            yield "survey.satisfied", "至少要有一个计为满意的选项（如 满意、比较满意）"
        both = set(std.survey.satisfied) & set(std.survey.left_out)
        if both:
            yield "survey.left_out", f"选项“{'、'.join(sorted(both))}”不能既计为满意又不计入"

    # allowances
    for i, allowance in enumerate(std.allowances):
        yield from _allowance_problems(allowance, f"allowances[{i}]", by_code)

    # conditions and vetoes
    seen_conditions: set[str] = set()
    for group, items in (("application_conditions", std.application_conditions), ("vetoes", std.vetoes)):
        for i, condition in enumerate(items):
            if condition.code in seen_conditions:
                yield f"{group}[{i}].code", f"申报条件 / 否决项编号“{condition.code}”重复"
            seen_conditions.add(condition.code)

    # scoring
    scored = [(i, ind) for i, ind in enumerate(std.indicators) if ind.judged is Judged.scored]
    if scored and std.scoring is None:
        i, ind = scored[0]
        yield f"indicators[{i}].judged", f"指标“{ind.code}”为计分指标，但标准没有 scoring"
    if std.scoring is not None:
        yield from _scoring_problems(std, scored)


def _indicator_problems(
    std: Standard, ind: Indicator, where: str, allowance_ids: set[str]
) -> Iterable[tuple[str, str]]:
    if ind.judged is Judged.per_school_value:
        formula = ind.formula
        assert formula is not None  # the schema guarantees it
        for part in ("numerator", "subtract"):
            for k, name in enumerate(getattr(formula, part)):
                if name not in _FORMULA_FIELDS:
                    yield (
                        f"{where}.formula.{part}[{k}]",
                        f"“{name}”不是学校数据字段（可用：{'、'.join(sorted(_FORMULA_FIELDS))}）",
                    )
        if not formula.numerator:
            yield f"{where}.formula.numerator", "至少要有一个字段"
        if not formula.scale > 0:
            yield f"{where}.formula.scale", "应为正数"
        for stage in std.stages:
            if stage not in ind.thresholds:
                yield f"{where}.thresholds.{stage}", f"缺少{STAGE_NAMES[stage]}的达标值"
        for stage, value in ind.thresholds.items():
            if stage not in std.stages:
                yield f"{where}.thresholds.{stage}", "标准的 stages 中没有这个学段"
            if not (0 < value < math.inf):
                yield f"{where}.thresholds.{stage}", f"达标值应为正数，现为 {value}"
    if ind.check is not None:
        yield from _check_problems(ind.check, f"{where}.check", allowance_ids)
    thresholds = ind.all_thresholds
    if ind.extra_thresholds:
        keys = [t.key for t in thresholds]
        for k, t in enumerate(thresholds):
            path = f"{where}.threshold" if k == 0 else f"{where}.extra_thresholds[{k - 1}]"
            if not t.key:
                yield f"{path}.key", "指标有多个数值要求时，每个都要有 key"
            elif keys.count(t.key) > 1:
                yield f"{path}.key", f"key“{t.key}”重复"
        if ind.threshold is None:
            yield f"{where}.threshold", "有 extra_thresholds 时必须先有 threshold"
    for k, t in enumerate(thresholds):
        path = f"{where}.threshold" if k == 0 else f"{where}.extra_thresholds[{k - 1}]"
        if t.stage is not None and t.stage not in std.stages:
            yield f"{path}.stage", "标准的 stages 中没有这个学段"
    if ind.judged is Judged.scored:
        if ind.points is not None and not ind.points > 0:
            yield f"{where}.points", "分值应为正数"
        if ind.klass == "A":
            yield f"{where}.class", "计分指标应为 B 类"
        yield from _sub_item_problems(ind, where)
    elif ind.klass == "B":
        yield f"{where}.class", "B 类指标应按计分评估（judged: scored）"
    elif ind.sub_items:
        yield f"{where}.sub_items", "只有计分指标（scored）才有分项分值"


def _check_problems(check: Check, where: str, allowance_ids: set[str]) -> Iterable[tuple[str, str]]:
    needed = CHECK_KINDS.get(check.kind)
    if needed is None:
        yield f"{where}.kind", f"不认识的检查类型“{check.kind}”（可用：{'、'.join(CHECK_KINDS)}）"
        return
    for param in needed:
        if param not in check.params:
            yield f"{where}.params.{param}", "缺少必填参数"
    for param, value in check.params.items():
        if param not in needed:
            yield f"{where}.params.{param}", f"{check.kind} 没有这个参数（可用：{'、'.join(needed)}）"
        elif not (0 < value < math.inf):
            yield f"{where}.params.{param}", f"应为正数，现为 {value}"
    for k, aid in enumerate(check.allowances):
        if aid not in allowance_ids:
            yield f"{where}.allowances[{k}]", f"没有编号为“{aid}”的放宽条件（allowances）"


def _allowance_problems(
    allowance: Allowance, where: str, by_code: dict[str, Indicator]
) -> Iterable[tuple[str, str]]:
    if allowance.valid_from and allowance.valid_until and allowance.valid_until < allowance.valid_from:
        yield f"{where}.valid_until", "截止日期早于起始日期"
    if allowance.requires_plan and not allowance.years_to_full_standard:
        yield f"{where}.years_to_full_standard", "需要建设规划时，应写明几年内达到标准"
    if allowance.computed:
        needed = ALLOWANCE_CONDITIONS.get(allowance.condition)
        if needed is None:
            yield (
                f"{where}.condition",
                f"不认识的条件“{allowance.condition}”（可用：{'、'.join(ALLOWANCE_CONDITIONS)}；"
                "不能由学校数据判定的请写 computed: false）",
            )
        else:
            for param in needed:
                if param not in allowance.condition_params:
                    yield f"{where}.condition_params.{param}", "缺少必填参数"
    for k, code in enumerate(allowance.applies_to):
        if code not in by_code:
            yield f"{where}.applies_to[{k}]", f"没有编号为“{code}”的指标"
    # the params a computed allowance overrides must be params of the checks it relaxes
    relaxed = [
        ind.check for ind in by_code.values() if ind.check and allowance.id in ind.check.allowances
    ]
    for param in allowance.params:
        base = re.sub(r"_(primary|junior)$", "", param)
        if relaxed and not any(base in c.params for c in relaxed):
            yield f"{where}.params.{param}", "所放宽的检查没有这个参数"


def _number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _sub_item_problems(ind: Indicator, where: str) -> Iterable[tuple[str, str]]:
    if not ind.sub_items:
        return
    total = 0.0
    for k, item in enumerate(ind.sub_items):
        path = f"{where}.sub_items[{k}]"
        title, points = item.get("title"), item.get("points")
        if not isinstance(title, str) or not title.strip():
            yield f"{path}.title", "缺少分项名称"
        if not _number(points) or points <= 0:  # type: ignore[operator]
            yield f"{path}.points", "分项分值应为正数"
        else:
            total += float(points)  # type: ignore[arg-type]
        for extra in set(item) - {"title", "points"}:
            yield f"{path}.{extra}", "不认识的字段（分项只有 title 和 points）"
    if ind.points is not None and not math.isclose(total, ind.points):
        yield f"{where}.sub_items", f"分项分值合计 {total:g} 分，与指标分值 {ind.points:g} 分不符"


def _scoring_problems(std: Standard, scored: list[tuple[int, Indicator]]) -> Iterable[tuple[str, str]]:
    scoring = std.scoring
    assert scoring is not None
    total = sum(ind.points or 0 for _, ind in scored)
    if not math.isclose(total, scoring.total_points):
        codes = "、".join(ind.code for _, ind in scored) or "无"
        yield (
            "scoring.total_points",
            f"计分指标（{codes}）分值合计 {total:g} 分，与总分 {scoring.total_points:g} 分不符",
        )
    if not 0 < scoring.pass_total <= scoring.total_points:
        yield "scoring.pass_total", f"应在 0 到总分 {scoring.total_points:g} 之间"
    if not 0 < scoring.per_indicator_min_ratio <= 1:
        yield "scoring.per_indicator_min_ratio", "应在 0 到 1 之间（如 0.8）"
    previous_max: float | None = None
    for k, grade in enumerate(scoring.grades):
        path = f"scoring.grades[{k}]"
        low, high, name = grade.get("min"), grade.get("max"), grade.get("name")
        if not isinstance(name, str) or not name.strip():
            yield f"{path}.name", "缺少等次名称"
        if not (_number(low) and _number(high)):
            yield path, "min 和 max 应为数字"
            continue
        if low > high:  # type: ignore[operator]
            yield path, "min 大于 max"
        if previous_max is not None and low <= previous_max:  # type: ignore[operator]
            yield f"{path}.min", "等次应从低到高排列且不重叠"
        previous_max = float(high)  # type: ignore[arg-type]
        for extra in set(grade) - {"min", "max", "name"}:
            yield f"{path}.{extra}", "不认识的字段（等次只有 min、max 和 name）"

