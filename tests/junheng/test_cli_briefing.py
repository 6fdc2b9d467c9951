"""`junheng briefing`, `junheng briefing list` and `junheng briefing show` through the real Typer app."""

from __future__ import annotations

import base64
import datetime as dt
import re

import pytest
import time_machine
from docx import Document
from sqlmodel import Session, func, select
from typer.testing import CliRunner

from junheng.cli import app
from tests.factories_db import build_world
from tracker.calendar import CHINA
from tracker.db import session_scope
from tracker.notices.models import OutboundMessage
from tracker.tasks import lifecycle

runner = CliRunner()
MONDAY = dt.datetime(2026, 12, 14, 9, 0, tzinfo=CHINA)


@pytest.fixture
def county(engine, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")
    with time_machine.travel(dt.datetime(2026, 12, 1, 9, 0, tzinfo=CHINA), tick=False):
        with session_scope(engine) as session:
            world = build_world(session)
            world.task(session, "a", unit="财政局", title="落实生均公用经费", due_on=dt.date(2026, 12, 4))
            world.task(session, "b", unit="住建局", title="新建运动场", due_on=dt.date(2026, 12, 18))
            done = world.task(session, "c", unit="财政局", title="核定教师编制", due_on=dt.date(2026, 12, 11))
            office = world.people["王主任"]
            lifecycle.accept(session, done, office)
            lifecycle.submit(session, done, office, "已完成")
            lifecycle.verify(session, done, office)  # one 销号, so the completion chart has a bar
    return engine


def invoke(*args: str):
    with time_machine.travel(MONDAY, tick=False):
        return runner.invoke(app, list(args))


def test_briefing_writes_the_files_and_lists_and_shows_them(county, tmp_path):
    """Generating is the default and mails no one; --send mails. W50 is 第2期 (the campaign was
    created in W49) and W49, issued after it, is 第1期."""
    out = tmp_path / "第50周"
    result = invoke("briefing", "--out", str(out), "--no-pdf")
    assert result.exit_code == 0, result.output
    assert "调度通报第 2 期" in result.output and "2026-W50" in result.output  # last week by default
    assert "截至12月13日，财政（1项）有逾期任务" in result.output
    assert "未发送邮件（只生成；发给领导小组和各责任单位请加 --send）" in result.output
    stem = "demo-调度通报-第2期-2026-W50"
    assert {p.name for p in out.iterdir()} >= {f"{stem}.docx", f"{stem}.html"}
    doc = Document(out / f"{stem}.docx")
    assert any(p.text == "关于示例县优质均衡创建工作进展情况的通报" for p in doc.paragraphs)
    html = (out / f"{stem}.html").read_text(encoding="utf-8")
    assert "截至12月13日，财政（1项）有逾期任务，请抓紧办理。" in html and 'cid:' not in html
    # the chart is embedded in the page (it can be forwarded alone) and also written beside it
    embedded = re.findall(r'src="data:image/png;base64,([^"]+)"', html)
    assert [base64.b64decode(e) for e in embedded] == [(out / f"{stem}-completion.png").read_bytes()]
    with Session(county) as session:
        assert session.exec(select(func.count()).select_from(OutboundMessage)).one() == 0

    again = invoke("briefing", "--week", "2026-W50", "--out", str(out), "--send")  # now sent, same number
    assert again.exit_code == 0, again.output
    assert "第 2 期（重新生成，期数不变）" in again.output and "新排队 3 封" in again.output
    with Session(county) as session:
        assert session.exec(select(func.count()).select_from(OutboundMessage)).one() == 3
    earlier = invoke("briefing", "--week", "2026-W49", "--out", str(out), "--no-send", "--no-pdf")
    assert earlier.exit_code == 0, earlier.output
    assert "调度通报第 1 期" in earlier.output and "未发送邮件" in earlier.output

    listed = invoke("briefing", "list")
    assert listed.exit_code == 0, listed.output
    assert "2026-W50" in listed.output and "2026-W49" in listed.output and "（2 期）" in listed.output

    shown = invoke("briefing", "show", "1", "--out", str(tmp_path / "show"))
    assert shown.exit_code == 0, shown.output
    assert (tmp_path / "show" / "demo-调度通报-第1期-2026-W49.docx").exists()


@pytest.mark.parametrize(("args", "message", "code"), [
    (("briefing", "--week", "五十周", "--no-send"), "格式不对", 2),
    (("briefing", "--week", "2027-W10", "--no-send"), "还没有开始", 2),
    (("briefing", "--week", "2026-W48"), "在创建工作「demo」建立（2026-12-01）之前，没有调度通报；第1期为 2026-W49", 2),
    (("briefing", "show", "7"), "没有第 7 期调度通报", 3),  # not found
    (("briefing", "--campaign", "nowhere", "--no-send"), "nowhere", 3),
])
def test_bad_input_is_a_chinese_error_and_stores_nothing(county, tmp_path, args, message, code):
    result = invoke(*args, "--out", str(tmp_path))
    assert result.exit_code == code, result.output
    assert message in result.output
    from tracker.briefings.models import Briefing

    with Session(county) as session:
        assert session.exec(select(func.count()).select_from(Briefing)).one() == 0


def test_a_week_not_over_yet_is_issued_as_so_far_and_says_so(county, tmp_path):
    result = invoke("briefing", "--week", "2026-W51", "--out", str(tmp_path), "--no-send", "--no-pdf")
    assert result.exit_code == 0, result.output
    assert "本周尚未结束：数据截至 2026-12-14" in result.output
    doc = Document(next(tmp_path.glob("*.docx")))
    assert any("本周尚未结束，以下为截至12月14日的情况" in p.text for p in doc.paragraphs)
