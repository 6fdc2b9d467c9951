"""The entries of a plan file as written: people, the leading group, the office, the responsible
units, the assignment table, phases, preparatory tasks and the reminder ladder. Each validates
its own fields (types, lengths, dates); how they refer to each other is ``resolve``'s work.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from pydantic import Field, field_serializer, field_validator

from tracker.email_address import check_email
from tracker.plans.fields import (
    CODE_MAX,
    CODE_PATTERN,
    NAME_MAX,
    PHONE_MAX,
    REDATE_WORKING_DAYS,
    REDATE_WORKING_DAYS_MAX,
    Name,
    PlanModel,
    code_field,
    code_text,
    name_field,
    parse_bool,
    parse_date,
    parse_optional_date,
    parse_time,
    str_list,
    text_field,
)
from tracker.plans.kinds import (
    ENTRY_STEP_LABELS,
    PHASE_KIND_LABELS,
    RESUBMIT_INTERVALS,
    UNIT_KIND_LABELS,
    PhaseKind,
    UnitKind,
)

EMAIL_MAX = 254  # RFC 5321's longest address
TITLE_MAX = 200  # 事项: a preparatory task's title, one sentence


class PlanHeader(PlanModel):
    """编号, 名称, 县 and 标准 at the top of the file."""

    code: str = code_field("编号")
    name: str = name_field("名称")
    county: str = name_field("县")
    standard: str = name_field("标准")

    @field_validator("code")
    @classmethod
    def _code(cls, value: str) -> str:
        if not CODE_PATTERN.match(value):
            raise ValueError(f"编号「{value}」只能由字母、数字和 - _ . 组成（命令行 --campaign 用它）")
        return value


class PersonEntry(PlanModel):
    """A person as the plan names them. An entry with only 姓名 refers to a person defined elsewhere."""

    name: str = name_field("姓名")
    title: str = name_field("职务", "", required=False)
    email: str = Field("", alias="邮箱", max_length=EMAIL_MAX)
    phone: str = Field("", alias="电话", max_length=PHONE_MAX)

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

    department: str | None = Field(None, alias="单位", max_length=NAME_MAX)


class LeadingGroup(PlanModel):
    leader: GroupMember = Field(alias="组长")
    deputies: list[GroupMember] = Field(default_factory=list, alias="副组长")
    members: list[GroupMember] = Field(default_factory=list, alias="成员")

    def all(self) -> list[tuple[str, GroupMember]]:
        return ([("组长", self.leader)] + [("副组长", m) for m in self.deputies]
                + [("成员", m) for m in self.members])


class Office(PlanModel):
    """领导小组办公室: runs the campaign day to day; its people verify (销号) and return (退回)."""

    name: str = name_field("名称", "领导小组办公室")
    short_name: str = name_field("简称", "办公室", required=False)
    located_in: str = name_field("设在")  # the unit it sits in, usually 督导室
    director: PersonEntry | None = Field(None, alias="主任")
    staff: list[PersonEntry] = Field(default_factory=list, alias="工作人员")
    # the office's 企业微信 / 钉钉 group robot, by its name in JUNHENG_WEBHOOKS (issue 12 §6)
    robot: str | None = Field(None, alias="群机器人", min_length=1, max_length=NAME_MAX)


class DepartmentEntry(PlanModel):
    """A responsible unit (责任单位): a bureau section, a county department or a township."""

    name: str = name_field("名称")
    short_name: str = name_field("简称", "", required=False)
    kind: UnitKind = Field(alias="类别")
    aliases: list[Name] = Field(default_factory=list, alias="别名")  # other spellings (人事科 for 人事股)
    head: PersonEntry | None = Field(None, alias="负责人")
    contacts: list[PersonEntry] = Field(alias="联系人", min_length=1)
    supervisor: str | None = Field(None, alias="分管领导", max_length=NAME_MAX)  # a leading-group member's name
    # the unit's 企业微信 / 钉钉 group robot, by its name in JUNHENG_WEBHOOKS: the unit's notices go
    # there too, and its people without 邮箱 are reached there (@ by their mobile number)
    robot: str | None = Field(None, alias="群机器人", min_length=1, max_length=NAME_MAX)

    @field_validator("kind", mode="before")
    @classmethod
    def _kind(cls, value: Any) -> Any:
        if isinstance(value, str):
            text = value.strip()
            if text in UNIT_KIND_LABELS:
                return UNIT_KIND_LABELS[text]
            if text in (UnitKind.bureau_section.value, UnitKind.county_department.value, UnitKind.township.value):
                return UnitKind(text)
        raise ValueError(f"类别应为 教育局股室、县直部门 或 乡镇，现为「{str(value)[:NAME_MAX]}」")

    @field_validator("aliases", mode="before")
    @classmethod
    def _aliases(cls, value: Any) -> Any:
        return str_list(value)


class AssignmentEntry(PlanModel):
    """One row of the 分工表: who leads (牵头) an indicator's work and who cooperates (配合)."""

    lead: str = name_field("牵头")
    cooperating: list[Name] = Field(default_factory=list, alias="配合")
    due_on: dt.date | None = Field(None, alias="完成时限")
    measures: str = text_field("措施")
    from_standard: bool = False  # set on resolution: taken from the standard's defaults

    @field_validator("cooperating", mode="before")
    @classmethod
    def _coop(cls, value: Any) -> Any:
        return str_list(value)

    @field_validator("due_on", mode="before")
    @classmethod
    def _due(cls, value: Any) -> Any:
        return parse_date(value)


class PhaseEntry(PlanModel):
    code: str = code_field("编号")
    name: str = name_field("名称")
    kind: PhaseKind = Field(PhaseKind.other, alias="类型")
    order: int | None = Field(None, alias="顺序", ge=1)
    starts_on: dt.date | None = Field(None, alias="开始")
    gate_on: dt.date | None = Field(None, alias="关口")  # None: 以上级通知为准
    note: str = text_field("说明")
    # entry steps of the phase's flow the plan switches off (their Chinese names, ENTRY_STEP_LABELS)
    steps_off: list[str] = Field(default_factory=list, alias="停用步骤")
    # a rectification phase: how often schools resubmit their data (每周 / 每两周 / 每月)
    resubmit: str | None = Field(None, alias="重报数据")
    # a review phase: the 资料汇编 is complete this many working days before the gate
    compile_lead_days: int = Field(10, alias="资料汇编提前工作日", ge=0, le=60)

    @field_validator("steps_off", mode="before")
    @classmethod
    def _steps_off(cls, value: Any) -> Any:
        items = [value] if isinstance(value, str) else (value or [])
        if not isinstance(items, list):
            raise ValueError("停用步骤应为步骤名称的列表")
        names = [str(item).strip() for item in items]
        unknown = [n for n in names if n not in ENTRY_STEP_LABELS]
        if unknown:
            raise ValueError(f"未知的步骤「{'、'.join(unknown)}」：可停用的步骤为 " + "、".join(ENTRY_STEP_LABELS))
        return names

    @field_validator("resubmit", mode="before")
    @classmethod
    def _resubmit(cls, value: Any) -> Any:
        if value is None or (isinstance(value, str) and not value.strip()):
            return None
        text = str(value).strip()
        if text not in RESUBMIT_INTERVALS:
            raise ValueError("重报数据应为 " + "、".join(RESUBMIT_INTERVALS) + f" 之一，现为「{text[:NAME_MAX]}」")
        return text

    @field_validator("code", mode="before")
    @classmethod
    def _code_text(cls, value: Any) -> Any:
        return code_text(value)

    @field_validator("kind", mode="before")
    @classmethod
    def _kind(cls, value: Any) -> Any:
        if isinstance(value, str):
            text = value.strip()
            if text in PHASE_KIND_LABELS:
                return PHASE_KIND_LABELS[text]
            if text in {k.value for k in PhaseKind}:
                return PhaseKind(text)
        raise ValueError("类型应为 " + "、".join(PHASE_KIND_LABELS) + f" 之一，现为「{str(value)[:NAME_MAX]}」")

    @field_validator("starts_on", "gate_on", mode="before")
    @classmethod
    def _dates(cls, value: Any) -> Any:
        return parse_optional_date(value)


class PreparatoryTask(PlanModel):
    """A dated preparatory step (学习培训, 自查, 制定方案 …): a task like any other."""

    code: str = code_field("编号")  # stable key: the task's origin key
    title: str = Field(alias="事项", min_length=1, max_length=TITLE_MAX)
    measures: str = text_field("措施")
    lead: str = name_field("牵头")
    cooperating: list[Name] = Field(default_factory=list, alias="配合")
    due_on: dt.date = Field(alias="完成时限")
    phase: str | None = Field(None, alias="阶段", max_length=max(NAME_MAX, CODE_MAX))  # a phase code or name

    @field_validator("code", mode="before")
    @classmethod
    def _code_text(cls, value: Any) -> Any:
        return code_text(value)

    @field_validator("cooperating", mode="before")
    @classmethod
    def _coop(cls, value: Any) -> Any:
        return str_list(value)

    @field_validator("due_on", mode="before")
    @classmethod
    def _due(cls, value: Any) -> Any:
        return parse_date(value)


# The ladder's rungs by their Chinese names → tracker.notices.models.Rung values (kept here as
# strings: the plan is read before, and without, the notice tables).
URGENT_RUNG_NAMES = {"任务交办单": "assigned", "交办单": "assigned", "签收提醒": "ack_resend", "临期提醒": "due_soon",
                     "到期提醒": "due_today", "催办通知": "chase", "督办单": "escalation", "退回通知": "returned"}


class ReminderLadder(PlanModel):
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
                raise ValueError(f"未知的提醒「{name[:NAME_MAX]}」，可选：{'、'.join(URGENT_RUNG_NAMES)}")
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
            raise ValueError(f"逾期顺延工作日应为 1 到 {REDATE_WORKING_DAYS_MAX} 之间的整数，现为「{text[:NAME_MAX]}」")
        return int(text)

    @field_validator("remind_on_due_date", mode="before")
    @classmethod
    def _bool(cls, value: Any) -> Any:
        return parse_bool(value)

    @field_validator("send_window_start", "send_window_end", mode="before")
    @classmethod
    def _times(cls, value: Any) -> Any:
        return parse_time(value)

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


# 考核 (issue 12 §7): how a unit's score is counted from its figures for a period, and what ranks
# the units. Points are per item (per return, per 督办单); the score is 满分 less the deductions plus
# the additions, kept within 0 … 满分. The default ranks as the weekly briefing always has (by the
# on-time rate: see tracker.appraisal), and shows the score beside it.
RANK_BY_NAMES = {"按时率": "on_time_rate", "得分": "score"}


class AppraisalRule(PlanModel):
    """考核: points per item and what ranks the units (按时率 or 得分)."""

    full_marks: float = Field(100, alias="满分", gt=0, le=1000)
    on_time_points: float = Field(0, alias="按时完成", ge=0, le=100)  # added per task done on time
    late_done_points: float = Field(1, alias="逾期完成每项扣", ge=0, le=100)  # per task done after its due date
    overdue_points: float = Field(2, alias="逾期每项扣", ge=0, le=100)  # per task overdue now
    returned_points: float = Field(1, alias="退回每次扣", ge=0, le=100)  # per 退回
    escalation_points: float = Field(2, alias="督办单每份扣", ge=0, le=100)  # per 督办单
    rank_by: str = Field("on_time_rate", alias="排名依据")

    @field_validator("rank_by", mode="before")
    @classmethod
    def _rank_by(cls, value: Any) -> Any:
        text = str(value).strip() if value is not None else ""
        if text in RANK_BY_NAMES:
            return RANK_BY_NAMES[text]
        if text in RANK_BY_NAMES.values():
            return text
        raise ValueError(f"排名依据只能是 {' 或 '.join(RANK_BY_NAMES)}，现为「{text[:NAME_MAX]}」")
