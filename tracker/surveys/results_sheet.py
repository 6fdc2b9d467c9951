"""The results as an .xlsx: overall and per group, per school, per question, with the rule."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from openpyxl.styles import Font

from tracker.spreadsheets import new_workbook, save_workbook


def _pct(rate: float | None) -> str:
    return "—" if rate is None else f"{rate:.1%}"


def results_workbook(data: dict[str, Any]):  # noqa: ANN201
    wb = new_workbook()
    ws = wb.active
    ws.title = "总体与群体"
    survey = data.get("survey") or {}
    title = survey.get("title", "满意度调查") + ("（示例调查，非正式数据）" if survey.get("illustrative") else "")
    ws.append([title])
    ws["A1"].font = Font(bold=True, size=13)
    ws.append([f"计算规则：{data['rule']}"])
    ws.append([])
    ws.append(["范围", "满意率", "满意回答", "计入的回答", "不计入（不了解）", "答卷数"])
    o = data["overall"]
    ws.append(["总体（所有群体的每一个回答）", _pct(o["rate"]), o["satisfied"], o["answers"], o["left_out"], o["respondents"]])
    for name, g in data["groups"].items():
        ws.append([name, _pct(g["rate"]), g["satisfied"], g["answers"], g["left_out"], g["respondents"]])
    ws.column_dimensions["A"].width = 30

    ws = wb.create_sheet("学校")
    ws.append(["学校", "满意率", "满意回答", "计入的回答", "不计入（不了解）"])
    for name, s in data["schools"].items():
        ws.append([name, _pct(s["rate"]), s["satisfied"], s["answers"], s["left_out"]])
    ws.column_dimensions["A"].width = 30

    ws = wb.create_sheet("题目")
    choices = list(next(iter(data["questions"]), {}).get("choices", {}))
    ws.append(["群体", "题号", "题目", "满意率", "满意回答", "计入的回答", *choices, "低于标准"])
    for q in data["questions"]:
        ws.append([q["group"], q["id"], q["text"], _pct(q["rate"]), q["satisfied"], q["answers"],
                   *(q["choices"].get(c, 0) for c in choices), "是" if q["below"] else ""])
    ws.column_dimensions["C"].width = 60
    return wb


def write_results_xlsx(data: dict[str, Any], path: str | Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    save_workbook(results_workbook(data), path)
    return path
