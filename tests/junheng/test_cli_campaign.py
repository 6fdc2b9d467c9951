"""`junheng campaign init|list|show` through the real Typer app, on the fixture's database."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlmodel import Session, func, select
from typer.testing import CliRunner

from junheng.cli import app
from tracker.db import get_engine
from tracker.events.models import Event
from tracker.org.models import Campaign, Department, Person, Phase

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "plan.yaml"
runner = CliRunner()


@pytest.fixture(autouse=True)
def wide_terminal(monkeypatch):
    monkeypatch.setenv("COLUMNS", "240")  # so table cells do not wrap


def _rows(db_url: str, model) -> int:
    with Session(get_engine(db_url)) as session:
        return session.exec(select(func.count()).select_from(model)).one()


def test_init_stores_the_example_and_rerunning_changes_nothing(db_url):
    result = runner.invoke(app, ["campaign", "init", str(EXAMPLE)])
    assert result.exit_code == 0, result.output
    assert "已建立创建工作 qingchuan-2027" in result.output
    assert "22 个" in result.output and "国家审核认定" in result.output
    assert _rows(db_url, Campaign) == 1 and _rows(db_url, Phase) == 5 and _rows(db_url, Department) == 22

    again = runner.invoke(app, ["campaign", "init", str(EXAMPLE), "--as", "韩静"])
    assert again.exit_code == 0, again.output
    assert "与方案一致，没有变化" in again.output
    # campaign.created and the plan's 8 preparatory tasks (task.created: issue 12), nothing more
    assert _rows(db_url, Campaign) == 1 and _rows(db_url, Event) == 1 + 8


def test_init_with_a_changed_plan_lists_the_changes(db_url, tmp_path):
    assert runner.invoke(app, ["campaign", "init", str(EXAMPLE)]).exit_code == 0
    changed = tmp_path / "plan.yaml"
    changed.write_text(EXAMPLE.read_text(encoding="utf-8").replace("liting@jyj", "li.ting@jyj"), encoding="utf-8")
    result = runner.invoke(app, ["campaign", "init", str(changed), "--as", "苏晓"])
    assert result.exit_code == 0, result.output
    assert "1 处变化" in result.output and "人员「李婷」邮箱" in result.output
    with Session(get_engine(db_url)) as session:
        event = session.exec(select(Event).where(Event.type == "campaign.updated")).one()
        assert event.actor == "苏晓"
        assert session.exec(select(Person).where(Person.name == "李婷")).one().email == "li.ting@jyj.qingchuan.example"


def test_init_with_a_bad_plan_exits_2_names_every_problem_and_stores_nothing(db_url, tmp_path):
    bad = tmp_path / "bad.yaml"
    text = (EXAMPLE.read_text(encoding="utf-8")
            .replace("邮箱: liting@jyj.qingchuan.example", "邮箱: liting")
            .replace("  27: {牵头: 教研室}", "  27: {牵头: 教研局}"))
    bad.write_text(text, encoding="utf-8")
    result = runner.invoke(app, ["campaign", "init", str(bad)])
    assert result.exit_code == 2
    assert "2 处问题，未作任何改动" in result.stderr
    assert "责任单位[1].联系人[1].邮箱：邮箱格式不正确" in result.stderr
    assert "分工.27.牵头：未知的单位「教研局」" in result.stderr
    assert "Traceback" not in result.output
    for model in (Campaign, Department, Person, Phase, Event):
        assert _rows(db_url, model) == 0


def test_init_of_a_missing_file(db_url, tmp_path):
    result = runner.invoke(app, ["campaign", "init", str(tmp_path / "none.yaml")])
    assert result.exit_code == 2 and "找不到方案文件" in result.stderr


def test_list_and_show(db_url):
    empty = runner.invoke(app, ["campaign", "list"])
    assert empty.exit_code == 0 and "还没有创建工作" in empty.output
    assert runner.invoke(app, ["campaign", "init", str(EXAMPLE)]).exit_code == 0

    listed = runner.invoke(app, ["campaign", "list"])
    assert listed.exit_code == 0, listed.output
    assert "qingchuan-2027" in listed.output and "青川县" in listed.output

    shown = runner.invoke(app, ["campaign", "show"])
    assert shown.exit_code == 0, shown.output
    for text in ("自查自评", "2026-12-01", "以上级通知为准", "县教育局人事股", "分管领导", "林晓岚",
                 "hanjing@jyj.qingchuan.example", "办公室（可销号）"):
        assert text in shown.output, text

    unknown = runner.invoke(app, ["campaign", "show", "--campaign", "nope"])
    assert unknown.exit_code == 3 and "没有编号为「nope」的创建工作" in unknown.stderr  # not found


def test_show_needs_campaign_when_there_are_two(db_url, tmp_path):
    other = tmp_path / "other.yaml"
    other.write_text(EXAMPLE.read_text(encoding="utf-8").replace("编号: qingchuan-2027", "编号: other-2027"),
                     encoding="utf-8")
    assert runner.invoke(app, ["campaign", "init", str(EXAMPLE)]).exit_code == 0
    assert runner.invoke(app, ["campaign", "init", str(other)]).exit_code == 0
    result = runner.invoke(app, ["campaign", "show"])
    assert result.exit_code == 2
    assert "--campaign" in result.stderr and "other-2027" in result.stderr
    assert runner.invoke(app, ["campaign", "show", "-c", "other-2027"]).exit_code == 0


def test_init_refuses_a_group_robot_the_settings_do_not_have(db_url, tmp_path, monkeypatch):
    """Issue 12 §6: a 群机器人 is checked against JUNHENG_WEBHOOKS at init, with its line and key."""
    from tracker.settings import get_settings

    plan = tmp_path / "plan.yaml"
    text = EXAMPLE.read_text(encoding="utf-8").replace(
        "    联系人: [{姓名: 石磊, 职务: 教科文股股长, 邮箱: shilei@gov.qingchuan.example}]\n",
        "    群机器人: 财政局群\n    联系人: [{姓名: 石磊, 职务: 教科文股股长, 电话: 13800138000}]\n")
    plan.write_text(text, encoding="utf-8")
    line = text[:text.index("群机器人: 财政局群")].count("\n") + 1
    monkeypatch.setenv("JUNHENG_WEBHOOKS", '{"财政群": {"url": "https://oapi.dingtalk.com/robot/send?access_token=x"}}')
    get_settings.cache_clear()
    result = runner.invoke(app, ["campaign", "init", str(plan)])
    assert result.exit_code == 2, result.output
    assert f"第 {line} 行 责任单位[9].群机器人：群机器人「财政局群」未在 JUNHENG_WEBHOOKS 中配置，是否指「财政群」？" \
           in result.output.replace("\n", "")
    assert _rows(db_url, Campaign) == 0

    monkeypatch.setenv("JUNHENG_WEBHOOKS", '{"财政局群": {"url": "https://oapi.dingtalk.com/robot/send?access_token=x"}}')
    get_settings.cache_clear()
    result = runner.invoke(app, ["campaign", "init", str(plan)])
    assert result.exit_code == 0, result.output
    with Session(get_engine(db_url)) as session:
        stored = session.exec(select(Campaign)).one().plan
    assert next(d for d in stored["departments"] if d["name"] == "青川县财政局")["robot"] == "财政局群"
    get_settings.cache_clear()
