"""Reading a plan file: the YAML (ruamel.yaml, with the line of every key, within the size, alias
and depth bounds of ``tracker.yamlfile``), then the resolution of its sections.

``load_plan(path)`` reads the file, validates every part of it and returns a resolved
``CampaignPlan``: the assignment table complete for every indicator of the standard, unit
names resolved to the units' full names, the school-fixable list filled in, and the people
of the plan merged into one list. On any problem it raises ``PlanError`` listing *all*
problems, each naming the YAML line and key, so a county fixes the file in one pass.

Keys are Chinese (``县``, ``领导小组``, ``责任单位`` …, see examples/plan.yaml); the English
field names are accepted too.
"""

from __future__ import annotations

from collections.abc import Collection
from pathlib import Path
from typing import Any

from tracker.plans.checker import Checker, PlanError, path_text, read_plan_text
from tracker.plans.programme import is_programme_document
from tracker.plans.resolve import resolve
from tracker.plans.resolved import CampaignPlan
from tracker.yamlfile import YamlError, read_yaml


def load_plan(path: str | Path, *, robots: Collection[str] | None = None) -> CampaignPlan:
    """Read and validate a plan file. Raises ``PlanError`` listing every problem it finds.
    ``robots``: the configured group robots' names (``campaign init`` passes JUNHENG_WEBHOOKS);
    given, a 群机器人 that is not one of them is a problem."""
    path = Path(path)
    text = read_plan_text(path)
    return parse_plan(text, source=path, robots=robots)


def parse_plan(text: str, source: str | Path | None = None, *, robots: Collection[str] | None = None) -> CampaignPlan:
    """Validate plan text (``load_plan`` without the file)."""
    try:
        document = read_yaml(text)
    except YamlError as exc:
        if exc.limit:
            raise PlanError([f"方案{exc.message}" if exc.line is None else exc.message], source) from None
        where = f"第 {exc.line} 行第 {exc.column} 列：" if exc.line else ""
        problem = exc.message
        if exc.context_line is not None:
            problem += f"；出错的结构始于第 {exc.context_line} 行"
        raise PlanError([f"{where}YAML 格式错误（{problem}）"], source) from None
    data = document.data
    if not isinstance(data, dict):
        raise PlanError(["第 1 行：方案应为“键: 值”的映射，以 编号、名称、县、标准 等开头"], source)
    if is_programme_document(data):
        raise PlanError(["第 1 行：这是示范校方案（类型: 示范校），请用 junheng programme init 建立"], source)
    checker = Checker(document.lines)
    checker.problems.extend((line, path_text(path), f"键「{path[-1]}」重复（第一次在第 {first} 行）")
                            for path, line, first in document.duplicates)
    plan = resolve(checker, _str_keys(data), robots)
    if checker.problems or plan is None:
        raise PlanError(checker.formatted(), source)
    return plan.with_warnings(checker.warnings)


def _str_keys(value: Any) -> Any:
    """Mapping keys as text (分工 keys like 1 are indicator codes "1")."""
    if isinstance(value, dict):
        return {str(k): _str_keys(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_str_keys(v) for v in value]
    return value
