"""群机器人 in the plan (issue 12 §6): a unit names its 企业微信 / 钉钉 group robot; a person of a unit
with a robot may have no e-mail; an unknown robot name is refused, with its line and key, when the
caller knows the configured robots (``campaign init``)."""

from __future__ import annotations

import pytest

from tests.tracker.plans.test_plan import EXAMPLE_TEXT, SMALL, _line_of, _replace
from tracker.plans import PlanError, mobile_of, parse_plan

# 财政局 reaches its people in a 钉钉 group: 庚 has no e-mail, only a mobile number
WITH_ROBOT = _replace(
    "    联系人: [{姓名: 庚, 邮箱: g@gov.small.example}]\n",
    "    群机器人: 财政局群\n    联系人: [{姓名: 庚, 电话: 138 0013 8000}]\n", SMALL)


def _problems(text: str, robots=None) -> list[str]:
    with pytest.raises(PlanError) as caught:
        parse_plan(text, source="plan.yaml", robots=robots)
    return caught.value.problems


def test_a_person_without_email_in_a_unit_with_a_robot_is_accepted():
    plan = parse_plan(WITH_ROBOT)
    finance = plan.department("财政局")
    assert finance.robot == "财政局群"
    assert finance.contacts == ["庚"]
    person = next(p for p in plan.people if p.name == "庚")
    assert person.email == "" and person.phone == "138 0013 8000" and person.department == "县财政局"
    assert not any("庚" in w for w in plan.warnings)
    # stored as the rest of the plan (the sweep reads it back from Campaign.plan)
    stored = plan.model_dump(mode="json")
    assert next(d for d in stored["departments"] if d["name"] == "县财政局")["robot"] == "财政局群"
    assert all(d["robot"] is None for d in stored["departments"] if d["name"] != "县财政局")


def test_without_a_robot_the_missing_email_is_still_a_problem_naming_line_and_key():
    text = _replace("    联系人: [{姓名: 庚, 邮箱: g@gov.small.example}]\n",
                    "    联系人: [{姓名: 庚, 电话: 13800138000}]\n", SMALL)
    problems = _problems(text)
    line = _line_of(text, "{姓名: 庚")
    assert problems == [f"第 {line} 行 责任单位[3].联系人[1].邮箱：「庚」缺少邮箱（交办、催办通知发到这里，或为其单位写「群机器人」）"]


def test_no_mobile_number_is_a_warning_the_robot_cannot_mention_them():
    text = WITH_ROBOT.replace("{姓名: 庚, 电话: 138 0013 8000}", "{姓名: 庚, 职务: 干事, 电话: 0839-5550111}")
    plan = parse_plan(text)
    line = _line_of(text, "{姓名: 庚")
    assert f"第 {line} 行 责任单位[3].联系人[1]：「庚」没有邮箱，通知发到「县财政局」的群机器人「财政局群」；" \
           "未写手机号（电话），群消息中无法 @ 此人" in plan.warnings


def test_office_staff_may_go_without_email_when_the_office_has_a_robot():
    text = _replace("  设在: 督导室\n", "  设在: 督导室\n  群机器人: 创建办群\n", WITH_ROBOT)
    text = text.replace("{姓名: 丁干事, 职务: 督学, 邮箱: d@jyj.small.example}", "{姓名: 丁干事, 职务: 督学, 电话: 13900139000}")
    plan = parse_plan(text)
    assert plan.departments[0].robot == "创建办群" and plan.office.robot == "创建办群"
    # and not without it
    problems = _problems(text.replace("  群机器人: 创建办群\n", ""))
    assert len(problems) == 1 and "「丁干事」缺少邮箱" in problems[0] and "办公室.工作人员[1].邮箱" in problems[0]


def test_a_robot_not_configured_is_refused_with_line_and_key_when_the_robots_are_known():
    problems = _problems(WITH_ROBOT, robots={"财政群", "创建办群"})
    line = _line_of(WITH_ROBOT, "群机器人: 财政局群")
    assert problems == [f"第 {line} 行 责任单位[3].群机器人：群机器人「财政局群」未在 JUNHENG_WEBHOOKS 中配置，"
                        "是否指「财政群」？（已配置：创建办群、财政群）"]
    assert parse_plan(WITH_ROBOT, robots={"财政局群"}).department("财政局").robot == "财政局群"
    # nothing configured at all
    assert "（已配置：（未配置任何群机器人））" in _problems(WITH_ROBOT, robots=set())[0]


def test_a_robot_name_must_be_text_of_a_name_length():
    problems = _problems(WITH_ROBOT.replace("群机器人: 财政局群", "群机器人: ''"))
    assert len(problems) == 1 and "责任单位[3].群机器人" in problems[0] and "不能为空" in problems[0]
    problems = _problems(WITH_ROBOT.replace("群机器人: 财政局群", "群机器人: " + "群" * 101))
    assert len(problems) == 1 and "过长（101 字）" in problems[0]


@pytest.mark.parametrize("phone, mobile", [
    ("13800138000", "13800138000"), ("138 0013 8000", "13800138000"), ("138-0013-8000", "13800138000"),
    ("+86 138 0013 8000", "13800138000"), ("8613800138000", "13800138000"), ("（138）00138000", "13800138000"),
    ("0839-5550111", None), ("12800138000", None), ("1380013800", None), ("", None), (None, None),
    ("13800138000 转 2", None),
])
def test_mobile_numbers_as_people_write_them(phone, mobile):
    assert mobile_of(phone) == mobile


def test_the_commented_example_in_the_example_plan_works():
    """The example plan's closing note, put where it says, loads."""
    note = EXAMPLE_TEXT.split("# 例如把上面“青川县财政局”的联系人一行换成：\n", 1)[1]
    block = "".join(line[2:].split("    #")[0].rstrip() + "\n" for line in note.splitlines())
    assert block.startswith("    群机器人: 财政局群\n    联系人:\n      - {姓名: 石磊,")
    text = _replace("    联系人: [{姓名: 石磊, 职务: 教科文股股长, 邮箱: shilei@gov.qingchuan.example}]\n", block)
    plan = parse_plan(text, robots={"财政局群"})
    finance = plan.department("财政局")
    assert finance.robot == "财政局群" and finance.contacts == ["石磊", "庚晓"]
    assert next(p for p in plan.people if p.name == "庚晓").email == ""
    assert parse_plan(EXAMPLE_TEXT, robots=set()).department("财政局").robot is None
