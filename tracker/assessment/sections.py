"""Turn school records (one per school) into stage sections (one per school and stage).

Rules (domain.md, "Stages" and "Splitting shared facilities"):

- primary = 小学, the primary part of 九年一贯制/十二年一贯制, and 教学点 with at least
  ``standard.teaching_point_min_students`` pupils; junior = 初中, the junior part of the
  一贯制 schools and of 完全中学. Senior pupils get a share of the facilities but no section.
- 特殊教育学校 and smaller 教学点 are left out (listed in ``excluded_schools`` with the reason).
- Facilities (indicators 4–7) are split by weighted enrolment with ``standard.splitting``:
  九年一贯制 primary : junior = 1 : 1.1 per pupil, 十二年一贯制 1 : 1.1 : 1.32,
  完全中学 junior : senior = 1 : 1.2. Teachers (indicators 1–3) are each section's own.
- An attached kindergarten (附设幼儿班) takes its share the same way. Its per-pupil weight is the
  plan's 幼儿班折算 (passed in by the campaign's assessment), else the setting
  ``JUNHENG_KINDERGARTEN_WEIGHT`` (default 1.0), relative to a pupil of the school's first
  stage, whose weight is 1 in every splitting the standards use.
- Whatever is added to a school's shared facilities is split again the same way
  (``split_shared_addition``): a section's gap takes gap ÷ share at the school.
"""

from __future__ import annotations

from dataclasses import dataclass

from tracker.standards.records import SchoolRecord, SchoolSection
from tracker.standards.schema import Standard

# The facility fields split between stages (indicators 4–7); everything else is per section.
SHARED_FIELDS: tuple[str, ...] = (
    "teaching_area",
    "indoor_sports_area",
    "sports_area",
    "equipment_value",
    "multimedia_rooms",
)

# Which stages each school type has, in the order of ``standard.splitting`` weights.
SCHOOL_TYPE_STAGES: dict[str, tuple[str, ...]] = {
    "小学": ("primary",),
    "教学点": ("primary",),
    "初中": ("junior",),
    "九年一贯制": ("primary", "junior"),
    "十二年一贯制": ("primary", "junior", "senior"),
    "完全中学": ("junior", "senior"),
    "特殊教育学校": (),
}

KINDERGARTEN = "kindergarten"


@dataclass(frozen=True, slots=True)
class ExcludedSchool:
    """A school left out of the resource assessment, and why (Chinese, for the report)."""

    name: str
    school_key: str
    school_type: str
    reason: str


def stage_weights(record: SchoolRecord, standard: Standard, kindergarten_weight: float) -> dict[str, float]:
    """Per-pupil weights of the school's stages (incl. senior and kindergarten where present)."""
    stages = SCHOOL_TYPE_STAGES[record.school_type]
    weights = standard.splitting.get(record.school_type)
    if weights is None or len(stages) == 1:
        weights = [1.0] * len(stages)
    if len(weights) != len(stages):
        raise ValueError(
            f"标准 {standard.id} 的 splitting.{record.school_type} 应有 {len(stages)} 个权重，实际 {len(weights)} 个"
        )
    result = dict(zip(stages, (float(w) for w in weights), strict=True))
    if record.kindergarten_students > 0:
        result[KINDERGARTEN] = float(kindergarten_weight)
    return result


def _students(record: SchoolRecord, stage: str) -> float:
    return float(getattr(record, f"{stage}_students"))


def facility_shares(record: SchoolRecord, standard: Standard, kindergarten_weight: float) -> dict[str, float]:
    """Each stage's share of the school's shared facilities (weighted enrolment ÷ total)."""
    weights = stage_weights(record, standard, kindergarten_weight)
    weighted = {stage: w * _students(record, stage) for stage, w in weights.items()}
    total = sum(weighted.values())
    if total <= 0:
        return {stage: 0.0 for stage in weights}
    return {stage: value / total for stage, value in weighted.items()}


def exclusion_reason(record: SchoolRecord, standard: Standard) -> str | None:
    """Why a school takes no part in the resource assessment, or None when it does."""
    if record.school_type == "特殊教育学校":
        return "特殊教育学校不参与资源配置指标计算"
    if record.school_type == "教学点" and record.primary_students < standard.teaching_point_min_students:
        return (
            f"教学点在校生 {record.primary_students:g} 人，"
            f"不足 {standard.teaching_point_min_students} 人，不参与计算"
        )
    if record.school_type not in SCHOOL_TYPE_STAGES:
        return f"未知学校类型「{record.school_type}」"
    if not any(_students(record, s) > 0 for s in SCHOOL_TYPE_STAGES[record.school_type] if s != "senior"):
        return "无义务教育阶段在校生"
    return None


def excluded_schools(records: list[SchoolRecord], standard: Standard) -> list[ExcludedSchool]:
    out = []
    for record in records:
        reason = exclusion_reason(record, standard)
        if reason is not None:
            out.append(ExcludedSchool(record.name, record.key, record.school_type, reason))
    return out


def split_sections(
    records: list[SchoolRecord], standard: Standard, kindergarten_weight: float | None = None
) -> list[SchoolSection]:
    """One SchoolSection per school and compulsory stage with pupils, facilities split.

    ``kindergarten_weight`` None means the setting ``JUNHENG_KINDERGARTEN_WEIGHT``.
    Sections are in record order, primary before junior within a school.
    """
    if kindergarten_weight is None:
        from tracker.settings import get_settings

        kindergarten_weight = get_settings().kindergarten_weight
    sections: list[SchoolSection] = []
    for record in records:
        if exclusion_reason(record, standard) is not None:
            continue
        shares = facility_shares(record, standard, kindergarten_weight)
        for stage in SCHOOL_TYPE_STAGES[record.school_type]:
            students = _students(record, stage)
            if stage == "senior" or students <= 0:
                continue
            share = shares[stage]
            sections.append(
                SchoolSection(
                    school=record.name,
                    school_key=record.key,
                    stage=stage,  # type: ignore[arg-type]
                    students=students,
                    qualified_teachers=float(getattr(record, f"{stage}_qualified_teachers")),
                    backbone_teachers=float(getattr(record, f"{stage}_backbone_teachers")),
                    pe_art_teachers=float(getattr(record, f"{stage}_pe_art_teachers")),
                    teaching_area=record.teaching_area * share,
                    indoor_sports_area=record.indoor_sports_area * share,
                    sports_area=record.sports_area * share,
                    equipment_value=record.equipment_value * share,
                    multimedia_rooms=record.multimedia_rooms * share,
                    share=share,
                )
            )
    return sections


def split_shared_addition(
    record: SchoolRecord, standard: Standard, amount: float, kindergarten_weight: float | None = None
) -> dict[str, float]:
    """What each stage receives of ``amount`` added to the school's shared facilities (indicators
    4–7: m², 万元, rooms), split exactly as ``split_sections`` splits the facilities it has.

    The keys are the school's stages with pupils, senior and ``kindergarten`` included, so the
    parts add up to ``amount``; a single-stage school gets it all. The split depends only on
    enrolment, so it is linear: to give a section ``g`` more, the school adds ``g ÷ share``
    (``whole_school_amount``). ``kindergarten_weight`` None means the setting.
    """
    if kindergarten_weight is None:
        from tracker.settings import get_settings

        kindergarten_weight = get_settings().kindergarten_weight
    shares = facility_shares(record, standard, kindergarten_weight)
    return {stage: amount * share for stage, share in shares.items() if share > 0}


def whole_school_amount(section_gap: float, share: float) -> float:
    """The whole-school addition that gives a section with ``share`` of the shared facilities
    ``section_gap`` more after the re-split (``section_gap`` itself for a single-stage school)."""
    if share <= 0:
        raise ValueError("学段分摊比例为 0，无法通过增加共用设施补足")
    return section_gap / share
