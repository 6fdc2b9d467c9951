"""`junheng materials` and `junheng conditions` on the example county (issue 13 §4–5)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlmodel import Session, select
from typer.testing import CliRunner

from junheng.cli import app
from tracker.assessment.conditions import decide_cv_condition, stored_cvs
from tracker.assessment.models import AssessmentSnapshot
from tracker.db import get_engine
from tracker.standards import load_standard

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
runner = CliRunner()


@pytest.fixture(autouse=True)
def wide_terminal(monkeypatch):
    monkeypatch.setenv("COLUMNS", "240")


def invoke(*args: str):
    return runner.invoke(app, list(args))


@pytest.fixture
def assessed(db_url, prefect_harness):
    assert invoke("campaign", "init", str(EXAMPLES / "plan.yaml")).exit_code == 0
    result = invoke("selfcheck", str(EXAMPLES / "schools.xlsx"), "--as", "韩静")
    assert result.exit_code == 0, result.output
    return db_url


def test_the_checklist_its_gaps_and_the_countys_own_list(assessed, tmp_path):
    shown = invoke("materials", "show", "--missing", "--json")
    assert shown.exit_code == 0, shown.output
    body = json.loads(shown.output)
    assert body["illustrative"] is True and body["missing_required"] > 0
    six = next(b for b in body["indicators"] if b["indicator"] == "6")
    assert six["units"] == ["县教育局计划财务股", "青川县财政局", "县教师发展和教学研究室"]  # the plan's 分工: 牵头 first

    out = tmp_path / "清单.yaml"
    assert invoke("materials", "export", str(out)).exit_code == 0
    text = out.read_text(encoding="utf-8")
    assert text.startswith("standard: national-2017") and '"6-1"' in text
    mine = tmp_path / "本县.yaml"
    mine.write_text('standard: national-2017\ntitle: 本县清单\nindicators:\n  "6":\n'
                    '    - {id: A1, title: 设备账册, required: true}\n', encoding="utf-8")
    result = invoke("materials", "import", str(mine), "--as", "韩静")
    assert result.exit_code == 0, result.output and "已导入" in result.output
    body = json.loads(invoke("materials", "show", "--json").output)
    assert body["illustrative"] is False and body["missing_required"] == 1
    assert [i["id"] for b in body["indicators"] for i in b["items"]] == ["A1"]

    bad = tmp_path / "坏.yaml"
    bad.write_text('indicators:\n  "6":\n    - {id: "", title: x}\n', encoding="utf-8")
    result = invoke("materials", "import", str(bad))
    assert result.exit_code == 2 and "第 3 行" in result.output and "编号「」无效" in result.output
    assert invoke("materials", "tag", "99999", "A1").exit_code == 3


def test_e4_follows_the_cvs_and_e2_the_imported_history(assessed, tmp_path):
    with Session(get_engine(assessed)) as session:
        result = session.exec(select(AssessmentSnapshot.result).order_by(AssessmentSnapshot.id.desc())).first()
    e4 = decide_cv_condition(load_standard("national-2017"), stored_cvs(result))
    assert e4.status in ("pass", "fail")
    contradicting = "通过" if e4.status == "fail" else "不通过"
    refused = invoke("county-input", "set", "E4", contradicting, "--as", "韩静")
    assert refused.exit_code == 2
    assert "与最新评估" in refused.output and "差异系数不符" in refused.output and "小学最大差异系数" in refused.output

    shown = invoke("conditions", "show")
    assert "E4" in shown.output and "按最新评估的差异系数" in shown.output and "E2 尚不能判定" in shown.output

    sheet = tmp_path / "2024.xlsx"
    assert invoke("conditions", "cv-template", "--year", "2024", str(sheet)).exit_code == 0
    wb = load_workbook(sheet)
    wb.active["C2"], wb.active["C3"] = 0.41, 0.38
    wb.save(sheet)
    result = invoke("conditions", "cv-import", str(sheet), "--as", "韩静")
    assert result.exit_code == 0, result.output
    assert "2024年小学 0.41、2024年初中 0.38" in result.output
    assert "2024年小学 0.410（≤ 0.6，导入「2024.xlsx」）" in invoke("conditions", "show").output
