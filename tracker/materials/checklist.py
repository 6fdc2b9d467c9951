"""The checklist file: per indicator, the materials an assessment team expects, each required or
optional. Read through ``tracker.yamlfile`` (bounded), validated whole, every problem named by
its line and field; a standard's shipped file lives in ``checklists/<standard>.yaml``.

    standard: national-2017
    title: …资料清单（示例）
    illustrative: true          # not an official list: pages and the 汇编 say so
    note: …
    indicators:
      "1":
        - {id: "1-1", title: 各校专任教师花名册（含学历）, required: true}
        - {id: "1-2", title: …, required: false, note: …}
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from tracker.errors import ErrorDetail, ErrorKind, JunhengError
from tracker.standards import load_standard
from tracker.standards.schema import Standard
from tracker.yamlfile import YamlError, read_yaml

SHIPPED = Path(__file__).parent / "checklists"
ITEM_ID = re.compile(r"^[0-9A-Za-z][0-9A-Za-z._-]{0,19}$")
MAX_TITLE = 200
MAX_ITEMS = 2000


class ChecklistError(JunhengError, kind=ErrorKind.invalid):
    """A checklist file we cannot take (Chinese; ``details`` name line and field)."""


class ChecklistItem(BaseModel):
    """One material an assessment team expects for an indicator (or condition, veto)."""

    model_config = ConfigDict(frozen=True)
    indicator: str
    id: str
    title: str
    required: bool = True
    note: str = ""


@dataclass(frozen=True)
class Checklist:
    standard_id: str
    title: str
    illustrative: bool
    source: str  # "shipped" file name, or the file the office imported
    items: list[ChecklistItem] = field(default_factory=list)
    note: str = ""
    imported: bool = False  # the office's own version (else the standard's shipped file)

    def item(self, item_id: str) -> ChecklistItem | None:
        return next((i for i in self.items if i.id == item_id), None)

    def of_indicator(self, code: str) -> list[ChecklistItem]:
        return [i for i in self.items if i.indicator == code]

    @property
    def label(self) -> str:
        return "示例清单（非官方）" if self.illustrative else "资料清单"


def standard_codes(standard: Standard) -> list[str]:
    return ([i.code for i in standard.indicators] + [c.code for c in standard.application_conditions]
            + [c.code for c in standard.vetoes])


def _bool(value: object) -> bool | None:
    if isinstance(value, bool):
        return value
    text = str(value).strip()
    if text in ("必备", "必须", "必需", "是", "required"):
        return True
    if text in ("可选", "选备", "否", "optional"):
        return False
    return None


def parse_checklist(text: str, standard: Standard, source: str) -> Checklist:
    """The checklist in ``text`` for ``standard``; ``ChecklistError`` lists every problem."""
    try:
        doc = read_yaml(text)
    except YamlError as exc:
        where = f"第 {exc.line} 行：" if exc.line else ""
        raise ChecklistError(f"资料清单文件无法读取：{where}{exc.message}") from None
    problems: list[ErrorDetail] = []

    def problem(path: tuple, message: str) -> None:
        line = doc.lines.get(path)
        where = f"第 {line} 行" if line else "文件"
        location = ".".join(str(p) for p in path) or None
        problems.append(ErrorDetail(f"{where}（{location or '文件'}）：{message}", row=line, location=location))

    data = doc.data
    if not isinstance(data, dict):
        raise ChecklistError("资料清单文件应为一个映射（standard、title、indicators …）")
    for path, line, first in doc.duplicates:
        problem(path, f"重复的键（第 {first} 行已有）")
    declared = str(data.get("standard") or "").strip()
    if declared and declared != standard.id:
        problem(("standard",), f"清单属于标准「{declared}」，而本创建工作使用「{standard.id}」")
    unknown = set(data) - {"standard", "title", "illustrative", "note", "indicators"}
    for key in sorted(unknown, key=str):
        problem((key,), "未知的键（可用：standard、title、illustrative、note、indicators）")
    illustrative = data.get("illustrative", False)
    if not isinstance(illustrative, bool):
        problem(("illustrative",), f"应为 true 或 false，现为「{illustrative}」")
        illustrative = False
    indicators = data.get("indicators")
    codes = standard_codes(standard)
    items: list[ChecklistItem] = []
    seen: dict[str, tuple] = {}
    if not isinstance(indicators, dict) or not indicators:
        problem(("indicators",), "应按指标代码列出资料项（indicators: {\"1\": [...]}）")
        indicators = {}
    for code, rows in indicators.items():
        code = str(code).strip()
        at = ("indicators", code)
        if code not in codes:
            problem(at, f"标准 {standard.id} 中没有指标「{code}」")
            continue
        if not isinstance(rows, list):
            problem(at, "应为资料项的列表")
            continue
        for n, row in enumerate(rows):
            here = (*at, n)
            if not isinstance(row, dict):
                problem(here, "资料项应写成 {id, title, required}")
                continue
            extra = set(row) - {"id", "title", "required", "note"}
            if extra:
                problem(here, f"未知的字段 {'、'.join(sorted(map(str, extra)))}（可用：id、title、required、note）")
            item_id = str(row.get("id") or "").strip()
            title = str(row.get("title") or "").strip()
            required = _bool(row.get("required", True))
            if not ITEM_ID.match(item_id):
                problem((*here, "id"), f"编号「{item_id}」无效：应为 1–20 个字母、数字、点、横线或下划线")
            elif item_id in seen:
                problem((*here, "id"), f"编号「{item_id}」重复（第 {doc.lines.get(seen[item_id])} 行已用）")
            else:
                seen[item_id] = here
            if not title or len(title) > MAX_TITLE:
                problem((*here, "title"), f"资料名称不能为空，且不超过 {MAX_TITLE} 字")
            if required is None:
                problem((*here, "required"), f"应为 true（必备）或 false（可选），现为「{row.get('required')}」")
            items.append(ChecklistItem(indicator=code, id=item_id, title=title, required=bool(required),
                                       note=str(row.get("note") or "").strip()))
    if len(items) > MAX_ITEMS:
        problem(("indicators",), f"资料项过多（{len(items)} 项，上限 {MAX_ITEMS}）")
    if problems:
        raise ChecklistError(f"资料清单「{source}」有 {len(problems)} 处问题：" + "；".join(p.message for p in problems),
                             details=problems, summary=f"资料清单「{source}」有 {len(problems)} 处问题")
    items.sort(key=lambda i: standard.indicator_sort_key(i.indicator))  # stable: file order within one
    return Checklist(standard_id=standard.id, title=str(data.get("title") or "资料清单").strip(),
                     illustrative=illustrative, source=source, items=items, note=str(data.get("note") or "").strip())


@lru_cache
def shipped_checklist(standard_id: str) -> Checklist:
    """The checklist shipped for a standard (an empty one when none is shipped)."""
    path = SHIPPED / f"{standard_id}.yaml"
    standard = load_standard(standard_id)
    if not path.is_file():
        return Checklist(standard_id=standard_id, title="资料清单（未提供）", illustrative=True, source="")
    return parse_checklist(path.read_text(encoding="utf-8"), standard, path.name)


def _quoted(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def checklist_yaml(checklist: Checklist) -> str:
    """The checklist as a file the office can edit and import again."""
    lines = [f"standard: {checklist.standard_id}", f"title: {_quoted(checklist.title)}",
             f"illustrative: {'true' if checklist.illustrative else 'false'}"]
    if checklist.note:
        lines.append(f"note: {_quoted(checklist.note)}")
    lines.append("indicators:")
    current = None
    for item in checklist.items:
        if item.indicator != current:
            current = item.indicator
            lines.append(f"  {_quoted(current)}:")
        note = f", note: {_quoted(item.note)}" if item.note else ""
        lines.append(f"    - {{id: {_quoted(item.id)}, title: {_quoted(item.title)}, "
                     f"required: {'true' if item.required else 'false'}{note}}}")
    return "\n".join(lines) + "\n"
