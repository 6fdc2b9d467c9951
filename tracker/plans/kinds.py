"""The kinds of phase and of responsible unit a plan names, with the Chinese words for them,
and the five phases a plan without 阶段 gets.
"""

from __future__ import annotations

from enum import Enum


class PhaseKind(str, Enum):
    self_check = "self_check"  # 自查自评
    rectification = "rectification"  # 整改
    review_city = "review_city"  # 市级复评
    review_province = "review_province"  # 省级评估
    review_national = "review_national"  # 国家审核认定
    other = "other"  # 准备、实施 … (seed 001)


class UnitKind(str, Enum):
    office = "office"  # 领导小组办公室
    bureau_section = "bureau_section"  # 教育局股室
    county_department = "county_department"  # 县直部门
    township = "township"  # 乡镇


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

DEFAULT_PHASES: tuple[tuple[str, str, PhaseKind], ...] = (
    ("self_check", "自查自评", PhaseKind.self_check),
    ("rectification", "整改", PhaseKind.rectification),
    ("review_city", "市级复评", PhaseKind.review_city),
    ("review_province", "省级评估", PhaseKind.review_province),
    ("review_national", "国家审核认定", PhaseKind.review_national),
)

# The entry steps a phase's flow runs when the phase becomes active (flows/phases.py), by their
# Chinese names as a plan's 阶段 lists the ones it switches off (停用步骤).
ENTRY_STEP_LABELS: dict[str, str] = {
    "阶段部署通知": "deployment_notice",
    "提醒梯度": "ladder",
    "整改时限": "redate_shortfalls",
    "重报数据": "resubmission_request",
    "评估记录": "review_record",
    "迎检准备": "inspection_tasks",
    "资料清单": "materials",
    "满意度调查": "survey",
    "申报材料": "application_package",
}
ENTRY_STEP_NAMES: dict[str, str] = {v: k for k, v in ENTRY_STEP_LABELS.items()}

# 重报数据 in a rectification phase: how often schools are asked to resubmit their data
RESUBMIT_INTERVALS: dict[str, int] = {"每周": 7, "每两周": 14, "每月": 30}
