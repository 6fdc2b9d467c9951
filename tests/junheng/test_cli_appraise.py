"""`junheng appraise` and `junheng appraise notice` through the real Typer app, on the 考核
scenario (tests/tracker/appraisal/scenario.py)."""

from __future__ import annotations

import pytest
import time_machine
from docx import Document
from openpyxl import load_workbook
from sqlmodel import select
from typer.testing import CliRunner

from junheng.cli import app
from tests.tracker.appraisal.scenario import NOW, build_appraisal_world
from tracker.db import session_scope
from tracker.events.models import Event

runner = CliRunner()


@pytest.fixture
def county(engine, monkeypatch):
    monkeypatch.setenv("COLUMNS", "220")
    build_appraisal_world(engine)
    return engine


def invoke(*args: str):
    with time_machine.travel(NOW, tick=False):
        return runner.invoke(app, list(args))


def test_appraise_prints_the_table_and_writes_the_xlsx(county, tmp_path):
    out = tmp_path / "考核表.xlsx"
    result = invoke("appraise", "--from", "2026-12-01", "--to", "2026-12-21", "--xlsx", str(out))
    assert result.exit_code == 0, result.output
    assert "考核：2026-12-01 至 2026-12-21（截至 2026-12-21）" in result.output
    assert "责任单位" in result.output and "学校" in result.output
    finance = next(line for line in result.output.splitlines() if "财政局" in line)
    # rank 2; due 4, on time 2, late 1, overdue 1, returns 1, asked 1, granted 1, 督办单 1, 4.5 days, score 94
    cells = [c.strip() for c in finance.split("│")[1:15]]
    assert cells == ["2", "财政局", "4", "2", "1", "1", "1", "1", "1", "1", "4.5", "50.0%", "50.0%", "94.0"]
    assert "排名依据：按时率" in result.output
    wb = load_workbook(out)
    assert [c.value for c in wb["责任单位"][5]][:3] == [2, "财政局", 4]


def test_appraise_refuses_a_bad_date_in_chinese(county):
    result = invoke("appraise", "--from", "2026-12-40")
    assert result.exit_code == 2 and "--from「2026-12-40」不是有效日期" in result.output
    result = invoke("appraise", "--from", "2026-12-21", "--to", "2026-12-01")
    assert result.exit_code == 2 and "晚于结束日期" in result.output


def test_a_notice_is_written_and_recorded(county, tmp_path):
    out = tmp_path / "通报.docx"
    result = invoke("appraise", "notice", "--kind", "批评", "--unit", "财政局", "--unit", "城关一小",
                    "--reason", "截至12月21日，仍有任务逾期未办结。", "--out", str(out), "--as", "王主任")
    assert result.exit_code == 0, result.output
    assert "已印发：关于对财政局等单位予以通报批评的通报" in result.output
    text = "\n".join(p.text for p in Document(out).paragraphs)
    assert "截至12月21日，仍有任务逾期未办结。" in text and "财政局、城关一小予以通报批评" in text
    with session_scope(county) as session:
        event = session.exec(select(Event).where(Event.type == "appraisal.notice_issued")).one()
        assert event.actor == "王主任" and event.payload["kind"] == "批评"


def test_a_wrong_notice_writes_and_records_nothing(county, tmp_path):
    out = tmp_path / "通报.docx"
    result = invoke("appraise", "notice", "--kind", "批评", "--unit", "教育局", "--reason", "逾期", "--out", str(out))
    assert result.exit_code == 2 and "没有单位或学校「教育局」" in result.output
    assert not out.exists()
    with session_scope(county) as session:
        assert session.exec(select(Event).where(Event.type == "appraisal.notice_issued")).first() is None
