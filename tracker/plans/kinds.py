"""The kinds of phase and of responsible unit a plan names.
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


