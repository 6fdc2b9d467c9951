"""Unit costs and per-school caps for the gap planner (the costs file, YAML).

Costs are 万元 per unit of what is added: per teacher per year (indicators 1–3), per m² (4, 5),
per 万元 of equipment at face value (6), per multimedia room (7). The shipped default
(``default-costs.yaml``) is illustrative; a county writes its own and passes ``--costs``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

from tracker.errors import ErrorDetail, ErrorKind, JunhengError

DEFAULT_COSTS_FILE = Path(__file__).with_name("default-costs.yaml")
INDICATORS = ("1", "2", "3", "4", "5", "6", "7")


class CostsError(JunhengError, ValueError, kind=ErrorKind.invalid):
    """A costs file that cannot be used; ``problems`` are Chinese, one per entry."""

    def __init__(self, source: str, problems: list[str]):
        self.problems = problems
        super().__init__(f"单价文件「{source}」有问题：" + "；".join(problems),
                         details=[ErrorDetail(p) for p in problems])


@dataclass(frozen=True, slots=True)
class CostBook:
    unit_costs: dict[str, float]  # indicator code → 万元 per unit
    caps: dict[str, dict[str, float]] = field(default_factory=dict)  # school name or key → {code: max}
    illustrative: bool = False
    source: str = ""

    def cap(self, name: str, key: str, code: str) -> float | None:
        for who in (key, name):
            if who in self.caps and code in self.caps[who]:
                return self.caps[who][code]
        return None


def _number(value: object) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float) and math.isfinite(value):
        return float(value)
    if isinstance(value, str):
        try:
            parsed = float(value.strip())
        except ValueError:
            return None
        return parsed if math.isfinite(parsed) else None
    return None


def parse_costs(data: object, source: str) -> CostBook:
    """A CostBook from the file's plain data; every problem named at once."""
    problems: list[str] = []
    if not isinstance(data, dict):
        raise CostsError(source, ["应为映射，含 unit_costs（以及可选的 caps）"])
    unknown = set(data) - {"unit_costs", "caps", "illustrative"}
    for key in sorted(map(str, unknown)):
        problems.append(f"未知的项「{key}」（只认 unit_costs、caps、illustrative）")
    raw_costs = data.get("unit_costs")
    costs: dict[str, float] = {}
    if not isinstance(raw_costs, dict):
        problems.append("缺少 unit_costs（指标代码: 万元单价）")
    else:
        for code, value in raw_costs.items():
            code = str(code)
            number = _number(value)
            if code not in INDICATORS:
                problems.append(f"unit_costs 中「{code}」不是资源配置指标代码（1–7）")
            elif number is None or number < 0:
                problems.append(f"unit_costs.{code}：「{value}」应为不小于 0 的数（万元）")
            else:
                costs[code] = number
        for code in INDICATORS:
            if code not in raw_costs:
                problems.append(f"unit_costs 缺少指标 {code} 的单价")
    caps: dict[str, dict[str, float]] = {}
    raw_caps = data.get("caps") or {}
    if not isinstance(raw_caps, dict):
        problems.append("caps 应为「学校名称: {指标代码: 上限}」的映射")
    else:
        for school, limits in raw_caps.items():
            if not isinstance(limits, dict):
                problems.append(f"caps.{school}：应为「指标代码: 上限」的映射")
                continue
            caps[str(school)] = {}
            for code, value in limits.items():
                number = _number(value)
                if str(code) not in INDICATORS:
                    problems.append(f"caps.{school}：「{code}」不是资源配置指标代码（1–7）")
                elif number is None or number < 0:
                    problems.append(f"caps.{school}.{code}：「{value}」应为不小于 0 的数")
                else:
                    caps[str(school)][str(code)] = number
    if problems:
        raise CostsError(source, problems)
    return CostBook(costs, caps, bool(data.get("illustrative", False)), source)


def read_costs(path: str | Path | None = None) -> CostBook:
    """The costs file at ``path`` (the illustrative default when None), read within the YAML bounds."""
    from tracker.yamlfile import YamlError, read_text, read_yaml

    path = Path(path) if path is not None else DEFAULT_COSTS_FILE
    try:
        data = read_yaml(read_text(path), dates=False).data
    except FileNotFoundError:
        raise CostsError(str(path), ["找不到文件"]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise CostsError(str(path), [f"无法读取：{exc}"]) from None
    except YamlError as exc:
        where = f"第 {exc.line} 行：" if exc.line else ""
        raise CostsError(str(path), [f"格式错误：{where}{exc.message}"]) from None
    return parse_costs(data, str(path))
