"""The campaign plan file: one YAML file (Chinese keys) that sets up a county's campaign.

``load_plan(path)`` reads the file, validates every part of it and returns a resolved
``CampaignPlan``: the assignment table complete for every indicator of the standard, unit
names resolved to the units' full names, the school-fixable list filled in, and the people
of the plan merged into one list. On any problem it raises ``PlanError`` listing *all*
problems, each naming the YAML line and key, so a county fixes the file in one pass.

Keys are Chinese (``县``, ``领导小组``, ``责任单位`` …, see examples/plan.yaml); the English
field names are accepted too. The resolved plan is stored in ``Campaign.plan`` as
``model_dump(mode="json")``, i.e. with the *English* field names, which is what other code
reads (``plan["assignments"]["4"]["lead"]``, ``plan["reminders"]`` …).

Validation runs part by part (each unit, phase, person … on its own) so that one bad entry
does not hide the problems of the others, then checks references between the parts.
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
from collections.abc import Iterable, Sequence
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, field_serializer, field_validator

if TYPE_CHECKING:
    from yaml.nodes import Node

from tracker.email_address import check_email
from tracker.plans.kinds import PhaseKind, UnitKind
from tracker.errors import ErrorDetail, JunhengError

TOWNSHIPS_PLACEHOLDER = "各乡镇"  # "the township of the school concerned"
UNKNOWN_DATE_WORDS = ("以上级通知为准", "待定", "未定", "待通知")

PHASE_KIND_LABELS: dict[str, PhaseKind] = {
    "自查自评": PhaseKind.self_check,
    "整改": PhaseKind.rectification,
    "市级复评": PhaseKind.review_city,
    "省级评估": PhaseKind.review_province,
    "国家审核认定": PhaseKind.review_national,
    "其他": PhaseKind.other,
}
PHASE_KIND_NAMES: dict[PhaseKind, str] = {v: k for k, v in PHASE_KIND_LABELS.items()}

UNIT_KIND_LABELS: dict[str, UnitKind] = {
    "教育局股室": UnitKind.bureau_section,
    "股室": UnitKind.bureau_section,
    "科室": UnitKind.bureau_section,
    "县直部门": UnitKind.county_department,
    "部门": UnitKind.county_department,
    "乡镇": UnitKind.township,
    "街道": UnitKind.township,
}
UNIT_KIND_NAMES: dict[UnitKind, str] = {
    UnitKind.office: "办公室",
    UnitKind.bureau_section: "教育局股室",
    UnitKind.county_department: "县直部门",
    UnitKind.township: "乡镇",
}

GROUP_ROLES = ("组长", "副组长", "成员")

# 提醒.逾期顺延工作日: working days a task whose plan date has passed at creation gets (issue 9)
REDATE_WORKING_DAYS = 5
REDATE_WORKING_DAYS_MAX = 30

_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")
_DATE = re.compile(r"^\s*(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?\s*$")
_TIME = re.compile(r"^\s*(\d{1,2})\s*[:：]\s*(\d{2})(?:[:：]00)?\s*$")


class PlanError(JunhengError, ValueError):
    """A plan file that cannot be used. ``problems`` are Chinese, each naming line and key."""

    def __init__(self, problems: list[str], path: str | Path | None = None):
        self.problems = list(problems)
        self.path = str(path) if path is not None else None
        head = f"方案文件 {self.path} " if self.path else "方案"
        summary = f"{head}有 {len(self.problems)} 处问题"
        super().__init__(f"{summary}：\n" + "\n".join(self.problems), summary=summary,
                         details=[ErrorDetail(p) for p in self.problems])


# ---------------------------------------------------------------------------- value parsing


def _parse_date(value: Any) -> Any:
    """Dates as YAML writes them (2026-12-01) or as people type them (2026年12月1日, 2026/12/1)."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, str):
        text = value.strip()
        if not text:
            return None
        match = _DATE.match(text)
        if not match:
            raise ValueError(f"日期格式不正确：「{text}」，应写作 2026-12-01")
        try:
            return dt.date(*(int(g) for g in match.groups()))
        except ValueError:
            raise ValueError(f"没有这一天：「{text}」") from None
    return value


def _parse_optional_date(value: Any) -> Any:
    if isinstance(value, str) and value.strip() in UNKNOWN_DATE_WORDS:
        return None
    return _parse_date(value)


def _parse_time(value: Any) -> Any:
    if isinstance(value, str):
        match = _TIME.match(value)
        if not match:
            raise ValueError(f"时间格式不正确：「{value}」，应写作 \"08:30\"")
        hour, minute = int(match.group(1)), int(match.group(2))
        if hour > 23 or minute > 59:
            raise ValueError(f"没有这个时刻：「{value}」")
        return dt.time(hour, minute)
    return value


def _parse_bool(value: Any) -> Any:
    if isinstance(value, str):
        text = value.strip()
        if text in ("是", "要", "需要", "开", "true", "True"):
            return True
        if text in ("否", "不", "不要", "关", "false", "False"):
            return False
        raise ValueError(f"应填 是 或 否，现为「{text}」")
    return value


def _str_list(value: Any) -> Any:
    """A list of names; a single name, or names separated by 、 or ， also do."""
    if value is None:
        return []
    if isinstance(value, str):
        return [part.strip() for part in re.split(r"[、，,；;]", value) if part.strip()]
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return [str(value)]
    if isinstance(value, list):
        return [str(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else v for v in value]
    return value


# ---------------------------------------------------------------------------- models


class _PlanModel(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, str_strip_whitespace=True)


class PersonEntry(_PlanModel):
    """A person as the plan names them. An entry with only 姓名 refers to a person defined elsewhere."""

    name: str = Field(alias="姓名", min_length=1)
    title: str = Field("", alias="职务")
    email: str = Field("", alias="邮箱")
    phone: str = Field("", alias="电话")

    @field_validator("email")
    @classmethod
    def _email(cls, value: str) -> str:
        return check_email(value)

    @field_validator("phone", mode="before")
    @classmethod
    def _phone_as_text(cls, value: Any) -> Any:
        return str(value) if isinstance(value, int) else value


class GroupMember(PersonEntry):
    """A member of the leading group; 单位 is their unit in the plan, if they head or sit in one."""

    department: str | None = Field(None, alias="单位")


class LeadingGroup(_PlanModel):
    leader: GroupMember = Field(alias="组长")
    deputies: list[GroupMember] = Field(default_factory=list, alias="副组长")
    members: list[GroupMember] = Field(default_factory=list, alias="成员")

    def all(self) -> list[tuple[str, GroupMember]]:
        return ([("组长", self.leader)] + [("副组长", m) for m in self.deputies]
                + [("成员", m) for m in self.members])


class Office(_PlanModel):
    """领导小组办公室: runs the campaign day to day; its people verify (销号) and return (退回)."""

    name: str = Field("领导小组办公室", alias="名称", min_length=1)
    short_name: str = Field("办公室", alias="简称")
    located_in: str = Field(alias="设在", min_length=1)  # the unit it sits in, usually 督导室
    director: PersonEntry | None = Field(None, alias="主任")
    staff: list[PersonEntry] = Field(default_factory=list, alias="工作人员")


class DepartmentEntry(_PlanModel):
    """A responsible unit (责任单位): a bureau section, a county department or a township."""

    name: str = Field(alias="名称", min_length=1)
    short_name: str = Field("", alias="简称")
    kind: UnitKind = Field(alias="类别")
    aliases: list[str] = Field(default_factory=list, alias="别名")  # other spellings (人事科 for 人事股)
    head: PersonEntry | None = Field(None, alias="负责人")
    contacts: list[PersonEntry] = Field(alias="联系人", min_length=1)
    supervisor: str | None = Field(None, alias="分管领导")  # a leading-group member's name

    @field_validator("kind", mode="before")
    @classmethod
    def _kind(cls, value: Any) -> Any:
        if isinstance(value, str):
            text = value.strip()
            if text in UNIT_KIND_LABELS:
                return UNIT_KIND_LABELS[text]
            if text in (UnitKind.bureau_section.value, UnitKind.county_department.value, UnitKind.township.value):
                return UnitKind(text)
        raise ValueError(f"类别应为 教育局股室、县直部门 或 乡镇，现为「{value}」")

    @field_validator("aliases", mode="before")
    @classmethod
    def _aliases(cls, value: Any) -> Any:
        return _str_list(value)


class AssignmentEntry(_PlanModel):
    """One row of the 分工表: who leads (牵头) an indicator's work and who cooperates (配合)."""

    lead: str = Field(alias="牵头", min_length=1)
    cooperating: list[str] = Field(default_factory=list, alias="配合")
    due_on: dt.date | None = Field(None, alias="完成时限")
    measures: str = Field("", alias="措施")
    from_standard: bool = False  # set on resolution: taken from the standard's defaults

    @field_validator("cooperating", mode="before")
    @classmethod
    def _coop(cls, value: Any) -> Any:
        return _str_list(value)

    @field_validator("due_on", mode="before")
    @classmethod
    def _due(cls, value: Any) -> Any:
        return _parse_date(value)


class PhaseEntry(_PlanModel):
    code: str = Field(alias="编号", min_length=1)
    name: str = Field(alias="名称", min_length=1)
    kind: PhaseKind = Field(PhaseKind.other, alias="类型")
    order: int | None = Field(None, alias="顺序", ge=1)
    starts_on: dt.date | None = Field(None, alias="开始")
    gate_on: dt.date | None = Field(None, alias="关口")  # None: 以上级通知为准
    note: str = Field("", alias="说明")

    @field_validator("code", mode="before")
    @classmethod
    def _code_text(cls, value: Any) -> Any:
        return str(value) if isinstance(value, int) and not isinstance(value, bool) else value

    @field_validator("kind", mode="before")
    @classmethod
    def _kind(cls, value: Any) -> Any:
        if isinstance(value, str):
            text = value.strip()
            if text in PHASE_KIND_LABELS:
                return PHASE_KIND_LABELS[text]
            if text in {k.value for k in PhaseKind}:
                return PhaseKind(text)
        raise ValueError("类型应为 " + "、".join(PHASE_KIND_LABELS) + f" 之一，现为「{value}」")

    @field_validator("starts_on", "gate_on", mode="before")
    @classmethod
    def _dates(cls, value: Any) -> Any:
        return _parse_optional_date(value)


class PreparatoryTask(_PlanModel):
    """A dated preparatory step (学习培训, 自查, 制定方案 …): a task like any other."""

    code: str = Field(alias="编号", min_length=1)  # stable key: the task's origin key
    title: str = Field(alias="事项", min_length=1)
    measures: str = Field("", alias="措施")
    lead: str = Field(alias="牵头", min_length=1)
    cooperating: list[str] = Field(default_factory=list, alias="配合")
    due_on: dt.date = Field(alias="完成时限")
    phase: str | None = Field(None, alias="阶段")  # a phase code or name; resolved to the code

    @field_validator("code", mode="before")
    @classmethod
    def _code_text(cls, value: Any) -> Any:
        return str(value) if isinstance(value, int) and not isinstance(value, bool) else value

    @field_validator("cooperating", mode="before")
    @classmethod
    def _coop(cls, value: Any) -> Any:
        return _str_list(value)

    @field_validator("due_on", mode="before")
    @classmethod
    def _due(cls, value: Any) -> Any:
        return _parse_date(value)


# The ladder's rungs by their Chinese names → tracker.notices.models.Rung values (kept here as
# strings: the plan is read before, and without, the notice tables).
URGENT_RUNG_NAMES = {"任务交办单": "assigned", "交办单": "assigned", "签收提醒": "ack_resend", "临期提醒": "due_soon",
                     "到期提醒": "due_today", "催办通知": "chase", "督办单": "escalation", "退回通知": "returned"}


class ReminderLadder(_PlanModel):
    """The reminder ladder (issue 4). Durations are working days; times are Asia/Shanghai."""

    ack_resend_after_working_days: int = Field(1, alias="签收重发工作日", ge=1)
    due_soon_working_days: list[int] = Field(default_factory=lambda: [3, 1], alias="临期提醒工作日")
    remind_on_due_date: bool = Field(True, alias="到期提醒")
    chase_every_working_days: int = Field(2, alias="催办间隔工作日", ge=1)
    escalate_after_working_days: int = Field(3, alias="督办逾期工作日", ge=1)
    yellow_within_working_days: int = Field(3, alias="黄灯临期工作日", ge=0)
    # A task created after its plan date has passed (a preparatory step dated before the
    # self-check, a finding entered after its 整改时限) would be born overdue: it is due this many
    # working days after its creation instead, and keeps the plan date as its 原定时限.
    redate_working_days: int = Field(REDATE_WORKING_DAYS, alias="逾期顺延工作日")
    send_window_start: dt.time = Field(dt.time(8, 30), alias="发送开始")
    send_window_end: dt.time = Field(dt.time(18, 0), alias="发送结束")
    # rungs marked urgent: sent as soon as they are owed, outside working hours too (stored as
    # tracker.notices.models.Rung values; the plan names them in Chinese)
    urgent: list[str] = Field(default_factory=list, alias="紧急发送")

    @field_validator("urgent", mode="before")
    @classmethod
    def _urgent_rungs(cls, value: Any) -> Any:
        if value is None:
            return []
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list):
            raise ValueError("应写成提醒名称的列表，例如 [督办单]")
        out: list[str] = []
        for item in value:
            name = str(item).strip()
            rung = URGENT_RUNG_NAMES.get(name, name if name in URGENT_RUNG_NAMES.values() else None)
            if rung is None:
                raise ValueError(f"未知的提醒「{name}」，可选：{'、'.join(URGENT_RUNG_NAMES)}")
            if rung not in out:
                out.append(rung)
        return out

    @field_validator("redate_working_days", mode="before")
    @classmethod
    def _redate_days(cls, value: Any) -> Any:
        if isinstance(value, bool) or not isinstance(value, (int, str)):
            raise ValueError(f"逾期顺延工作日应为 1 到 {REDATE_WORKING_DAYS_MAX} 之间的整数，现为「{value}」")
        text = str(value).strip()
        if not re.fullmatch(r"[+-]?\d+", text) or not 1 <= int(text) <= REDATE_WORKING_DAYS_MAX:
            raise ValueError(f"逾期顺延工作日应为 1 到 {REDATE_WORKING_DAYS_MAX} 之间的整数，现为「{text}」")
        return int(text)

    @field_validator("remind_on_due_date", mode="before")
    @classmethod
    def _bool(cls, value: Any) -> Any:
        return _parse_bool(value)

    @field_validator("send_window_start", "send_window_end", mode="before")
    @classmethod
    def _times(cls, value: Any) -> Any:
        return _parse_time(value)

    @field_serializer("send_window_start", "send_window_end")
    def _hhmm(self, value: dt.time) -> str:
        return value.strftime("%H:%M")

    @field_validator("due_soon_working_days", mode="before")
    @classmethod
    def _days(cls, value: Any) -> Any:
        if isinstance(value, int) and not isinstance(value, bool):
            value = [value]
        return value

    @field_validator("due_soon_working_days")
    @classmethod
    def _positive_days(cls, value: list[int]) -> list[int]:
        if any(v < 1 for v in value):
            raise ValueError("临期提醒的工作日数须不小于 1")
        return sorted(set(value), reverse=True)


class PlanPerson(BaseModel):
    """A person of the plan, merged from every place the plan names them (resolved, not input)."""

    name: str
    title: str = ""
    email: str = ""
    phone: str = ""
    department: str | None = None  # the full name of their unit
    group_role: Literal["组长", "副组长", "成员"] | None = None
    is_office: bool = False  # office people receive the office's notices and may 销号 / 退回
    is_contact: bool = False  # receives their unit's notices
    is_head: bool = False


class PlanDepartment(BaseModel):
    """A unit as resolved: the office is one too (kind ``office``)."""

    name: str
    short_name: str = ""
    kind: UnitKind
    aliases: list[str] = []
    head_name: str = ""
    head_email: str = ""
    contacts: list[str] = []  # person names
    supervisor: str | None = None  # 分管领导, a leading-group member's name

    def spellings(self) -> list[str]:
        return [s for s in (self.name, self.short_name, *self.aliases) if s]


class CampaignPlan(BaseModel):
    """The validated, resolved plan. Stored as ``Campaign.plan`` (``model_dump(mode="json")``)."""

    model_config = ConfigDict(extra="forbid")

    code: str
    name: str
    county: str
    standard: str
    leading_group: LeadingGroup
    office: Office
    departments: list[PlanDepartment]  # the office first, then the units in plan order
    people: list[PlanPerson]
    assignments: dict[str, AssignmentEntry]  # indicator code → lead + cooperating (full names)
    school_fixable: list[str]  # indicator codes a school fixes itself (its own task)
    phases: list[PhaseEntry]  # sorted by order
    preparatory_tasks: list[PreparatoryTask]  # lead/cooperating full names, phase = a phase code
    reminders: ReminderLadder
    # school (学校名称 or 学校标识码) → the person who receives the notices of the school's own tasks
    # (一校一案) and may act on them; schools come from the data sheet, so they are matched then
    school_contacts: dict[str, str] = {}
    _warnings: list[str] = PrivateAttr(default_factory=list)

    @property
    def warnings(self) -> list[str]:
        """What the loader filled in or dropped and wants a person to confirm (Chinese)."""
        return self._warnings

    def department(self, name: str) -> PlanDepartment:
        for dept in self.departments:
            if name in dept.spellings():
                return dept
        raise KeyError(name)

    @property
    def townships(self) -> list[PlanDepartment]:
        return [d for d in self.departments if d.kind is UnitKind.township]

    def phase(self, code: str) -> PhaseEntry:
        for phase in self.phases:
            if phase.code == code:
                return phase
        raise KeyError(code)

    def school_contact(self, key: str, name: str) -> PlanPerson | None:
        """The person of 学校联系人 for a school, by its 学校标识码 or its name."""
        person_name = self.school_contacts.get(key) or self.school_contacts.get(name)
        return next((p for p in self.people if p.name == person_name), None) if person_name else None

    @classmethod
    def from_stored(cls, data: dict) -> "CampaignPlan":
        """The plan as ``Campaign.plan`` holds it."""
        return cls.model_validate(data)


DEFAULT_PHASES: tuple[tuple[str, str, PhaseKind], ...] = (
    ("self_check", "自查自评", PhaseKind.self_check),
    ("rectification", "整改", PhaseKind.rectification),
    ("review_city", "市级复评", PhaseKind.review_city),
    ("review_province", "省级评估", PhaseKind.review_province),
    ("review_national", "国家审核认定", PhaseKind.review_national),
)

# top-level keys (Chinese, and the English field names)
_TOP_KEYS: dict[str, str] = {
    "编号": "code", "名称": "name", "县": "county", "标准": "standard", "领导小组": "leading_group",
    "办公室": "office", "责任单位": "departments", "分工": "assignments", "学校自行整改": "school_fixable",
    "阶段": "phases", "准备工作": "preparatory_tasks", "提醒": "reminders", "学校联系人": "school_contacts",
}


# ---------------------------------------------------------------------------- YAML with line numbers


@cache
def _plan_loader() -> type:
    """The loader class, made on first use: PyYAML is imported only by what reads a plan (every
    CLI command reaches this module through the campaign service)."""
    import yaml

    class _PlanLoader(yaml.SafeLoader):
        """SafeLoader without YAML 1.1's base-60 numbers, so 18:00 stays the text "18:00"."""

    _INT, _FLOAT = "tag:yaml.org,2002:int", "tag:yaml.org,2002:float"
    _PlanLoader.yaml_implicit_resolvers = {
        first: [(tag, rx) for tag, rx in resolvers if tag not in (_INT, _FLOAT)]
        for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }
    _PlanLoader.add_implicit_resolver(
        _INT, re.compile(r"^(?:[-+]?0b[0-1_]+|[-+]?0x[0-9a-fA-F_]+|[-+]?(?:0|[1-9][0-9_]*))$"), list("-+0123456789"))
    _PlanLoader.add_implicit_resolver(
        _FLOAT, re.compile(r"^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)"
                           r"|\.(?:nan|NaN|NAN))$"), list("-+0123456789."))
    return _PlanLoader

Path_ = tuple[str | int, ...]  # a key path: mapping keys are str, list positions int (0-based)


def _key_text(node: Node) -> str:
    from yaml.nodes import ScalarNode

    return str(node.value) if isinstance(node, ScalarNode) else "?"


def _index_lines(root: Node, problems: list[tuple[int, str, str]]) -> dict[Path_, int]:
    """Line number (1-based) of every key path; duplicate keys are problems (PyYAML keeps the last)."""
    from yaml.nodes import MappingNode, SequenceNode

    lines: dict[Path_, int] = {(): root.start_mark.line + 1}

    def walk(node: Node, path: Path_) -> None:
        if isinstance(node, MappingNode):
            seen: dict[str, int] = {}
            for key_node, value_node in node.value:
                key = _key_text(key_node)
                line = key_node.start_mark.line + 1
                if key in seen:
                    problems.append((line, _path_text(path + (key,)), f"键「{key}」重复（第一次在第 {seen[key]} 行）"))
                    continue
                seen[key] = line
                lines[path + (key,)] = line
                walk(value_node, path + (key,))
        elif isinstance(node, SequenceNode):
            for i, item in enumerate(node.value):
                lines[path + (i,)] = item.start_mark.line + 1
                walk(item, path + (i,))

    walk(root, ())
    return lines


def _str_keys(value: Any) -> Any:
    """Mapping keys as text (分工 keys like 1 are indicator codes "1")."""
    if isinstance(value, dict):
        return {str(k): _str_keys(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_str_keys(v) for v in value]
    return value


def _path_text(path: Sequence[str | int]) -> str:
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part + 1}]"
        else:
            out += f".{part}" if out else str(part)
    return out or "（文件）"


# ---------------------------------------------------------------------------- the checker


_PYDANTIC_MESSAGES = {
    "missing": "缺少必填项",
    "extra_forbidden": "不认识的键（拼写错误？）",
    "string_type": "应为文字",
    "string_too_short": "不能为空",
    "int_type": "应为整数",
    "int_parsing": "应为整数",
    "int_from_float": "应为整数",
    "bool_type": "应填 是 或 否",
    "bool_parsing": "应填 是 或 否",
    "list_type": "应为列表（每项一行，以“- ”开头）",
    "too_short": "至少要有一项",
    "dict_type": "应为“键: 值”的映射",
    "model_type": "应为“键: 值”的映射",
    "model_attributes_type": "应为“键: 值”的映射",
    "date_type": "应为日期，写作 2026-12-01",
    "date_parsing": "应为日期，写作 2026-12-01",
    "date_from_datetime_parsing": "应为日期，写作 2026-12-01",
    "date_from_datetime_inexact": "应为日期（不含时刻），写作 2026-12-01",
    "time_type": "应为时刻，写作 \"08:30\"",
    "time_parsing": "应为时刻，写作 \"08:30\"",
}


class _Checker:
    """Collects problems (line, key path, message) and warnings while resolving a plan."""

    def __init__(self, lines: dict[Path_, int]):
        self.lines = lines
        self.problems: list[tuple[int, str, str]] = []
        self.warnings: list[str] = []

    def line_of(self, path: Path_) -> int:
        path = tuple(path)
        while path and path not in self.lines:
            path = path[:-1]
        return self.lines.get(path, 1)

    def problem(self, path: Path_, message: str) -> None:
        self.problems.append((self.line_of(path), _path_text(path), message))

    def warn(self, path: Path_, message: str) -> None:
        self.warnings.append(f"第 {self.line_of(path)} 行 {_path_text(path)}：{message}")

    def validate(self, model: type[BaseModel], raw: Any, path: Path_) -> Any | None:
        """The model, or None after recording every error of ``raw`` under ``path``."""
        try:
            return model.model_validate(raw)
        except ValidationError as exc:
            for err in exc.errors():
                loc = tuple(p for p in err["loc"] if p != "[key]")
                self.problem(path + loc, _pydantic_message(err))
            return None

    def formatted(self) -> list[str]:
        return [f"第 {line} 行 {key}：{message}" for line, key, message in sorted(self.problems, key=lambda p: p[0])]


def _pydantic_message(err: dict) -> str:
    kind = err["type"]
    if kind == "value_error":
        return str(err["ctx"]["error"])
    if kind in ("greater_than_equal", "greater_than"):
        return f"应不小于 {err['ctx'].get('ge', err['ctx'].get('gt'))}"
    if kind == "missing" and err["loc"]:
        return f"缺少必填项「{err['loc'][-1]}」"
    if kind == "extra_forbidden" and err["loc"]:
        return f"不认识的键「{err['loc'][-1]}」（拼写错误？）"
    return _PYDANTIC_MESSAGES.get(kind, f"取值无效（{err['msg']}）")


def _suggest(name: str, known: Iterable[str]) -> str:
    close = difflib.get_close_matches(name, list(known), n=1, cutoff=0.5)
    return f"，是否指「{close[0]}」？" if close else ""


def _raw_list(checker: _Checker, data: dict, key: str, english: str) -> tuple[list[Any], str]:
    """The list under a top-level key (Chinese or English), and the key as written."""
    used = key if key in data else english if english in data else key
    value = data.get(used)
    if value is None:
        return [], used
    if not isinstance(value, list):
        checker.problem((used,), _PYDANTIC_MESSAGES["list_type"])
        return [], used
    return value, used


def load_plan(path: str | Path) -> CampaignPlan:
    """Read and validate a plan file. Raises ``PlanError`` listing every problem it finds."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise PlanError(["找不到方案文件"], path) from None
    except UnicodeDecodeError:
        raise PlanError(["方案文件不是 UTF-8 编码的文本"], path) from None
    except OSError as exc:
        raise PlanError([f"无法读取方案文件（{exc.strerror}）"], path) from None
    return parse_plan(text, source=path)


def parse_plan(text: str, source: str | Path | None = None) -> CampaignPlan:
    """Validate plan text (``load_plan`` without the file)."""
    import yaml

    loader = _plan_loader()(text)
    try:
        root = loader.get_single_node()
        data = loader.construct_document(root) if root is not None else None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"第 {mark.line + 1} 行第 {mark.column + 1} 列：" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        context = getattr(exc, "context_mark", None)
        if context is not None and (mark is None or context.line != mark.line):
            problem += f"；出错的结构始于第 {context.line + 1} 行"
        raise PlanError([f"{where}YAML 格式错误（{problem}）"], source) from None
    finally:
        loader.dispose()
    if not isinstance(data, dict):
        raise PlanError(["第 1 行：方案应为“键: 值”的映射，以 编号、名称、县、标准 等开头"], source)
    duplicate_keys: list[tuple[int, str, str]] = []
    checker = _Checker(_index_lines(root, duplicate_keys))
    checker.problems.extend(duplicate_keys)
    plan = _resolve(checker, _str_keys(data))
    if checker.problems or plan is None:
        raise PlanError(checker.formatted(), source)
    plan._warnings = checker.warnings
    return plan


# ---------------------------------------------------------------------------- resolution


class _Header(_PlanModel):
    code: str = Field(alias="编号", min_length=1)
    name: str = Field(alias="名称", min_length=1)
    county: str = Field(alias="县", min_length=1)
    standard: str = Field(alias="标准", min_length=1)

    @field_validator("code")
    @classmethod
    def _code(cls, value: str) -> str:
        if not _CODE.match(value):
            raise ValueError(f"编号「{value}」只能由字母、数字和 - _ . 组成（命令行 --campaign 用它）")
        return value


def _text(value: Any) -> str:
    return str(value).strip() if isinstance(value, (str, int)) and not isinstance(value, bool) else ""


def _get(data: dict, chinese: str) -> tuple[Any, str]:
    english = _TOP_KEYS[chinese]
    used = chinese if chinese in data else english if english in data else chinese
    return data.get(used), used


def _resolve(checker: _Checker, data: dict) -> CampaignPlan | None:
    allowed = set(_TOP_KEYS) | set(_TOP_KEYS.values())
    for key in data:
        if key not in allowed:
            checker.problem((key,), f"不认识的键「{key}」{_suggest(key, _TOP_KEYS)}")

    header = checker.validate(_Header, {k: data[k] for k in ("编号", "名称", "县", "标准",
                                                             "code", "name", "county", "standard") if k in data}, ())
    standard = None
    if header is not None:
        from tracker.standards import StandardError, load_standard

        try:
            standard = load_standard(header.standard)
        except StandardError as exc:
            detail = "；".join(message for _, message in exc.problems)
            _, key = _get(data, "标准")
            checker.problem((key,), f"未知的评估标准「{header.standard}」：{detail}")

    # -- leading group
    group_raw, group_key = _get(data, "领导小组")
    group = None
    if group_raw is None:
        checker.problem((group_key,), "缺少「领导小组」（组长、副组长、成员）")
    elif not isinstance(group_raw, dict):
        checker.problem((group_key,), _PYDANTIC_MESSAGES["dict_type"])
    else:
        group = checker.validate(LeadingGroup, group_raw, (group_key,))
    group_names: set[str] = set()
    if isinstance(group_raw, dict):  # names even from invalid entries: no follow-on errors
        for key in ("组长", "leader"):
            if isinstance(group_raw.get(key), dict) and isinstance(group_raw[key].get("姓名"), str):
                group_names.add(group_raw[key]["姓名"].strip())
        for key in ("副组长", "成员", "deputies", "members"):
            items = group_raw.get(key)
            for item in items if isinstance(items, list) else []:
                if isinstance(item, dict) and isinstance(item.get("姓名", item.get("name")), str):
                    group_names.add(item.get("姓名", item.get("name")).strip())

    # -- departments
    dept_raw, dept_key = _raw_list(checker, data, "责任单位", "departments")
    if not dept_raw and not isinstance(data.get(dept_key), (str, int, float, dict)):
        checker.problem((dept_key,), "「责任单位」至少要有一个单位")
    departments: list[tuple[int, DepartmentEntry]] = []
    for i, raw in enumerate(dept_raw):
        entry = checker.validate(DepartmentEntry, raw, (dept_key, i))
        if entry is not None:
            departments.append((i, entry))

    # -- office
    office_raw, office_key = _get(data, "办公室")
    office = None
    if office_raw is None:
        checker.problem((office_key,), "缺少「办公室」（设在哪个单位、主任、工作人员）")
    else:
        office = checker.validate(Office, office_raw, (office_key,))

    # Unit spellings (name, short name, aliases) → full name; each spelling names one unit.
    # Read from the raw entries, so a unit whose entry has other errors still counts: no
    # follow-on "unknown unit" errors, and duplicates are found anyway.
    owner: dict[str, tuple[str, Path_]] = {}
    if isinstance(office_raw, dict):
        office_name = _text(office_raw.get("名称", office_raw.get("name"))) or "领导小组办公室"
        office_short = _text(office_raw.get("简称", office_raw.get("short_name"))) or (
            "办公室" if not any(k in office_raw for k in ("简称", "short_name")) else "")
        for key, spelling in (("名称", office_name), ("简称", office_short)):
            if spelling:
                owner.setdefault(spelling, (office_name, (office_key, key)))
    for i, raw in enumerate(dept_raw):
        if not isinstance(raw, dict):
            continue
        name = _text(raw.get("名称", raw.get("name")))
        if not name:
            continue
        aliases = _str_list(raw.get("别名", raw.get("aliases")))
        spellings = [("名称", name), ("简称", _text(raw.get("简称", raw.get("short_name"))))]
        spellings += [("别名", _text(a)) for a in (aliases if isinstance(aliases, list) else [])]
        for key, spelling in spellings:
            if not spelling:
                continue
            if spelling == TOWNSHIPS_PLACEHOLDER:
                checker.problem((dept_key, i, key), f"「{TOWNSHIPS_PLACEHOLDER}」是保留词（指学校所在乡镇），不能作单位名称")
            elif spelling in owner and (owner[spelling][0] != name or key == "名称"):
                checker.problem((dept_key, i, key), f"单位名称「{spelling}」重复"
                                                    f"（第 {checker.line_of(owner[spelling][1])} 行已用）")
            else:
                owner[spelling] = (name, (dept_key, i, key))
    lookup = {spelling: full for spelling, (full, _) in owner.items()}
    unit_list: list[PlanDepartment] = []
    if office is not None:
        unit_list.append(PlanDepartment(name=office.name, short_name=office.short_name, kind=UnitKind.office))
    townships = [entry.name for _, entry in departments if entry.kind is UnitKind.township]

    def unit(name: str, path: Path_, *, allow_townships: bool) -> str | None:
        name = name.strip()
        if name == TOWNSHIPS_PLACEHOLDER:
            if not allow_townships:
                checker.problem(path, f"「{TOWNSHIPS_PLACEHOLDER}」只能作配合单位；牵头单位须是一个具体单位")
                return None
            if not townships and departments:
                checker.problem(path, f"用了「{TOWNSHIPS_PLACEHOLDER}」，但责任单位中没有类别为 乡镇 的单位")
                return None
            return TOWNSHIPS_PLACEHOLDER
        if name in lookup:
            return lookup[name]
        checker.problem(path, f"未知的单位「{name}」{_suggest(name, lookup)}"
                              "（须是「责任单位」或办公室中的名称、简称或别名）")
        return None

    def units(names: list[str], path: Path_) -> list[str]:
        out: list[str] = []
        for j, name in enumerate(names):
            resolved = unit(name, path + (j,), allow_townships=True)
            if resolved and resolved not in out:
                out.append(resolved)
        return out

    # -- people: merge every appearance by name
    people: dict[str, PlanPerson] = {}
    seen_at: dict[str, Path_] = {}
    strong_dept: dict[str, str] = {}

    def person(entry: PersonEntry, path: Path_, *, department: str | None, strong: bool, reference_ok: bool,
               needs_email: bool, **flags: Any) -> None:
        is_reference = reference_ok and not (entry.email or entry.title or entry.phone)
        current = people.get(entry.name)
        if current is None:
            current = people[entry.name] = PlanPerson(name=entry.name)
            seen_at[entry.name] = path
        if entry.email:
            if current.email and current.email != entry.email:
                checker.problem(path + ("邮箱",), f"「{entry.name}」的邮箱与第 {checker.line_of(seen_at[entry.name])} "
                                                  f"行不一致（{current.email} / {entry.email}）")
            current.email = current.email or entry.email
        current.title = current.title or entry.title
        current.phone = current.phone or entry.phone
        if department is not None:
            if strong:
                other = strong_dept.get(entry.name)
                if other is not None and other != department:
                    checker.problem(path, f"「{entry.name}」同时属于「{other}」和「{department}」；"
                                          "同名的不同人员请加以区分，如「张伟（财政局）」")
                strong_dept[entry.name] = department
                current.department = department
            elif current.department is None and not is_reference:
                current.department = department
        for flag, value in flags.items():
            if value:
                setattr(current, flag, value)
        if needs_email:
            pending_email.append((entry.name, path))

    pending_email: list[tuple[str, Path_]] = []
    pending_reference: list[tuple[str, Path_]] = []

    # members one by one, so that one bad entry does not hide the others' unit references
    members: list[tuple[str, Path_, GroupMember]] = []
    if isinstance(group_raw, dict):
        slots: list[tuple[str, Path_, Any]] = [("组长", (group_key, "组长"), group_raw.get("组长", group_raw.get("leader")))]
        for role, key, english in (("副组长", "副组长", "deputies"), ("成员", "成员", "members")):
            used = key if key in group_raw else english
            items = group_raw.get(used)
            slots += [(role, (group_key, used, j), item) for j, item in enumerate(items if isinstance(items, list) else [])]
        for role, member_path, item in slots:
            try:
                members.append((role, member_path, GroupMember.model_validate(item)))
            except ValidationError:
                pass  # reported by the validation of the whole group above
    seen_in_group: dict[str, str] = {}
    for role, member_path, member in members:
        if member.name in seen_in_group:
            checker.problem(member_path + ("姓名",), f"领导小组中「{member.name}」重复（已是{seen_in_group[member.name]}）")
            continue
        seen_in_group[member.name] = role
        dept_name = None
        if member.department:
            dept_name = unit(member.department, member_path + ("单位",), allow_townships=False)
        person(member, member_path, department=dept_name, strong=dept_name is not None, reference_ok=False,
               needs_email=False, group_role=role)

    for i, raw in enumerate(dept_raw):  # from the raw entries: checked even where the entry has other errors
        supervisor = raw.get("分管领导", raw.get("supervisor")) if isinstance(raw, dict) else None
        if isinstance(supervisor, str) and supervisor.strip() and supervisor.strip() not in group_names:
            checker.problem((dept_key, i, "分管领导"), f"分管领导「{supervisor.strip()}」不是领导小组成员"
                                                      f"{_suggest(supervisor.strip(), group_names)}")

    plan_departments: list[PlanDepartment] = []
    for i, entry in departments:
        contacts: list[str] = []
        if entry.head is not None:
            person(entry.head, (dept_key, i, "负责人"), department=entry.name, strong=True, reference_ok=True,
                   needs_email=False, is_head=True)
        for j, contact in enumerate(entry.contacts):
            if contact.name in contacts:
                checker.problem((dept_key, i, "联系人", j, "姓名"), f"联系人「{contact.name}」重复")
                continue
            contacts.append(contact.name)
            person(contact, (dept_key, i, "联系人", j), department=entry.name, strong=True, reference_ok=True,
                   needs_email=True, is_contact=True)
        supervisor = entry.supervisor if entry.supervisor in group_names else None
        if not entry.supervisor:
            checker.warn((dept_key, i), f"单位「{entry.name}」未写分管领导：逾期督办单只发办公室")
        plan_departments.append(PlanDepartment(
            name=entry.name, short_name=entry.short_name, kind=entry.kind, aliases=entry.aliases,
            head_name=entry.head.name if entry.head else "", contacts=contacts, supervisor=supervisor))

    if office is not None:
        located = unit(office.located_in, (office_key, "设在"), allow_townships=False)
        if located is not None and located == office.name:
            checker.problem((office_key, "设在"), "办公室须设在一个责任单位中（如 督导室）")
        office_people = ([("主任", office.director)] if office.director else []) + [
            (j, p) for j, p in enumerate(office.staff)]
        if not office_people:
            checker.problem((office_key,), "办公室至少要有主任或一名工作人员（他们销号、退回、接收督办单）")
        for where, entry in office_people:
            path = (office_key, "主任") if where == "主任" else (office_key, "工作人员", where)
            is_reference = not (entry.email or entry.title or entry.phone)
            if is_reference:
                pending_reference.append((entry.name, path))
            person(entry, path, department=office.name, strong=False, reference_ok=True, needs_email=True,
                   is_office=True, is_contact=False)
            if not is_reference and entry.name not in strong_dept:
                people[entry.name].is_contact = True
        unit_list[0].contacts = [p.name for _, p in office_people]
        if office.director:
            unit_list[0].head_name = office.director.name

    # -- school contacts (一校一案): the schools themselves come later, with the data sheet
    contacts_raw, contacts_key = _get(data, "学校联系人")
    school_contacts: dict[str, str] = {}
    if contacts_raw is not None and not isinstance(contacts_raw, dict):
        checker.problem((contacts_key,), "「学校联系人」应为 学校名称或学校标识码: {姓名: …, 职务: …, 邮箱: …} 的映射")
        contacts_raw = {}
    for school, raw in (contacts_raw or {}).items():
        school = _text(school)
        entry = checker.validate(PersonEntry, raw, (contacts_key, school))
        if not school or entry is None:
            continue
        if entry.name in strong_dept:
            checker.problem((contacts_key, school, "姓名"), f"「{entry.name}」已是「{strong_dept[entry.name]}」的人员；"
                                                          "学校联系人请写学校的人")
            continue
        person(entry, (contacts_key, school), department=None, strong=False, reference_ok=False,
               needs_email=True, is_contact=True)
        school_contacts[school] = entry.name

    for name, path in pending_reference:
        if people[name].department is None and people[name].group_role is None and not people[name].email:
            checker.problem(path + ("姓名",), f"「{name}」未在方案其他处定义：请填写其职务和邮箱")
    reported: set[str] = set()
    for name, path in pending_email:
        if not people[name].email and name not in reported:
            reported.add(name)
            checker.problem(path + ("邮箱",), f"「{name}」缺少邮箱（交办、催办通知发到这里）")

    for dept in plan_departments:
        if dept.head_name:
            dept.head_email = people[dept.head_name].email
            if not dept.head_email:
                i = next(i for i, e in departments if e.name == dept.name)
                checker.warn((dept_key, i, "负责人"),
                             f"单位「{dept.name}」负责人「{dept.head_name}」没有邮箱：催办通知只发联系人")
        if dept.supervisor and not people.get(dept.supervisor, PlanPerson(name="")).email:
            i = next(i for i, e in departments if e.name == dept.name)
            checker.warn((dept_key, i, "分管领导"), f"分管领导「{dept.supervisor}」没有邮箱：收不到督办单")
    if unit_list and unit_list[0].head_name:
        unit_list[0].head_email = people[unit_list[0].head_name].email
    unit_list.extend(plan_departments)

    # -- phases
    phase_raw, phase_key = _raw_list(checker, data, "阶段", "phases")
    phases: list[tuple[int, PhaseEntry]] = []
    if phase_key not in data:
        phases = [(-1, PhaseEntry(code=c, name=n, kind=k, order=o, note="以上级通知为准"))
                  for o, (c, n, k) in enumerate(DEFAULT_PHASES, start=1)]
        checker.warn((), "未写「阶段」：使用默认的五个阶段（自查自评、整改、市级复评、省级评估、国家审核认定），日期待定")
    elif not phase_raw:
        checker.problem((phase_key,), "「阶段」至少要有一项")
    phase_spellings: set[str] = set()
    for i, raw in enumerate(phase_raw):
        if isinstance(raw, dict):
            phase_spellings.update(str(raw[k]).strip() for k in ("编号", "名称", "code", "name") if raw.get(k) is not None)
        entry = checker.validate(PhaseEntry, raw, (phase_key, i))
        if entry is None:
            continue
        if entry.order is None:
            entry.order = i + 1
        raw_gate = raw.get("关口", raw.get("gate_on")) if isinstance(raw, dict) else None
        if entry.gate_on is None and not entry.note:
            entry.note = raw_gate.strip() if isinstance(raw_gate, str) and raw_gate.strip() else "以上级通知为准"
        if entry.starts_on and entry.gate_on and entry.gate_on < entry.starts_on:
            checker.problem((phase_key, i, "关口"), f"关口日期 {entry.gate_on.isoformat()} 早于开始日期 "
                                                   f"{entry.starts_on.isoformat()}（时间窗口颠倒）")
        phases.append((i, entry))
    seen_codes: dict[str, int] = {}
    seen_names: dict[str, int] = {}
    seen_orders: dict[int, int] = {}
    for i, entry in phases:
        for value, seen, key, what in ((entry.code, seen_codes, "编号", "阶段编号"),
                                       (entry.name, seen_names, "名称", "阶段名称")):
            if value in seen:
                first = checker.line_of((phase_key, seen[value]))
                checker.problem((phase_key, i, key), f"{what}「{value}」重复（第 {first} 行已用）")
            seen[value] = i
        if entry.order in seen_orders:
            first = checker.line_of((phase_key, seen_orders[entry.order]))
            checker.problem((phase_key, i, "顺序"), f"顺序 {entry.order} 重复（第 {first} 行已用）")
        seen_orders[entry.order] = i
    phase_by_spelling = {e.code: e.code for _, e in phases} | {e.name: e.code for _, e in phases}

    # -- assignment table
    assignments: dict[str, AssignmentEntry] = {}
    assign_raw, assign_key = _get(data, "分工")
    codes: dict[str, str] = {}  # code → title, of everything the standard lets a plan assign
    if standard is not None:
        codes = {i.code: i.title for i in standard.indicators}
        codes |= {c.code: c.title for c in (*standard.application_conditions, *standard.vetoes)}
    if assign_raw is not None and not isinstance(assign_raw, dict):
        checker.problem((assign_key,), "「分工」应为 指标编号: {牵头: …, 配合: […]} 的映射")
        assign_raw = {}
    for code, raw in (assign_raw or {}).items():
        path: Path_ = (assign_key, code)
        if standard is not None and code not in codes:
            checker.problem(path, f"未知的指标「{code}」：标准 {standard.id} 中没有这个编号{_suggest(code, codes)}")
        if isinstance(raw, str):  # "4: 计财股" — a lead only
            raw = {"牵头": raw}
        entry = checker.validate(AssignmentEntry, raw, path)
        if entry is None:
            continue
        lead = unit(entry.lead, path + ("牵头",), allow_townships=False)
        coop = [c for c in units(entry.cooperating, path + ("配合",)) if c != lead]
        if lead is not None:
            assignments[code] = entry.model_copy(update={"lead": lead, "cooperating": coop})
    if standard is not None and departments:
        for indicator in standard.indicators:
            if indicator.code in assignments or indicator.code in (assign_raw or {}):
                continue
            candidates = [*indicator.bureau_units, *indicator.departments]
            found: list[str] = []
            dropped: list[str] = []
            for name in candidates:
                if name == TOWNSHIPS_PLACEHOLDER:
                    if townships and name not in found:
                        found.append(name)
                elif name in lookup:
                    if lookup[name] not in found:
                        found.append(lookup[name])
                elif name not in dropped:
                    dropped.append(name)
            leads = [n for n in found if n != TOWNSHIPS_PLACEHOLDER]
            where = (assign_key,)
            if not leads:
                checker.problem(where, f"指标 {indicator.code}（{indicator.title}）未在分工表中，且标准所列单位"
                                       f"（{'、'.join(candidates) or '无'}）都不在方案中：请写明牵头单位")
                continue
            assignments[indicator.code] = AssignmentEntry(
                lead=leads[0], cooperating=[n for n in found if n != leads[0]], from_standard=True)
            if len(found) > 1:
                checker.warn(where, f"指标 {indicator.code} 未在分工表中：按标准默认由「{leads[0]}」牵头、"
                                    f"「{'、'.join(found[1:])}」配合，请在分工中写明谁牵头")
            if dropped:
                checker.warn(where, f"指标 {indicator.code}：标准所列单位「{'、'.join(dropped)}」不在方案中，已略去")
        assignments = {c: assignments[c] for c in sorted(assignments, key=standard.indicator_sort_key)}

    # -- what a school fixes itself
    fix_raw, fix_key = _get(data, "学校自行整改")
    school_fixable: list[str] = []
    if fix_raw is None:
        school_fixable = [i.code for i in standard.indicators if i.school_can_fix] if standard else []
    else:
        values = _str_list(fix_raw)
        if not isinstance(values, list):
            checker.problem((fix_key,), _PYDANTIC_MESSAGES["list_type"])
            values = []
        for j, code in enumerate(values):
            code = str(code).strip()
            if standard is not None and code not in {i.code for i in standard.indicators}:
                checker.problem((fix_key, j), f"未知的指标「{code}」：标准 {standard.id} 中没有这个编号")
            elif code not in school_fixable:
                school_fixable.append(code)

    # -- preparatory tasks
    prep_raw, prep_key = _raw_list(checker, data, "准备工作", "preparatory_tasks")
    prep: list[PreparatoryTask] = []
    seen_prep: dict[str, int] = {}
    default_phase = next((e.code for _, e in sorted(phases, key=lambda p: p[1].order or 0)
                          if e.kind is PhaseKind.self_check), None) or next(
        (e.code for _, e in sorted(phases, key=lambda p: p[1].order or 0)), None)
    for i, raw in enumerate(prep_raw):
        entry = checker.validate(PreparatoryTask, raw, (prep_key, i))
        if entry is None:
            continue
        if entry.code in seen_prep:
            checker.problem((prep_key, i, "编号"), f"准备工作编号「{entry.code}」重复"
                                                  f"（第 {checker.line_of((prep_key, seen_prep[entry.code]))} 行已用）")
        seen_prep[entry.code] = i
        lead = unit(entry.lead, (prep_key, i, "牵头"), allow_townships=False)
        coop = [c for c in units(entry.cooperating, (prep_key, i, "配合")) if c != lead]
        phase_code = default_phase
        if entry.phase is not None:
            phase_code = phase_by_spelling.get(entry.phase)
            if phase_code is None and entry.phase not in phase_spellings:
                checker.problem((prep_key, i, "阶段"),
                                f"未知的阶段「{entry.phase}」{_suggest(entry.phase, phase_by_spelling)}")
        if lead is None or phase_code is None:
            continue
        gate = next((e.gate_on for _, e in phases if e.code == phase_code), None)
        if gate is not None and entry.due_on > gate:
            checker.warn((prep_key, i, "完成时限"), f"完成时限 {entry.due_on.isoformat()} 晚于阶段「{phase_code}」"
                                                   f"的关口 {gate.isoformat()}")
        prep.append(entry.model_copy(update={"lead": lead, "cooperating": coop, "phase": phase_code}))

    # -- reminders
    rem_raw, rem_key = _get(data, "提醒")
    reminders = ReminderLadder()
    if rem_raw is not None:
        validated = checker.validate(ReminderLadder, rem_raw, (rem_key,))
        if validated is not None:
            reminders = validated
            if reminders.send_window_end <= reminders.send_window_start:
                checker.problem((rem_key, "发送结束"), f"发送结束 {reminders.send_window_end:%H:%M} 应晚于"
                                                      f"发送开始 {reminders.send_window_start:%H:%M}")

    if checker.problems or header is None or group is None or office is None or standard is None:
        return None
    return CampaignPlan(
        code=header.code, name=header.name, county=header.county, standard=header.standard,
        leading_group=group, office=office, departments=unit_list, people=list(people.values()),
        assignments=assignments, school_fixable=school_fixable,
        phases=[e for _, e in sorted(phases, key=lambda p: p[1].order or 0)],
        preparatory_tasks=prep, reminders=reminders, school_contacts=school_contacts,
    )


