"""`junheng review …` through the real Typer app: 县级督查 rounds, findings entered one by one or
from a sheet, a city check held inside another phase, and the refusals (nothing stored)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from sqlmodel import Session, func, select
from typer.testing import CliRunner

from junheng.cli import app
from tests.factories_db import build_world
from tracker.db import session_scope
from tracker.reviews.models import Review, ReviewFinding
from tracker.tasks.models import Task

runner = CliRunner()


@pytest.fixture(autouse=True)
def _frozen():
    with time_machine.travel(dt.datetime(2026, 12, 7, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai")), tick=False):
        yield


@pytest.fixture
def world(engine, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")
    with session_scope(engine) as session:
        world = build_world(session)
        return {code: phase.id for code, phase in world.phases.items()}


def invoke(*args: str):
    return runner.invoke(app, ["review", *args])


def counts(engine) -> tuple[int, int, int]:
    with Session(engine) as s:
        return tuple(s.exec(select(func.count()).select_from(m)).one() for m in (Review, ReviewFinding, Task))


def test_a_county_inspection_round_its_findings_and_the_list(engine, world, tmp_path):
    result = invoke("open", "县级督查", "--date", "2026-12-10", "--round", "第一轮", "--team", "督查小组：刘局长、陈督学",
                    "--scope", "城关镇各校", "--as", "王主任")
    assert result.exit_code == 0, result.output
    assert "已登记评估 #1：县级督查第一轮（阶段「自查自评」，2026-12-10）" in result.output

    result = invoke("findings", "1", "--text", "城关一小功能室台账不全", "--unit", "城关一小", "--due", "2026-12-20",
                    "--as", "王主任")
    assert result.exit_code == 0, result.output
    assert "【县级督查第一轮问题1】城关一小功能室台账不全（截止 2026-12-20）" in result.output

    sheet = tmp_path / "第一轮督查问题.csv"
    sheet.write_text("序号,问题,指标,责任单位,整改时限\n2,运动场地不足,,住建局、财政局,2027年1月29日\n", encoding="utf-8")
    result = invoke("findings", "1", str(sheet), "--as", "王主任")
    assert result.exit_code == 0, result.output
    assert "【县级督查第一轮问题2】运动场地不足" in result.output
    with Session(engine) as s:
        tasks = s.exec(select(Task).order_by(Task.id)).all()
        assert [t.phase_id for t in tasks] == [world["self_check"]] * 2 and {t.origin for t in tasks} == {"finding"}

    result = invoke("open", "县级督查", "--as", "王主任")  # the next round is numbered on
    assert result.exit_code == 0 and "县级督查第二轮" in result.output, result.output
    result = invoke("list")
    assert result.exit_code == 0, result.output
    for text in ("评估与督查", "县级督查第一轮", "督查小组：刘局长、陈督学", "县级督查第二轮", "无需结论"):
        assert text in result.output, text
    result = invoke("list", "--level", "市级")
    assert result.exit_code == 0 and "还没有登记评估" in result.output


def test_a_city_check_goes_into_a_phase_named_by_code_or_name(engine, world):
    result = invoke("open", "市级", "--phase", "自查自评", "--date", "2026-12-15")
    assert result.exit_code == 0, result.output
    assert "市级（阶段「自查自评」" in result.output
    result = invoke("open", "市级", "--phase", "rectification")
    assert result.exit_code == 0 and "阶段「整改」" in result.output, result.output
    with Session(engine) as s:
        assert [r.phase_id for r in s.exec(select(Review).order_by(Review.id))] == [world["self_check"],
                                                                                    world["rectification"]]
    result = invoke("verdict", "1", "通过", "--as", "王主任")
    assert result.exit_code == 0 and "结论：通过" in result.output, result.output


def test_a_city_check_with_no_phase_of_its_kind_goes_into_the_current_phase(engine, world):
    with session_scope(engine) as session:
        from tracker.org.models import Phase

        session.delete(session.get(Phase, world["review_city"]))
    result = invoke("open", "市级")
    assert result.exit_code == 0, result.output
    assert "市级（阶段「自查自评」）" in result.output


@pytest.mark.parametrize("args, message", [
    (("open", "区级"), "评估级别「区级」无效，应为 市级、省级、国家、县级督查 之一"),
    (("open", "市级", "--phase", "市督导室复核"), "没有编号或名称为「市督导室复核」的阶段"),
    (("open", "县级督查", "--team", "组" * 501), "「督查组」过长"),
    (("open", "县级督查", "--date", "2026-13-01"), "日期「2026-13-01」无效"),
    (("findings", "1", "--text", "台账不全", "--unit", "财政局", "--as", "王主任"), "逐条录入缺少：--due"),
    (("findings", "1", "x.csv", "--text", "台账不全", "--as", "王主任"), "请只用一种方式录入"),
    (("findings", "1", "--as", "王主任"), "请给出反馈问题表"),
    (("findings", "1", "--text", "台账不全", "--unit", "教育局", "--due", "2027-01-29", "--as", "王主任"),
     "序号 1「责任单位」：未知单位「教育局」"),
    (("findings", "1", "--text", "台账不全", "--unit", "财政局", "--due", "明年", "--as", "王主任"),
     "「整改时限」：「明年」不是日期"),
    (("findings", "9", "--text", "台账不全", "--unit", "财政局", "--due", "2027-01-29", "--as", "王主任"),
     "没有编号为 #9 的评估"),
    (("verdict", "1", "合格", "--as", "王主任"), "评估结论「合格」无效"),
])
def test_refusals_name_the_fault_and_store_nothing(engine, world, args, message):
    assert invoke("open", "县级督查", "--round", "第一轮").exit_code == 0
    before = counts(engine)
    result = invoke(*args)
    assert result.exit_code != 0
    assert "".join(message.split()) in "".join(result.output.split()), result.output  # however the lines wrap
    assert counts(engine) == before


def test_a_round_name_used_twice_is_refused(engine, world):
    assert invoke("open", "县级督查", "--round", "第一轮").exit_code == 0
    result = invoke("open", "县级督查", "--round", "第一轮")
    assert result.exit_code != 0 and "县级督查「第一轮」已登记（评估 #1）" in result.output, result.output
    assert counts(engine) == (1, 0, 0)
