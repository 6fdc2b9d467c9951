"""A small programme for the tests: six schools, one panel of five (one of them from 一中 — it
may never score 一中), and the seed's five phases in 2027. ``walk`` moves it through every phase
with fixed scores, each step at a frozen Beijing date inside that phase."""

from __future__ import annotations

import datetime as dt

import time_machine

from tracker.db import session_scope
from tracker.plans.programme import parse_programme_plan
from tracker.programmes import awards, pairing, scoring, service

PLAN = """\
类型: 示范校
编号: sfx
名称: 示例县示范校创建
县: 示例县
阶段:
  - {编号: seed, 名称: 标杆种子校圈定, 开始: 2027-03-01, 结束: 2027-04-30}
  - {编号: mentor, 名称: 导师型学校遴选, 开始: 2027-05-01, 结束: 2027-05-31}
  - {编号: pairing, 名称: 搭对提升, 开始: 2027-06-01, 结束: 2027-07-15}
  - {编号: acceptance, 名称: 成果验收, 开始: 2027-07-16, 结束: 2027-08-31}
  - {编号: awards, 名称: 表彰奖励, 开始: 2027-09-01, 结束: 2027-09-30}
评选标准:
  示例: 是
  类别:
    - {编号: A, 名称: 学校管理精, 分值: 50}
    - {编号: B, 名称: 教学质量硬, 分值: 50}
单位:
  - {名称: 督导室, 办公室: 是}
  - {名称: 基础教育科, 简称: 基教科}
人员:
  - {姓名: 周主任, 单位: 督导室, 办公室: 是, 邮箱: zhou@example.cn}
学校:
  - {名称: 一中}
  - {名称: 二中}
  - {名称: 三小}
  - {名称: 四小}
  - {名称: 五小}
  - {名称: 六小}
评审组:
  - 编号: panel
    名称: 验收组
    成员:
      - {姓名: 甲, 学校: 一中}
      - {姓名: 乙}
      - {姓名: 丙}
      - {姓名: 丁}
      - {姓名: 戊}
评分:
  - {编号: mentor, 名称: 可复制经验展示, 阶段: mentor, 评审组: panel, 对象: 标杆种子校}
  - {编号: presentation, 名称: 提升汇报, 阶段: acceptance, 评审组: panel, 对象: 潜力校, 权重: 0.4}
  - {编号: inspection, 名称: 现场查验, 阶段: acceptance, 评审组: panel, 对象: 潜力校, 权重: 0.6}
评分规则:
  去掉最高最低分的最少人数: 5
导师型学校: {评分: mentor, 得分不低于: 80, 可复制经验不少于: 2}
表彰规则:
  一票否决线: 60
  类别:
    - {类别: 贡献校, 角色: 导师型学校, 结对校平均分不低于: 80}
    - {类别: 标兵校, 角色: [导师型学校, 标杆种子校]}
    - {类别: 进步校, 角色: 潜力校, 得分不低于: 85}
    - {类别: 达标校, 角色: 潜力校, 得分不低于: 60}
"""

OFFICE = "周主任"
MEMBERS = ("甲", "乙", "丙", "丁", "戊")


def at(day: dt.date):
    """Freeze the clock at noon Beijing time of ``day``."""
    return time_machine.travel(dt.datetime(day.year, day.month, day.day, 4, 0, tzinfo=dt.UTC), tick=False)


SEED_DAY = dt.date(2027, 3, 10)
SEEDS_PUBLIC = (dt.date(2027, 4, 20), dt.date(2027, 4, 26))
MENTOR_DAY = dt.date(2027, 5, 10)
PAIRING_DAY = dt.date(2027, 6, 10)
ACCEPTANCE_DAY = dt.date(2027, 8, 1)
RESULTS_PUBLIC = (dt.date(2027, 8, 20), dt.date(2027, 8, 26))
AWARD_DAY = dt.date(2027, 9, 5)

# members' scores per school (A, B), in MEMBERS order; 甲 never scores 一中
MENTOR_SCORES = {"一中": [None, (45, 45), (44, 44), (40, 40), (46, 46)],
                 "二中": [(30, 30), (35, 35), (36, 36), (37, 37), (50, 50)]}
POTENTIAL_SCORES = {"三小": (45, 45), "四小": (40, 40), "五小": (20, 20)}  # every member alike, both rounds


def create(engine) -> int:
    with session_scope(engine) as session:
        return service.create_programme(session, parse_programme_plan(PLAN), actor=OFFICE).id


def walk(engine, campaign_id: int, *, until: str = "awards") -> None:
    """Move the programme through its phases: 一中 nominated, 二中 applies and passes, 三小 applies
    and is refused; both scored, 一中 promoted; 一中 pairs with 三小, 四小 and 五小; they are scored."""
    from tracker.org.models import Campaign

    def run(day, step):
        with at(day), session_scope(engine) as session:
            campaign = session.get(Campaign, campaign_id)
            step(session, campaign, day)

    def seeds(session, campaign, day):
        school = lambda name: service.find_school(session, campaign, name)  # noqa: E731
        service.nominate(session, campaign, "一中", "基教科", "教学质量突出", actor="孙科长")
        service.apply(session, campaign, school("二中"), {"A": 45, "B": 44}, "自评达标", actor="二中")
        service.apply(session, campaign, school("三小"), {"A": 30, "B": 30}, "申请", actor="三小")
        service.review(session, campaign, school("二中"), True, "复核达标", actor=OFFICE)
        service.review(session, campaign, school("三小"), False, "生均占有值未达标", actor=OFFICE)
        service.open_publicity(session, campaign, "seeds", *SEEDS_PUBLIC, actor=OFFICE)

    run(SEED_DAY, seeds)
    if until == "seeds":
        return

    def mentors(session, campaign, day):
        for name, rows in MENTOR_SCORES.items():
            school = service.find_school(session, campaign, name)
            for member, points in zip(MEMBERS, rows):
                if points:
                    scoring.score(session, campaign, "mentor", service.find_person(session, campaign, member), school,
                                  {"A": points[0], "B": points[1]}, today=day, actor=member)
        scoring.promote(session, campaign, service.find_school(session, campaign, "一中"), ["A", "B"], actor=OFFICE)

    run(MENTOR_DAY, mentors)
    if until == "mentor":
        return

    def pairs(session, campaign, day):
        school = lambda name: service.find_school(session, campaign, name)  # noqa: E731
        group = pairing.pair(session, campaign, school("一中"), [school("三小"), school("四小"), school("五小")],
                             actor=OFFICE)
        pairing.add_task(session, campaign, group, school("三小"), "共建教研组", dt.date(2027, 7, 1),
                         actor=OFFICE, today=day)
        pairing.report(session, campaign, school("三小"), "已开展两次联合教研", actor="三小")

    run(PAIRING_DAY, pairs)
    if until == "pairing":
        return

    def acceptance(session, campaign, day):
        for name, points in POTENTIAL_SCORES.items():
            school = service.find_school(session, campaign, name)
            for member in MEMBERS:
                for round_code in ("presentation", "inspection"):
                    scoring.score(session, campaign, round_code, service.find_person(session, campaign, member),
                                  school, {"A": points[0], "B": points[1]}, today=day, actor=member)
        service.open_publicity(session, campaign, "results", *RESULTS_PUBLIC, actor=OFFICE)

    run(ACCEPTANCE_DAY, acceptance)
    if until == "acceptance":
        return

    run(AWARD_DAY, lambda session, campaign, day: awards.compute(session, campaign, actor=OFFICE, today=day))
