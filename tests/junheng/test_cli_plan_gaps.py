"""`junheng plan-gaps FILE`: summary, JSON (the contract) and .xlsx; bad arguments are clear errors."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from junheng.cli import app

runner = CliRunner()


def test_plans_the_example_sheet_and_writes_json_and_xlsx(tmp_path):
    from pathlib import Path

    sheet = Path(__file__).resolve().parents[2] / "examples" / "schools.xlsx"
    out_json, out_xlsx = tmp_path / "plan.json", tmp_path / "plan.xlsx"
    result = runner.invoke(app, ["plan-gaps", str(sheet), "--json", str(out_json), "--xlsx", str(out_xlsx)])
    assert result.exit_code == 0, result.output
    assert "示意单价" in result.output and "朴素方案" in result.output
    data = json.loads(out_json.read_text(encoding="utf-8"))
    assert data["feasible"] is True and data["after"]["ok"] is True
    assert data["naive"]["ok"] is False  # the example's junior CV of indicator 6 is over its limit
    assert data["total_cost"] < data["naive"]["total_cost"]
    assert out_xlsx.read_bytes().startswith(b"PK")


def test_bad_arguments_are_clear_errors(tmp_path):
    result = runner.invoke(app, ["plan-gaps"])
    assert result.exit_code == 2 and "二者选一" in result.output
    result = runner.invoke(app, ["plan-gaps", "x.xlsx", "--margin", "0.6"])
    assert result.exit_code == 2 and "--margin" in result.output
    bad = tmp_path / "c.yaml"
    bad.write_text("unit_costs: {\"1\": -1}\n", encoding="utf-8")
    result = runner.invoke(app, ["plan-gaps", "x.xlsx", "--costs", str(bad)])
    assert result.exit_code == 2 and "单价文件" in result.output and "Traceback" not in result.output


def test_campaign_mode_plans_the_latest_assessment_and_keeps_it(db_url, monkeypatch):
    from pathlib import Path

    from sqlmodel import Session, func, select

    from tracker.db import get_engine
    from tracker.gaps.models import GapPlanRecord

    monkeypatch.setenv("COLUMNS", "240")
    examples = Path(__file__).resolve().parents[2] / "examples"
    result = runner.invoke(app, ["plan-gaps", "--campaign", "x"])
    assert result.exit_code == 3  # no such campaign (none yet)
    assert runner.invoke(app, ["campaign", "init", str(examples / "plan.yaml")]).exit_code == 0
    result = runner.invoke(app, ["plan-gaps", "--campaign", ""])
    assert result.exit_code == 3 and "还没有评估结果" in result.output
    assert runner.invoke(app, ["selfcheck", str(examples / "schools.xlsx"), "--as", "韩静"]).exit_code == 0
    result = runner.invoke(app, ["plan-gaps", "--campaign", ""])
    assert result.exit_code == 0, result.output
    assert "测算方案费用" in result.output and "补充后资源配置评估：通过" in result.output
    with Session(get_engine(db_url)) as session:
        assert session.exec(select(func.count()).select_from(GapPlanRecord)).one() == 1
