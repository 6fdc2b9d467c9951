"""The entries of a school programme's plan file (示范校, issue 15 §1) as written: phases with
dates, criteria (categories with points), panels, scoring rounds, the aggregate rule, the rule
for 导师型学校 and the award rules. Each validates its own fields; how they refer to each other
is ``programme``'s work, one function per section.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import Field, field_validator

from tracker.email_address import check_email
from tracker.plans.fields import (
    CODE_PATTERN,
    NAME_MAX,
    Name,
    PlanModel,
    code_field,
    code_text,
    name_field,
    parse_bool,
    parse_date,
    str_list,
    text_field,
)

# the programme's roles of a school, as the plan and the pages write them
ROLE_SEED = "标杆种子校"
ROLE_MENTOR = "导师型学校"
ROLE_POTENTIAL = "潜力校"
ROLES = (ROLE_SEED, ROLE_MENTOR, ROLE_POTENTIAL)
ROLE_CODES = {ROLE_SEED: "seed", ROLE_MENTOR: "mentor", ROLE_POTENTIAL: "potential"}

# the four award categories of the seed (表彰奖励); below 达标 is a veto (一票否决)
AWARD_CATEGORIES = ("贡献校", "标兵校", "进步校", "达标校")
VETO = "一票否决"
# no award either: an objection upheld during the results' 公示 withdrew the school's result
WITHDRAWN = "结果公示期间异议成立"
PROGRAMME_KIND_WORDS = ("示范校", "school-programme", "学校项目")


def _code(value: Any) -> Any:
    value = code_text(value)
    if isinstance(value, str) and value.strip() and not CODE_PATTERN.match(value.strip()):
        raise ValueError(f"编号「{value}」只能由字母、数字和 - _ . 组成")
    return value


class ProgrammeHeader(PlanModel):
    kind: str = Field(alias="类型")
    code: str = code_field("编号")
    name: str = name_field("名称")
    county: str = name_field("县")
    beside: str = Field("", alias="创建工作", max_length=64)  # the county campaign it runs beside

    _code = field_validator("code", mode="before")(classmethod(lambda cls, v: _code(v)))


class ProgrammePhase(PlanModel):
    code: str = code_field("编号")
    name: str = name_field("名称")
    starts_on: dt.date = Field(alias="开始")
    ends_on: dt.date = Field(alias="结束")

    _code = field_validator("code", mode="before")(classmethod(lambda cls, v: _code(v)))
    _dates = field_validator("starts_on", "ends_on", mode="before")(classmethod(lambda cls, v: parse_date(v)))


class Criterion(PlanModel):
    """One category of the 评选标准 and its full points."""

    code: str = code_field("编号")
    name: str = name_field("名称")
    points: float = Field(alias="分值", gt=0, le=1000)
    note: str = text_field("说明")

    _code = field_validator("code", mode="before")(classmethod(lambda cls, v: _code(v)))


class Criteria(PlanModel):
    illustrative: bool = Field(False, alias="示例")
    source: str = text_field("依据")
    categories: list[Criterion] = Field(alias="类别", min_length=1)

    _bool = field_validator("illustrative", mode="before")(classmethod(lambda cls, v: parse_bool(v)))


class PanelMember(PlanModel):
    name: Name = name_field("姓名")
    title: str = name_field("职务", "", required=False)
    email: str = Field("", alias="邮箱", max_length=254)
    school: str = Field("", alias="学校", max_length=NAME_MAX)  # the school they belong to: never scored by them
    unit: str = Field("", alias="单位", max_length=NAME_MAX)

    @field_validator("email")
    @classmethod
    def _email(cls, value: str) -> str:
        return check_email(value)


class Panel(PlanModel):
    code: str = code_field("编号")
    name: str = name_field("名称")
    members: list[PanelMember] = Field(alias="成员", min_length=1)

    _code = field_validator("code", mode="before")(classmethod(lambda cls, v: _code(v)))


class ScoringRound(PlanModel):
    """A scoring of one role's schools by one panel within one phase's dates (the window)."""

    code: str = code_field("编号")
    name: str = name_field("名称")
    phase: str = Field(alias="阶段", min_length=1, max_length=64)
    panel: str = Field(alias="评审组", min_length=1, max_length=64)
    role: str = Field(alias="对象", min_length=1, max_length=NAME_MAX)
    weight: float = Field(1.0, alias="权重", ge=0, le=1)

    _codes = field_validator("code", "phase", "panel", mode="before")(classmethod(lambda cls, v: _code(v)))

    @field_validator("role")
    @classmethod
    def _role(cls, value: str) -> str:
        if value not in ROLES:
            raise ValueError(f"对象「{value}」应为 {'、'.join(ROLES)} 之一")
        return value


class Aggregate(PlanModel):
    """How members' scores become a school's: the mean, after dropping the highest and lowest
    score when at least ``drop_extremes_from`` members scored (0: never drop)."""

    drop_extremes_from: int = Field(5, alias="去掉最高最低分的最少人数", ge=0, le=100)


class MentorRule(PlanModel):
    min_score: float = Field(80, alias="得分不低于", ge=0)
    min_practices: int = Field(2, alias="可复制经验不少于", ge=0, le=50)
    round: str = Field(alias="评分", min_length=1, max_length=64)


class AwardRule(PlanModel):
    category: str = Field(alias="类别")
    roles: list[str] = Field(alias="角色", min_length=1)
    min_score: float | None = Field(None, alias="得分不低于", ge=0)
    min_pair_mean: float | None = Field(None, alias="结对校平均分不低于", ge=0)

    _roles = field_validator("roles", mode="before")(classmethod(lambda cls, v: str_list(v)))

    @field_validator("category")
    @classmethod
    def _category(cls, value: str) -> str:
        if value not in AWARD_CATEGORIES:
            raise ValueError(f"类别「{value}」应为 {'、'.join(AWARD_CATEGORIES)} 之一")
        return value

    @field_validator("roles")
    @classmethod
    def _role_names(cls, value: list[str]) -> list[str]:
        for role in value:
            if role not in ROLES:
                raise ValueError(f"角色「{role}」应为 {'、'.join(ROLES)} 之一")
        return value


class AwardRules(PlanModel):
    veto_below: float = Field(alias="一票否决线", ge=0)  # a potential school scoring below it: no honours
    rules: list[AwardRule] = Field(alias="类别", min_length=1)  # the first rule a school meets gives its award


class ProgrammeUnit(PlanModel):
    name: str = name_field("名称")
    short_name: str = name_field("简称", "", required=False)
    office: bool = Field(False, alias="办公室")

    _bool = field_validator("office", mode="before")(classmethod(lambda cls, v: parse_bool(v)))


class ProgrammePerson(PlanModel):
    name: Name = name_field("姓名")
    title: str = name_field("职务", "", required=False)
    email: str = Field("", alias="邮箱", max_length=254)
    unit: str = Field("", alias="单位", max_length=NAME_MAX)
    school: str = Field("", alias="学校", max_length=NAME_MAX)
    office: bool = Field(False, alias="办公室")

    _bool = field_validator("office", mode="before")(classmethod(lambda cls, v: parse_bool(v)))

    @field_validator("email")
    @classmethod
    def _email(cls, value: str) -> str:
        return check_email(value)


class ProgrammeSchool(PlanModel):
    name: str = name_field("名称")
    school_type: str = Field("小学", alias="类型", max_length=NAME_MAX)
    key: str = Field("", alias="标识码", max_length=64)

    _key = field_validator("key", mode="before")(classmethod(lambda cls, v: code_text(v) if v is not None else ""))
