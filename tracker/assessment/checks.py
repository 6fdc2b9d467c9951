"""Per-school checks (class size, school size, music/art rooms) with the 2019 allowances.

A check runs only where the sheet has its columns; a school without them is "unknown" for that
check, and an indicator with an unknown school is unknown, never a silent pass. The numbers are
the standard's ``Check.params`` (names as documented on ``tracker.standards.schema.Check``):

- ``class_size``: ``primary_max`` / ``junior_max`` (45 / 50) against 最大班额 per stage.
- ``school_size``: ``max_students`` (2000) for 小学, 初中, 完全中学 (junior pupils) and 教学点;
  ``max_students_through`` (2500) for 九年一贯制/十二年一贯制 (primary + junior pupils).
- ``rooms_per_classes``: music and art rooms each ≥ ⌈classes ÷ ``classes_per_room``⌉ (at least
  1), and the smallest room ≥ ``music_min_area`` / ``art_min_area`` (96 / 90 m²). A name ending
  in ``_primary`` / ``_junior`` overrides for that stage; a school with two stages must meet the
  larger of its stages' area requirements (the rooms serve both).

An allowance (``Standard.allowances``, listed in ``Check.allowances``) applies when it is
``computed``, ``as_of`` is within its dates, and its ``condition`` holds for the school (numbers
in ``condition_params``); its ``params`` then replace the check's. A finding that disappears
under an allowance is "relaxed": not blocking, but when the allowance ``requires_plan`` the
finding says so, so the campaign can make the construction-plan task (full standard within N
years).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace

from tracker.assessment.inputs import verdict_word
from tracker.assessment.sections import SCHOOL_TYPE_STAGES, exclusion_reason
from tracker.standards.records import SchoolRecord
from tracker.standards.schema import Allowance, Check, Indicator, Judged, Standard


@dataclass(frozen=True, slots=True)
class CheckFinding:
    """One thing a school lacks under a per-school check."""

    indicator: str
    school: str
    school_key: str
    stage: str | None  # None when it concerns the whole school
    what: str  # which requirement ("class_size:primary", "music_area" …): matches across params
    actual: float
    required: float
    missing: float
    unit: str
    text: str
    relaxed: bool = False  # passes under an allowance
    allowance: str | None = None
    plan_required: bool = False
    years_to_full_standard: int | None = None
    # an allowance in force might make it pass, but the sheet lacks what decides it: the headers
    # missing (建校年份 …); the school is then unknown for the check, not failing
    undecided: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class CheckOutcome:
    """A per-school check indicator over the county: pass, fail or unknown."""

    indicator: str
    title: str
    kind: str
    status: str  # "pass" | "fail" | "unknown"
    schools_checked: int
    schools_failed: int
    schools_unknown: list[str]
    detail: str = ""


def _param(params: Mapping[str, float], name: str, stage: str | None, check: Check, indicator: Indicator) -> float:
    """``{name}_{stage}`` (a stage override) if present, else ``name``."""
    if stage is not None and f"{name}_{stage}" in params:
        return float(params[f"{name}_{stage}"])
    if name in params:
        return float(params[name])
    raise ValueError(f"标准中指标 {indicator.code} 的检查 {check.kind} 缺少参数 {name}")


def _compulsory_stages(record: SchoolRecord) -> list[str]:
    return [
        s for s in SCHOOL_TYPE_STAGES[record.school_type]
        if s != "senior" and getattr(record, f"{s}_students") > 0
    ]


def _single_stage(record: SchoolRecord) -> str | None:
    stages = _compulsory_stages(record)
    return stages[0] if len(stages) == 1 else None


Checker = Callable[[Indicator, Check, Mapping[str, float], SchoolRecord], "list[CheckFinding] | None"]


def _finding(ind: Indicator, record: SchoolRecord, stage: str | None, what: str, actual: float,
             required: float, missing: float, unit: str, text: str) -> CheckFinding:
    return CheckFinding(ind.code, record.name, record.key, stage, what, actual, required, missing, unit, text)


def check_class_size(ind: Indicator, check: Check, params: Mapping[str, float], record: SchoolRecord):
    findings = []
    for stage in _compulsory_stages(record):
        largest = getattr(record, f"{stage}_max_class_size")
        if largest is None:
            return None
        limit = _param(params, f"{stage}_max", None, check, ind)
        if largest > limit:
            excess = largest - limit
            findings.append(_finding(ind, record, stage, f"class_size:{stage}", largest, limit, excess, "人",
                                     f"最大班额 {largest:g} 人，超过 {limit:g} 人，需减少 {excess:g} 人"))
    return findings


def check_school_size(ind: Indicator, check: Check, params: Mapping[str, float], record: SchoolRecord):
    stages = _compulsory_stages(record)
    students = sum(getattr(record, f"{s}_students") for s in stages)
    through = record.school_type in ("九年一贯制", "十二年一贯制")
    limit = _param(params, "max_students_through" if through else "max_students", None, check, ind)
    if students <= limit:
        return []
    excess = students - limit
    what = "义务教育阶段规模" if through else "学校规模"
    return [_finding(ind, record, _single_stage(record), "school_size", students, limit, excess, "人",
                     f"{what} {students:g} 人，超过 {limit:g} 人，超出 {excess:g} 人")]


ROOMS = (("music", "音乐专用教室"), ("art", "美术专用教室"))


def per_stage_rooms(record: SchoolRecord) -> bool:
    """A school of several stages whose sheet row gives each stage's music and art rooms (count, and
    the smallest room's area where it has any): then the rooms are checked per stage."""
    stages = _compulsory_stages(record)
    if len(stages) < 2:
        return False
    for s in stages:
        for room, _ in ROOMS:
            count = getattr(record, f"{s}_{room}_rooms")
            if count is None or (count > 0 and getattr(record, f"{s}_{room}_room_min_area") is None):
                return False
    return True


def _room_findings(ind: Indicator, check: Check, params: Mapping[str, float], record: SchoolRecord,
                   stages: list[str], classes: float, stage: str | None, prefix: str) -> list[CheckFinding] | None:
    """Music and art rooms of the school (``prefix`` "") or of one stage (``prefix`` "primary_")
    against ⌈classes ÷ 12⌉ rooms each (none for no classes) and the stages' area."""
    needed = math.ceil(classes / _param(params, "classes_per_room", None, check, ind) - 1e-9) if classes > 0 else 0
    findings = []
    where = f":{stage}" if prefix else ""
    for room, noun in ROOMS:
        count = getattr(record, f"{prefix}{room}_rooms")
        if count is None:
            return None
        if count < needed:
            findings.append(_finding(ind, record, stage, f"{room}_rooms{where}", count, needed, needed - count, "间",
                                     f"需增加{noun} {needed - count:g} 间"))
        if count > 0:
            smallest = getattr(record, f"{prefix}{room}_room_min_area")
            if smallest is None:
                return None
            required = max(_param(params, f"{room}_min_area", s, check, ind) for s in stages)
            if smallest < required:
                gap = round(required - smallest, 1)
                findings.append(_finding(ind, record, stage, f"{room}_area{where}", smallest, required, gap, "m²",
                                         f"{noun}单间面积 {smallest:g} m²，不足 {required:g} m²，缺口 {gap:g} m²"))
    return findings


def rooms_checked_whole_school(standard: Standard, records: list[SchoolRecord]) -> list[str]:
    """Schools of several stages whose music and art rooms are checked on the whole-school columns
    (the sheet gives no per-stage rooms), where the standard has the rooms check: for a note."""
    if not any(i.check is not None and i.check.kind == "rooms_per_classes" for i in standard.indicators):
        return []
    return [r.name for r in records if exclusion_reason(r, standard) is None
            and len(_compulsory_stages(r)) > 1 and not per_stage_rooms(r)]


def check_rooms_per_classes(ind: Indicator, check: Check, params: Mapping[str, float], record: SchoolRecord):
    """Each stage's classes ÷ 12 rooms of each kind when the sheet gives the rooms per stage
    (一贯制); else the school's classes ÷ 12 on its whole-school rooms, the largest of its stages'
    area requirements (the rooms serve both). A stage without classes needs no room."""
    stages = _compulsory_stages(record)
    classes = [getattr(record, f"{s}_classes") for s in stages]
    if any(c is None for c in classes):
        return None
    if per_stage_rooms(record):
        findings: list[CheckFinding] = []
        for s, n in zip(stages, classes, strict=True):
            found = _room_findings(ind, check, params, record, [s], n, s, f"{s}_")
            if found is None:
                return None
            findings += found
        return findings
    return _room_findings(ind, check, params, record, stages, sum(classes), _single_stage(record), "")


CHECKERS: dict[str, Checker] = {
    "class_size": check_class_size,
    "school_size": check_school_size,
    "rooms_per_classes": check_rooms_per_classes,
}


# --- allowance conditions: True / False (data present), None when the sheet cannot tell -----


def _condition_param(allowance: Allowance, name: str) -> float:
    try:
        return float(allowance.condition_params[name])
    except KeyError:
        raise ValueError(f"放宽条款 {allowance.id} 缺少条件参数 condition_params.{name}") from None


def _built_by(record: SchoolRecord, allowance: Allowance) -> bool | None:
    if record.year_built is None:
        return None
    return record.year_built <= _condition_param(allowance, "built_year_max")


def _migrant_over(record: SchoolRecord, allowance: Allowance) -> bool | None:
    if record.migrant_share is None:
        return None
    return record.migrant_share > _condition_param(allowance, "migrant_share_over")


def _old_or_migrant(record: SchoolRecord, allowance: Allowance) -> bool | None:
    old = _built_by(record, allowance)
    migrant = _migrant_over(record, allowance)
    if old or migrant:
        return True
    return None if old is None or migrant is None else False


def _rural_small(record: SchoolRecord, allowance: Allowance) -> bool | None:
    """A 农村小规模学校 (the sheet's 是/否) whose largest class is under 30 pupils."""
    if record.rural_small_school is False:
        return False
    largest = [getattr(record, f"{s}_max_class_size") for s in _compulsory_stages(record)]
    below = _condition_param(allowance, "max_class_size_below")
    if any(c is not None and c >= below for c in largest):
        return False  # a class too large decides it, whatever else is missing
    if record.rural_small_school is None or any(c is None for c in largest):
        return None
    return True


def _missing(record: SchoolRecord, attributes: list[str]) -> list[str]:
    from tracker.schooldata.columns import COLUMN_BY_ATTRIBUTE

    return [COLUMN_BY_ATTRIBUTE[a].header for a in attributes if getattr(record, a) is None]


# What each condition reads: the sheet headers missing when it cannot decide.
CONDITION_DATA: dict[str, Callable[[SchoolRecord], list[str]]] = {
    "built_2016_or_earlier": lambda r: _missing(r, ["year_built"]),
    "rural_small_school": lambda r: _missing(
        r, ["rural_small_school"] + [f"{s}_max_class_size" for s in _compulsory_stages(r)]),
    "built_2010_or_earlier_or_migrant_over_50pct": lambda r: _missing(r, ["year_built", "migrant_share"]),
}

# Condition keys as documented on tracker.standards.schema.Allowance.
CONDITIONS: dict[str, Callable[[SchoolRecord, Allowance], bool | None]] = {
    "built_2016_or_earlier": _built_by,
    "rural_small_school": _rural_small,
    "built_2010_or_earlier_or_migrant_over_50pct": _old_or_migrant,
}


def in_force(allowance: Allowance, as_of: dt.date) -> bool:
    return (allowance.valid_from is None or allowance.valid_from <= as_of) and (
        allowance.valid_until is None or as_of <= allowance.valid_until
    )


def expired(allowance: Allowance, as_of: dt.date) -> bool:
    """Its time is over (the 2019 allowances hold "近三年评估中", for the evaluations of three years)."""
    return allowance.valid_until is not None and as_of > allowance.valid_until


def expired_allowances(standard: Standard, as_of: dt.date) -> list[Allowance]:
    """The standard's allowances whose time is over on ``as_of``: no longer applied."""
    return [a for a in standard.allowances if expired(a, as_of)]


def expiry_note(allowance: Allowance, as_of: dt.date) -> str:
    assert allowance.valid_until is not None
    return (f"放宽条款「{allowance.title}」适用至 {allowance.valid_until.isoformat()}，"
            f"评估日期 {as_of.isoformat()} 已过，不再适用，按标准评估")


def _allowances_for(standard: Standard, check: Check, as_of: dt.date) -> list[Allowance]:
    """The computed allowances of a check that are in force on ``as_of``."""
    by_id = {a.id: a for a in standard.allowances}
    out = []
    for allowance_id in check.allowances:
        allowance = by_id.get(allowance_id)
        if allowance is None:
            raise ValueError(f"标准 {standard.id} 的检查 {check.kind} 引用了不存在的放宽条款 {allowance_id}")
        if not allowance.computed:
            continue  # the county declares it (e.g. leased venues counted in its figures)
        if allowance.condition not in CONDITIONS:
            raise ValueError(f"标准 {standard.id} 的放宽条款 {allowance.id} 条件「{allowance.condition}」无法识别")
        if in_force(allowance, as_of) or expired(allowance, as_of):
            out.append(allowance)  # an expired one is tried too, to say why it no longer helps
    return out


def _apply_allowances(
    ind: Indicator, check: Check, checker: Checker, record: SchoolRecord,
    findings: list[CheckFinding], allowances: list[Allowance], as_of: dt.date,
) -> list[CheckFinding]:
    out = []
    relaxed_by: dict[str, Allowance] = {}
    expired_for: dict[str, Allowance] = {}  # would relax it, but its time is over
    undecided_by: dict[str, tuple[Allowance, list[str]]] = {}  # might relax it: data missing
    for allowance in allowances:
        holds = CONDITIONS[allowance.condition](record, allowance)
        if holds is False:
            continue
        relaxed = checker(ind, check, {**check.params, **allowance.params}, record)
        if relaxed is None:
            continue
        still = {f.what for f in relaxed}
        for f in findings:
            if f.what in still:
                continue
            if expired(allowance, as_of):
                expired_for.setdefault(f.what, allowance)
            elif holds is None:
                undecided_by.setdefault(f.what, (allowance, CONDITION_DATA[allowance.condition](record)))
            else:
                relaxed_by.setdefault(f.what, allowance)
    for f in findings:
        allowance = relaxed_by.get(f.what)
        if allowance is None and f.what in undecided_by:
            maybe, missing = undecided_by[f.what]
            headers = "、".join(f"「{h}」" for h in missing)
            out.append(replace(f, text=f"{f.text}（能否按放宽条款（{maybe.title}）评估无法判断：缺少{headers}）",
                               undecided=tuple(missing)))
            continue
        if allowance is None:
            gone = expired_for.get(f.what)
            out.append(f if gone is None else replace(f, text=f"{f.text}（{expiry_note(gone, as_of)}）"))
            continue
        note = f"；按放宽条款（{allowance.title}）暂达标"
        if allowance.requires_plan:
            years = allowance.years_to_full_standard
            note += "，需制定建设规划并持续跟踪" + (f"，{years} 年内达到标准" if years else "")
        out.append(replace(f, text=f.text + note, relaxed=True, allowance=allowance.id,
                           plan_required=allowance.requires_plan,
                           years_to_full_standard=allowance.years_to_full_standard))
    return out


def run_checks(
    standard: Standard, records: list[SchoolRecord], as_of: dt.date, inputs: Mapping[str, object]
) -> tuple[list[CheckOutcome], list[CheckFinding]]:
    """Every per-school check of the standard over the assessed schools.

    Where the sheet cannot decide (columns missing), an attested result in ``inputs``
    ("pass"/"fail") is used; otherwise the indicator stays unknown.
    """
    schools = [r for r in records if exclusion_reason(r, standard) is None]
    outcomes: list[CheckOutcome] = []
    all_findings: list[CheckFinding] = []
    for ind in standard.indicators:
        if ind.judged is not Judged.per_school_check:
            continue
        check = ind.check
        assert check is not None
        checker = CHECKERS.get(check.kind)
        attested = verdict_word(inputs.get(ind.code)) if ind.code in inputs else None
        if checker is None:
            status = attested or "unknown"
            detail = "按认定结果" if attested else f"检查类型 {check.kind} 不能由学校数据判定，需录入认定结果"
            outcomes.append(CheckOutcome(ind.code, ind.title, check.kind, status, 0, 0, [], detail))
            continue
        allowances = _allowances_for(standard, check, as_of)
        unknown: list[str] = []
        lacking: list[str] = []  # "丙小学缺「建校年份」": unknown because an allowance cannot be decided
        failed = 0
        for record in schools:
            findings = checker(ind, check, check.params, record)
            if findings is None:
                unknown.append(record.name)
                continue
            findings = _apply_allowances(ind, check, checker, record, findings, allowances, as_of)
            all_findings.extend(findings)
            if any(not f.relaxed and not f.undecided for f in findings):
                failed += 1
            elif any(f.undecided for f in findings):
                unknown.append(record.name)
                headers = dict.fromkeys(h for f in findings for h in f.undecided)
                lacking.append(f"{record.name}缺{'、'.join(f'「{h}」' for h in headers)}")
        if failed:
            status, detail = "fail", f"{failed} 所学校不达标"
        elif unknown or not schools:
            status = attested or "unknown"
            detail = (f"{len(unknown)} 所学校缺少相关数据" if unknown else "没有参评学校") + (
                f"（{'；'.join(lacking)}）" if lacking else "") + ("，按认定结果" if attested else "")
        else:
            status, detail = "pass", "全部学校达标"
        if attested and status != attested and (failed or not unknown):
            detail += "；已按学校数据判定，录入的认定结果未采用"
        outcomes.append(CheckOutcome(ind.code, ind.title, check.kind, status, len(schools) - len(unknown),
                                     failed, unknown, detail))
    return outcomes, all_findings
