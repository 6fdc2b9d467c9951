"""The plan file: the example loads; every problem names its line and key; all are collected."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest

from tracker.plans import CampaignPlan, PlanError, load_plan, parse_plan
from tracker.plans.kinds import PhaseKind, UnitKind
from tracker.standards import load_standard

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "plan.yaml"
EXAMPLE_TEXT = EXAMPLE.read_text(encoding="utf-8")

# A small plan: two bureau sections, one county department, two townships.
SMALL = """\
编号: small
名称: 小县创建工作
县: 小县
标准: national-2017
领导小组:
  组长: {姓名: 甲组长, 职务: 县长, 邮箱: a@gov.small.example}
  副组长:
    - {姓名: 乙副组长, 职务: 副县长, 邮箱: b@gov.small.example}
  成员:
    - {姓名: 丙局长, 职务: 财政局局长, 单位: 财政局, 邮箱: c@gov.small.example}
办公室:
  设在: 督导室
  工作人员:
    - {姓名: 丁干事, 职务: 督学, 邮箱: d@jyj.small.example}
责任单位:
  - 名称: 县教育局人事股
    简称: 人事股
    类别: 教育局股室
    别名: [人事科]
    联系人: [{姓名: 戊, 邮箱: e@jyj.small.example}]
    分管领导: 乙副组长
  - 名称: 县教育督导室
    简称: 督导室
    类别: 教育局股室
    别名: [教育局]   # the standard's "教育局" means this unit here
    联系人: [{姓名: 己, 邮箱: f@jyj.small.example}]
    分管领导: 乙副组长
  - 名称: 县财政局
    简称: 财政局
    类别: 县直部门
    负责人: {姓名: 丙局长}
    联系人: [{姓名: 庚, 邮箱: g@gov.small.example}]
    分管领导: 乙副组长
  - 名称: 东镇人民政府
    简称: 东镇
    类别: 乡镇
    联系人: [{姓名: 辛, 邮箱: h@dz.small.example}]
    分管领导: 甲组长
  - 名称: 西乡人民政府
    简称: 西乡
    类别: 乡镇
    联系人: [{姓名: 壬, 邮箱: i@xx.small.example}]
    分管领导: 甲组长
分工:
  1: {牵头: 人事股, 配合: [财政局]}
  4: {牵头: 财政局, 配合: [各乡镇], 完成时限: 2027年8月31日}
"""


def _problems(text: str) -> list[str]:
    with pytest.raises(PlanError) as caught:
        parse_plan(text, source="plan.yaml")
    return caught.value.problems


def _line_of(text: str, snippet: str, nth: int = 0) -> int:
    """1-based line of the nth occurrence of snippet."""
    index = -1
    for _ in range(nth + 1):
        index = text.index(snippet, index + 1)
    return text.count("\n", 0, index) + 1


def _replace(old: str, new: str, text: str = EXAMPLE_TEXT) -> str:
    assert text.count(old) == 1, f"snippet not unique: {old!r}"
    return text.replace(old, new)


# ---------------------------------------------------------------------------- the example


def test_example_plan_loads_complete():
    plan = load_plan(EXAMPLE)
    assert plan.code == "qingchuan-2027" and plan.county == "青川县"
    standard = load_standard(plan.standard)
    # every indicator of the standard has a lead unit, none taken from defaults
    assert set(plan.assignments) == {i.code for i in standard.indicators}
    assert not any(a.from_standard for a in plan.assignments.values())
    assert plan.warnings == []
    kinds = [d.kind for d in plan.departments]
    assert kinds[0] is UnitKind.office
    assert kinds.count(UnitKind.bureau_section) == 6
    assert kinds.count(UnitKind.county_department) == 10
    assert len(plan.townships) == 5
    # names are resolved to full names; 各乡镇 stays for the school's township
    four = plan.assignments["4"]
    assert four.lead == "县教育局计划财务股"
    assert "各乡镇" in four.cooperating and "青川县财政局" in four.cooperating
    assert four.due_on == dt.date(2027, 8, 31)
    # phases: overlapping windows, unknown gates
    phases = {p.code: p for p in plan.phases}
    assert [p.order for p in plan.phases] == [1, 2, 3, 4, 5]
    assert phases["rectification"].starts_on < phases["review_city"].starts_on < phases["rectification"].gate_on
    assert phases["review_province"].gate_on is None and phases["review_province"].note == "以上级通知为准"
    assert phases["review_national"].starts_on is None
    # preparatory tasks: dated, in December 2026, lead resolved, phase resolved
    assert len(plan.preparatory_tasks) >= 6
    assert all(dt.date(2026, 12, 1) <= t.due_on <= dt.date(2026, 12, 31) for t in plan.preparatory_tasks)
    p04 = next(t for t in plan.preparatory_tasks if t.code == "P04")
    assert p04.lead == plan.office.name and p04.phase == "self_check"
    # people: merged across roles
    people = {p.name: p for p in plan.people}
    assert people["韩静"].group_role == "成员" and people["韩静"].is_office and people["韩静"].is_head
    assert people["韩静"].department == "县人民政府教育督导室"
    assert people["苏晓"].department == plan.office.name and people["苏晓"].is_contact
    assert people["李婷"].is_contact and not people["李婷"].is_office
    assert all(p.email.endswith(".example") for p in plan.people)
    dept = plan.department("财政局")
    assert dept.head_name == "郑海燕" and dept.head_email == "zhenghaiyan@gov.qingchuan.example"
    assert dept.supervisor == "林晓岚"
    # the reminder ladder with its defaults
    ladder = plan.reminders
    assert ladder.ack_resend_after_working_days == 1 and ladder.due_soon_working_days == [3, 1]
    assert ladder.chase_every_working_days == 2 and ladder.escalate_after_working_days == 3
    assert ladder.send_window_start == dt.time(8, 30) and ladder.send_window_end == dt.time(18, 0)


def test_stored_form_round_trips_with_english_keys():
    plan = load_plan(EXAMPLE)
    stored = plan.model_dump(mode="json")
    assert stored["reminders"] == {
        "ack_resend_after_working_days": 1, "due_soon_working_days": [3, 1], "remind_on_due_date": True,
        "chase_every_working_days": 2, "escalate_after_working_days": 3, "yellow_within_working_days": 3,
        "redate_working_days": 5, "send_window_start": "08:30", "send_window_end": "18:00", "urgent": []}
    assert stored["assignments"]["1"]["lead"] == "县教育局人事股"
    assert stored["phases"][3]["gate_on"] is None
    assert CampaignPlan.from_stored(stored) == plan


def test_small_plan_fills_defaults_from_the_standard_and_warns():
    plan = parse_plan(SMALL)
    standard = load_standard("national-2017")
    assert set(plan.assignments) == {i.code for i in standard.indicators}
    # 2: the standard lists 人事科 (an alias here), 教育局, 编办, 人社局: only 人事股 exists
    two = plan.assignments["2"]
    assert two.from_standard and two.lead == "县教育局人事股" and two.cooperating == ["县教育督导室"]
    # 14: 财务科 (no such unit), 教育局 (督导室's alias), 财政局 → 督导室 leads, 财政局 cooperates
    assert plan.assignments["14"].lead == "县教育督导室"
    assert plan.assignments["14"].cooperating == ["县财政局"]
    # 22 lists several that exist here → the first leads, the plan is told to say who leads
    assert plan.assignments["22"].cooperating == ["县财政局", "各乡镇"]
    assert any("指标 22 未在分工表中" in w and "请在分工中写明谁牵头" in w for w in plan.warnings)
    assert any("不在方案中，已略去" in w for w in plan.warnings)
    # the plan's own rows are not defaults; a Chinese date is accepted
    assert not plan.assignments["4"].from_standard
    assert plan.assignments["4"].due_on == dt.date(2027, 8, 31)
    # school-fixable defaults to the standard's list
    assert plan.school_fixable == [i.code for i in standard.indicators if i.school_can_fix]
    # no 阶段: the five default phases, dates unknown
    assert [p.kind for p in plan.phases] == [PhaseKind.self_check, PhaseKind.rectification,
                                            PhaseKind.review_city, PhaseKind.review_province,
                                            PhaseKind.review_national]
    assert all(p.gate_on is None for p in plan.phases)
    # no 提醒: the defaults
    assert plan.reminders.escalate_after_working_days == 3


def test_seed_001_six_phases_are_expressible():
    text = SMALL + """\
阶段:
  - {编号: prepare, 名称: 准备阶段, 类型: 其他, 开始: 2020-06-01, 关口: 2020-08-31}
  - {编号: implement, 名称: 实施阶段, 类型: 整改, 开始: 2020-09-01, 关口: 2021-12-31}
  - {编号: self_eval, 名称: 自评申报, 类型: 自查自评, 开始: 2022-01-01, 关口: 2022-06-30}
  - {编号: improve, 名称: 整改提升, 类型: 整改, 开始: 2022-07-01, 关口: 2022-08-31}
  - {编号: province, 名称: 迎接省级评估, 类型: 省级评估, 开始: 2022-09-01, 关口: 2022-10-31}
  - {编号: national, 名称: 迎接教育部实地检查, 类型: 国家审核认定, 开始: 2022-11-01, 关口: 2022-12-31}
提醒:
  发送开始: 08:30
  发送结束: 17:30
  临期提醒工作日: 2
"""
    plan = parse_plan(text)
    assert [p.name for p in plan.phases][0] == "准备阶段" and len(plan.phases) == 6
    assert plan.phases[1].kind is PhaseKind.rectification and plan.phases[3].kind is PhaseKind.rectification
    # unquoted times are times (no YAML 1.1 base-60 numbers), a single number is a list of one
    assert plan.reminders.send_window_end == dt.time(17, 30)
    assert plan.reminders.due_soon_working_days == [2]
    assert plan.reminders.urgent == []  # nothing urgent unless the plan says so


def test_the_working_days_a_late_task_gets_are_a_plan_setting():
    assert load_plan(EXAMPLE).reminders.redate_working_days == 5
    plan = parse_plan(_replace("逾期顺延工作日: 5 ", "逾期顺延工作日: 10 "))
    assert plan.reminders.redate_working_days == 10
    assert plan.model_dump(mode="json")["reminders"]["redate_working_days"] == 10
    assert CampaignPlan.from_stored(plan.model_dump(mode="json")).reminders.redate_working_days == 10
    assert parse_plan(_replace("  逾期顺延工作日: 5 ", "  # 不写\n  # ")).reminders.redate_working_days == 5
    assert parse_plan(SMALL).reminders.redate_working_days == 5  # no 提醒 at all: the default


def test_rungs_marked_urgent_are_stored_by_their_rung_values():
    text = _replace('  发送结束: "18:00"', '  发送结束: "18:00"\n  紧急发送: [督办单, 交办单, 督办单]')
    plan = parse_plan(text)
    assert plan.reminders.urgent == ["escalation", "assigned"]
    assert plan.model_dump(mode="json")["reminders"]["urgent"] == ["escalation", "assigned"]
    assert CampaignPlan.from_stored(plan.model_dump(mode="json")).reminders.urgent == ["escalation", "assigned"]


# ---------------------------------------------------------------------------- each problem: line and key

CASES = [
    # (id, old snippet, new snippet, snippet locating the line in the new text, key, words in the message)
    ("unknown indicator", "  32: {牵头: 督导室", "  99: {牵头: 督导室", "  99:", "分工.99", "未知的指标「99」"),
    ("unknown unit in assignment", "  27: {牵头: 教研室}", "  27: {牵头: 教研局}", "  27:", "分工.27.牵头",
     "未知的单位「教研局」"),
    ("unknown unit in preparatory task", "    牵头: 财政局\n    配合: [计财股]",
     "    牵头: 财政局\n    配合: [计划股]", "    配合: [计划股]", "准备工作[8].配合[1]", "未知的单位「计划股」"),
    ("person's unknown unit", "单位: 团县委,", "单位: 团市委,", "单位: 团市委", "领导小组.成员[12].单位",
     "未知的单位「团市委」"),
    ("reversed window", "开始: 2027-04-01, 关口: 2027-06-30}", "开始: 2027-04-01, 关口: 2027-03-31}",
     "关口: 2027-03-31", "阶段[3].关口", "早于开始日期"),
    ("bad e-mail", "邮箱: liting@jyj.qingchuan.example", "邮箱: liting＠jyj", "liting＠jyj",
     "责任单位[1].联系人[1].邮箱", "邮箱格式不正确"),
    ("duplicate unit name", "  - 名称: 县教育局基础教育股\n    简称: 基教股",
     "  - 名称: 县教育局人事股\n    简称: 基教股", ("名称: 县教育局人事股", 1), "责任单位[3].名称", "重复（第 64 行已用）"),
    ("duplicate phase code", "{编号: review_city, 名称: 市级复评", "{编号: rectification, 名称: 市级复评",
     "{编号: rectification, 名称: 市级复评", "阶段[3].编号", "阶段编号「rectification」重复"),
    ("unknown standard", "标准: national-2017 ", "标准: national-2019 ", "标准: national-2019", "标准",
     "未知的评估标准「national-2019」"),
    ("supervisor not in the leading group", "    分管领导: 杨帆\n  - 名称: 县教育局计划财务股",
     "    分管领导: 杨一帆\n  - 名称: 县教育局计划财务股", "分管领导: 杨一帆", "责任单位[1].分管领导",
     "不是领导小组成员"),
    ("各乡镇 cannot lead", "  23: {牵头: 基教股, 配合: [各乡镇]}", "  23: {牵头: 各乡镇}", "  23: {牵头: 各乡镇}",
     "分工.23.牵头", "只能作配合单位"),
    ("bad date", "完成时限: 2026-12-04", "完成时限: 12月4日", "完成时限: 12月4日", "准备工作[1].完成时限",
     "日期格式不正确"),
    ("unknown key in a unit", "    类别: 教育局股室\n    别名: [人事科]", "    类型: 教育局股室\n    别名: [人事科]",
     "    类型: 教育局股室", "责任单位[1].类型", "不认识的键「类型」"),
    ("missing contacts", "    联系人: [{姓名: 任重, 职务: 教育就业部部长, 邮箱: renzhong@gov.qingchuan.example}]\n",
     "", "  - 名称: 青川县残疾人联合会", "责任单位[16].联系人", "缺少必填项「联系人」"),
    ("same person, two e-mails", "负责人: {姓名: 郑海燕}", "负责人: {姓名: 郑海燕, 邮箱: zhy@other.example}",
     "zhy@other.example", "责任单位[9].负责人.邮箱", "邮箱与第"),
    ("same name in two units", "[{姓名: 贺军,", "[{姓名: 石磊,", ("[{姓名: 石磊,", 1), "责任单位[9].联系人[1]",
     "同时属于「青川县发展和改革局」和「青川县财政局」"),
    ("duplicate YAML key", "县: 青川县\n", "县: 青川县\n县: 青山县\n", "县: 青山县", "县", "键「县」重复"),
    ("unknown phase of a task", "    阶段: self_check\n  - 编号: P02", "    阶段: 自检\n  - 编号: P02",
     "    阶段: 自检", "准备工作[1].阶段", "未知的阶段「自检」"),
    ("unknown top-level key", "提醒:\n", "提醒设置:\n", "提醒设置:", "提醒设置", "不认识的键「提醒设置」"),
    ("sending window reversed", '发送结束: "18:00"', '发送结束: "07:00"', '发送结束: "07:00"', "提醒.发送结束",
     "应晚于"),
    ("bad school contact e-mail", "邮箱: school002@edu.qingchuan.example", "邮箱: school002-edu",
     "邮箱: school002-edu", "学校联系人.城关镇第一小学.邮箱", "邮箱格式不正确"),
    ("school contact is a unit's person", "城关镇第二小学: {姓名: 何志强,", "城关镇第二小学: {姓名: 石磊,",
     "城关镇第二小学: {姓名: 石磊,", "学校联系人.城关镇第二小学.姓名", "已是「青川县财政局」的人员"),
    ("unknown urgent rung", '  发送结束: "18:00"', '  发送结束: "18:00"\n  紧急发送: [督办单, 加急单]',
     "紧急发送: [督办单, 加急单]", "提醒.紧急发送", "未知的提醒「加急单」"),
    ("appraisal rank by an unknown figure", "排名依据: 按时率", "排名依据: 完成率", "排名依据: 完成率",
     "考核.排名依据", "排名依据只能是 按时率 或 得分，现为「完成率」"),
    ("appraisal negative points", "逾期每项扣: 2 ", "逾期每项扣: -2 ", "逾期每项扣: -2", "考核.逾期每项扣", ""),
    ("appraisal unknown key", "退回每次扣: 1 ", "退件每次扣: 1 ", "退件每次扣: 1", "考核.退件每次扣", "不认识的键「退件每次扣」"),
    ("re-date days zero", "逾期顺延工作日: 5 ", "逾期顺延工作日: 0 ", "逾期顺延工作日: 0", "提醒.逾期顺延工作日",
     "逾期顺延工作日应为 1 到 30 之间的整数，现为「0」"),
    ("re-date days too many", "逾期顺延工作日: 5 ", "逾期顺延工作日: 31 ", "逾期顺延工作日: 31", "提醒.逾期顺延工作日",
     "应为 1 到 30 之间的整数，现为「31」"),
    ("re-date days in words", "逾期顺延工作日: 5 ", "逾期顺延工作日: 五天 ", "逾期顺延工作日: 五天", "提醒.逾期顺延工作日",
     "应为 1 到 30 之间的整数，现为「五天」"),
    ("re-date days a fraction", "逾期顺延工作日: 5 ", "逾期顺延工作日: 2.5 ", "逾期顺延工作日: 2.5", "提醒.逾期顺延工作日",
     "应为 1 到 30 之间的整数，现为「2.5」"),
]


@pytest.mark.parametrize("old,new,locate,key,words", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_each_problem_names_its_line_and_key(old, new, locate, key, words):
    text = _replace(old, new)
    problems = _problems(text)
    snippet, nth = locate if isinstance(locate, tuple) else (locate, 0)
    line = _line_of(text, snippet, nth)
    expected = f"第 {line} 行 {key}："
    matching = [p for p in problems if p.startswith(expected) and words in p]
    assert matching, f"expected a problem starting {expected!r} containing {words!r}; got {problems}"


def test_all_problems_are_collected_in_one_pass():
    text = EXAMPLE_TEXT
    for _, old, new, *_ in (CASES[0], CASES[1], CASES[3], CASES[4], CASES[5], CASES[11], CASES[9], CASES[13]):
        text = _replace(old, new, text)
    problems = _problems(text)
    for fragment in ("未知的指标「99」", "未知的单位「教研局」", "未知的单位「团市委」", "早于开始日期",
                     "邮箱格式不正确", "日期格式不正确", "不是领导小组成员", "缺少必填项「联系人」"):
        assert any(fragment in p for p in problems), fragment
    # sorted by line, each naming one
    lines = [int(re.match(r"第 (\d+) 行", p).group(1)) for p in problems]
    assert lines == sorted(lines)


def test_plan_error_message_names_the_file(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text(_replace("标准: national-2017 ", "标准: nope "), encoding="utf-8")
    with pytest.raises(PlanError) as caught:
        load_plan(path)
    assert str(path) in str(caught.value) and "1 处问题" in str(caught.value)


@pytest.mark.parametrize("text,words", [
    ("编号: x\n名称: [unclosed\n", "第 2 行"),
    ("- a\n- b\n", "映射"),
    ("", "映射"),
])
def test_unreadable_yaml_is_a_plan_error(text, words):
    problems = _problems(text)
    assert len(problems) == 1 and words in problems[0]


def test_missing_file_and_wrong_encoding(tmp_path):
    with pytest.raises(PlanError, match="找不到方案文件"):
        load_plan(tmp_path / "none.yaml")
    path = tmp_path / "gbk.yaml"
    path.write_bytes("县: 青川县".encode("gbk"))
    with pytest.raises(PlanError, match="UTF-8"):
        load_plan(path)


def test_a_missing_section_and_no_follow_on_errors_from_a_broken_unit():
    # a unit whose entry is broken (bad e-mail) is still known by name: no "unknown unit" elsewhere
    text = _replace("邮箱: liting@jyj.qingchuan.example", "邮箱: nope")
    problems = _problems(text)
    assert len(problems) == 1 and "邮箱格式不正确" in problems[0]
    office = "办公室:\n  设在: 督导室\n  工作人员:\n    - {姓名: 丁干事, 职务: 督学, 邮箱: d@jyj.small.example}\n"
    problems = _problems(SMALL.replace(office, ""))
    assert any("缺少「办公室」" in p for p in problems)


def test_office_reference_must_exist_elsewhere():
    text = SMALL.replace("    - {姓名: 丁干事, 职务: 督学, 邮箱: d@jyj.small.example}", "    - {姓名: 无名氏}")
    problems = _problems(text)
    assert any("「无名氏」未在方案其他处定义" in p for p in problems)


def test_campaign_code_must_suit_the_command_line():
    problems = _problems(SMALL.replace("编号: small", "编号: 小 县"))
    assert any(p.startswith("第 1 行 编号：") and "只能由字母" in p for p in problems)


def test_school_contacts_are_people_of_the_plan_found_by_school_name_or_code():
    plan = load_plan(EXAMPLE)
    assert len(plan.school_contacts) == 40
    contact = plan.school_contact("9999000002", "城关镇第一小学")
    assert contact is not None and contact.email == "school002@edu.qingchuan.example"
    assert contact.is_contact and contact.department is None and not contact.is_office
    by_code = parse_plan(_replace("  城关镇第一小学: {姓名: 吴秀兰,", "  9999000002: {姓名: 吴秀兰,"))
    assert by_code.school_contact("9999000002", "改了名的学校").name == "吴秀兰"
    assert plan.school_contact("9999000099", "不在方案中的学校") is None
    missing = _problems(_replace("{姓名: 吴秀兰, 职务: 校长, 邮箱: school002@edu.qingchuan.example}", "{姓名: 吴秀兰}"))
    assert any("学校联系人.城关镇第一小学" in p and "缺少邮箱" in p for p in missing), missing


def test_the_appraisal_rule_is_a_plan_section_with_a_default():
    """考核: the example writes the defaults; a plan without it gets them; stored plans of before
    the section (no "appraisal" key) read back with the default rule."""
    from tracker.plans import AppraisalRule

    example = load_plan(EXAMPLE)
    assert example.appraisal == AppraisalRule() == parse_plan(SMALL).appraisal
    assert (example.appraisal.full_marks, example.appraisal.overdue_points, example.appraisal.rank_by) == (
        100, 2, "on_time_rate")
    plan = parse_plan(_replace("排名依据: 按时率", "排名依据: 得分").replace("督办单每份扣: 2 ", "督办单每份扣: 5 "))
    assert (plan.appraisal.rank_by, plan.appraisal.escalation_points) == ("score", 5)
    stored = plan.model_dump(mode="json")
    assert stored["appraisal"]["rank_by"] == "score"
    assert CampaignPlan.from_stored(stored).appraisal.escalation_points == 5
    del stored["appraisal"]
    assert CampaignPlan.from_stored(stored).appraisal == AppraisalRule()


def test_kindergarten_weight_is_a_plan_setting():
    # seed 001: attached kindergarten classes split at 幼儿 : 小学 = 1 : 1.1
    plan = parse_plan(SMALL + "幼儿班折算: {幼儿: 1, 小学: 1.1}\n")
    assert plan.kindergarten_weight == pytest.approx(1 / 1.1)
    assert parse_plan(SMALL + "幼儿班折算: 0.8\n").kindergarten_weight == 0.8
    assert parse_plan(SMALL).kindergarten_weight is None  # the setting decides
    stored = CampaignPlan.from_stored(parse_plan(SMALL + "kindergarten_weight: 0.8\n").model_dump(mode="json"))
    assert stored.kindergarten_weight == 0.8


@pytest.mark.parametrize("value", ["0", "-1", "很多", "{幼儿: 1}", "{幼儿: 1, 初中: 1.1}", "true"])
def test_a_bad_kindergarten_weight_names_the_key(value):
    problems = _problems(SMALL + f"幼儿班折算: {value}\n")
    assert len(problems) == 1 and "幼儿班折算" in problems[0]
def test_a_phase_may_switch_entry_steps_off_and_say_how_often_schools_resubmit():
    text = _replace("  - {编号: rectification, 名称: 整改, 类型: 整改, 开始: 2027-01-01, 关口: 2027-09-30,",
                    "  - {编号: rectification, 名称: 整改, 类型: 整改, 开始: 2027-01-01, 关口: 2027-09-30, "
                    "停用步骤: [阶段部署通知], 重报数据: 每两周,", EXAMPLE.read_text(encoding="utf-8"))
    plan = parse_plan(text, source="plan.yaml")
    rect = next(p for p in plan.phases if p.code == "rectification")
    assert (rect.steps_off, rect.resubmit, rect.compile_lead_days) == (["阶段部署通知"], "每两周", 10)
    assert CampaignPlan.from_stored(plan.model_dump(mode="json")) == plan

    bad = _replace("停用步骤: [阶段部署通知], 重报数据: 每两周,", "停用步骤: [部署], 重报数据: 每天,", text)
    problems = "\n".join(_problems(bad))
    assert "未知的步骤「部署」" in problems and "重报数据应为 每周、每两周、每月 之一，现为「每天」" in problems
