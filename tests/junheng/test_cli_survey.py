"""`junheng survey` end to end on a small world: open, codes with their QR sheet, the paper sheet
(a bad one refused with exit 2 and nothing stored, then a good one), results as JSON, close."""

from __future__ import annotations

import json
import re

import pytest
from openpyxl import load_workbook
from sqlmodel import Session, func, select
from typer.testing import CliRunner

from junheng.cli import app
from tests.factories_db import build_world
from tracker.db import get_engine, session_scope
from tracker.surveys.models import SurveyCode, SurveyResponse
from tracker.surveys.service import code_hash

runner = CliRunner()


@pytest.fixture(autouse=True)
def wide_terminal(monkeypatch):
    monkeypatch.setenv("COLUMNS", "240")
    monkeypatch.setenv("JUNHENG_BASE_URL", "https://jh.example.cn")


@pytest.fixture
def world(db_url):
    with session_scope(get_engine(db_url)) as session:
        build_world(session)
    return db_url


def invoke(*args: str):
    return runner.invoke(app, list(args))


def _responses(db_url) -> int:
    with Session(get_engine(db_url)) as session:
        return session.exec(select(func.count()).select_from(SurveyResponse)).one()


def test_the_survey_commands(world, tmp_path):
    assert invoke("survey", "results").exit_code == 3  # no survey yet
    # the office's own questionnaire: the shipped one, edited, imported
    own = tmp_path / "问卷.yaml"
    assert invoke("survey", "questionnaire", str(own)).exit_code == 0
    text = own.read_text(encoding="utf-8")
    own.write_text(text.replace("illustrative: true", "illustrative: false")
                   .replace("你对每天的作业量满意吗？", "你对每天的作业量和睡眠时间满意吗？"), encoding="utf-8")
    broken = tmp_path / "坏问卷.yaml"
    broken.write_text(text.replace("choices: [满意, 比较满意, 一般, 不满意, 不了解]", "choices: [好, 不好]"), encoding="utf-8")
    refused = invoke("survey", "open", "--questionnaire", str(broken))
    assert refused.exit_code == 2 and "满意、比较满意、不了解" in refused.output
    opened = invoke("survey", "open", "--questionnaire", str(own), "--illustrative")
    assert opened.exit_code == 0 and "（示例）" in opened.output, opened.output
    assert invoke("survey", "open").exit_code == 4  # one round at a time

    codes = invoke("survey", "codes", "--school", "城关一小", "--group", "家长", "--count", "4", "--out", str(tmp_path / "码"))
    assert codes.exit_code == 0, codes.output
    sheet = next((tmp_path / "码").glob("答卷码-城关一小-家长-*.html")).read_text(encoding="utf-8")
    printed = re.findall(r'<div class="code">([A-Z0-9]{12})</div>', sheet)
    assert len(printed) == 4 and sheet.count("<svg") == 4 and "示例调查" in sheet
    assert all(f"https://jh.example.cn/s/{c}" in sheet for c in printed)
    with Session(get_engine(world)) as session:
        assert set(session.exec(select(SurveyCode.code_hash))) == {code_hash(c) for c in printed}
    assert invoke("survey", "codes", "--school", "城西小学", "--group", "家长", "--count", "1",
                  "--out", str(tmp_path)).exit_code == 2

    template = tmp_path / "家长.xlsx"
    assert invoke("survey", "template", "--group", "家长", str(template)).exit_code == 0
    wb = load_workbook(template)
    ws = wb["答卷"]
    for col, value in enumerate(["家长", "城关一小", *["满意"] * 6, "一般"], start=1):
        ws.cell(2, col, value)
    ws.cell(3, 2, "城关一小")
    ws.cell(3, 3, "还行")
    wb.save(tmp_path / "bad.xlsx")
    bad = invoke("survey", "import", str(tmp_path / "bad.xlsx"))
    assert bad.exit_code == 2 and "第 3 行「您对孩子就近入学、公平入学的情况满意吗？」" in bad.output
    assert _responses(world) == 0
    ws.delete_rows(3)
    wb.save(tmp_path / "good.xlsx")
    good = invoke("survey", "import", str(tmp_path / "good.xlsx"))
    assert good.exit_code == 0 and "已导入 1 份家长答卷（7 个回答）" in good.output

    result = invoke("survey", "results", "--json", "--xlsx", str(tmp_path / "结果.xlsx"))
    data = json.loads(result.output)
    # 6 满意 + 1 一般: 6 ÷ 7
    assert data["overall"]["rate"] == pytest.approx(6 / 7) and data["overall"]["answers"] == 7
    assert data["groups"]["家长"]["rate"] == pytest.approx(6 / 7) and data["groups"]["教师"]["rate"] is None
    assert (tmp_path / "结果.xlsx").exists()
    text = invoke("survey", "results").output
    assert "85.7%" in text and "满意、比较满意" in text and "P7" in text  # P7: 0 ÷ 1 is below 85 %

    assert invoke("survey", "close").exit_code == 0
    assert invoke("survey", "import", str(tmp_path / "good.xlsx")).exit_code == 3  # no open round
    assert _responses(world) == 1
    with Session(get_engine(world)) as session:
        from tracker.surveys.models import Survey

        asked = session.exec(select(Survey)).one().questionnaire
    assert "你对每天的作业量和睡眠时间满意吗？" in str(asked)
