"""`junheng task add|edit|template|import` and the 已退回 mark on the command line (issue 12)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from openpyxl import load_workbook
from sqlalchemy import func
from sqlmodel import Session, select

from tests.factories_db import build_world
from tests.junheng.test_cli_task import events, invoke
from tracker.db import session_scope
from tracker.notices.models import NoticeItem, Rung
from tracker.tasks.models import Task, TaskOrigin


# The bodies' dates (due 2027-01-15 …) are dates to come: "now" is frozen before them, so the
# no-born-overdue rule leaves them as written on any day the tests run (issue 9).
@pytest.fixture(autouse=True)
def _before_the_due_dates():
    with time_machine.travel(dt.datetime(2026, 12, 7, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai")), tick=True):
        yield


@pytest.fixture
def world(engine, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")
    with session_scope(engine) as session:
        build_world(session)


def task_count(engine) -> int:
    with Session(engine) as s:
        return s.exec(select(func.count()).select_from(Task)).one()


def test_add_edit_and_the_refusals(engine, world):
    result = invoke("task", "add", "迎检路线踏勘", "--lead", "财政", "--due", "2027-01-15", "--source", "领导批示",
                    "--ref", "县长批示〔2026〕12 号", "--with", "住建局", "--evidence", "--as", "王主任")
    assert result.exit_code == 0, result.output
    assert "已交办任务 #1「迎检路线踏勘」" in result.output
    with Session(engine) as s:
        task = s.get(Task, 1)
        assert (task.origin, task.source, task.evidence_required) == (TaskOrigin.office.value, "领导批示", True)
    # refused: a unit's person, a bad field — nothing stored
    result = invoke("task", "add", "x", "--lead", "财政局", "--due", "2027-01-15", "--as", "李科长")
    assert result.exit_code != 0 and "只有办公室人员可以交办任务" in result.output
    result = invoke("task", "add", "x", "--lead", "教育局", "--due", "下周", "--as", "王主任")
    assert result.exit_code != 0 and "教育局" in result.output and "不是有效日期" in result.output
    assert task_count(engine) == 1

    result = invoke("task", "edit", "1", "--due", "2027-01-29", "--reason", "会议调整", "--as", "王主任")
    assert result.exit_code == 0, result.output
    assert "完成时限：2027-01-15 → 2027-01-29" in result.output
    assert events(engine, 1)[-1] == ("task.edited", "王主任")
    with Session(engine) as s:
        assert s.exec(select(NoticeItem).where(NoticeItem.rung == Rung.changed.value)).all()
    shown = invoke("task", "show", "1").output
    assert "领导批示" in shown and "调整任务" in shown and "提交前须上传" in shown


def test_submit_refused_without_evidence_and_returned_is_shown(engine, world):
    invoke("task", "add", "材料汇编", "--lead", "财政局", "--due", "2027-01-15", "--as", "王主任")
    invoke("task", "add", "佐证汇编", "--lead", "财政局", "--due", "2027-01-15", "--evidence", "--as", "王主任")
    invoke("task", "accept", "2", "--as", "李科长")
    result = invoke("task", "submit", "2", "--as", "李科长")
    assert result.exit_code != 0 and "要求上传佐证材料后才能提交" in result.output
    invoke("task", "accept", "1", "--as", "李科长")
    assert invoke("task", "submit", "1", "--as", "李科长").exit_code == 0
    result = invoke("task", "return", "1", "--reason", "缺少会议纪要", "--as", "王主任")
    assert result.exit_code == 0, result.output
    with Session(engine) as s:
        assert s.exec(select(NoticeItem).where(NoticeItem.task_id == 1, NoticeItem.rung == Rung.returned.value)).all()
    assert "已退回" in invoke("task", "list").output
    assert "缺少会议纪要" in invoke("task", "show", "1").output


def test_template_and_import(engine, world, tmp_path):
    out = tmp_path / "清单.xlsx"
    result = invoke("task", "template", "--out", str(out))
    assert result.exit_code == 0, result.output
    wb = load_workbook(out)
    wb["任务清单"].append([1, "迎检路线踏勘", "会议决定", "", "", "财政局", "住建局", "", "2027-01-15", "是", None])
    wb["任务清单"].append([2, "安全排查", "其他", "", "", "教育局", "", "", "2027-01-15", "", None])
    bad = tmp_path / "bad.xlsx"
    wb.save(bad)
    result = invoke("task", "import", str(bad), "--as", "王主任")
    assert result.exit_code == 2 and "第 3 行「牵头单位」" in result.output and "未导入任何数据" in result.output
    assert task_count(engine) == 0
    wb["任务清单"].delete_rows(3)
    good = tmp_path / "good.xlsx"
    wb.save(good)
    result = invoke("task", "import", str(good), "--as", "王主任")
    assert result.exit_code == 0 and "新建 1 项" in result.output, result.output
    result = invoke("task", "import", str(good), "--as", "王主任")
    assert "新建 0 项" in result.output and "未重复创建 1 项" in result.output
    assert task_count(engine) == 1
