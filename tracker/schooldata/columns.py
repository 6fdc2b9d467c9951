"""The school sheet's header contract, as data.

One ``Column`` per header a county fills in: the Chinese header (what users see), the
``SchoolRecord`` attribute it fills, how its cells are read, whether it is required, its
unit, the help text printed on the template's 填报说明 sheet, and which school types have it.
The sheet reader and the template are both driven by ``COLUMNS``, so a column is added here
and nowhere else (plus the attribute on ``SchoolRecord``).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Literal

from tracker.standards.records import SCHOOL_TYPES

# text: free text; int: a whole number ≥ 0 (counts); number: a decimal ≥ 0 (areas, money);
# share: a proportion, 0.35 / 35% / 35 all mean 0.35; bool: 是/否; choice: one of ``choices``;
# email: one e-mail address, checked as the plan checks its people's 邮箱.
ColumnKind = Literal["text", "int", "number", "share", "bool", "choice", "email"]
StageKey = Literal["primary", "junior", "senior", "kindergarten"]

# Which stages each school type has. A stage column (e.g. 初中在校生数) filled in with a
# non-zero number for a type without that stage is an error; blank there means 0.
# Special-education schools may teach any stage; they are left out of the assessment anyway.
SCHOOL_TYPE_STAGES: dict[str, tuple[str, ...]] = {
    "小学": ("primary",),
    "初中": ("junior",),
    "九年一贯制": ("primary", "junior"),
    "十二年一贯制": ("primary", "junior", "senior"),
    "完全中学": ("junior", "senior"),
    "教学点": ("primary",),
    "特殊教育学校": ("primary", "junior", "senior"),
}
assert set(SCHOOL_TYPE_STAGES) == set(SCHOOL_TYPES)

# Spellings people use for a school type, mapped to the contract's name.
SCHOOL_TYPE_ALIASES: dict[str, str] = {
    "九年一贯制学校": "九年一贯制",
    "九年制": "九年一贯制",
    "九年制学校": "九年一贯制",
    "十二年一贯制学校": "十二年一贯制",
    "十二年制": "十二年一贯制",
    "十二年制学校": "十二年一贯制",
    "完中": "完全中学",
    "小学教学点": "教学点",
    "特殊学校": "特殊教育学校",
    "特教学校": "特殊教育学校",
}

URBAN_RURAL_CHOICES: tuple[str, ...] = ("城区", "镇区", "乡村")
OWNERSHIP_CHOICES: tuple[str, ...] = ("公办", "民办")

_ALL = SCHOOL_TYPES

# Plausible ranges (issue 11): a figure beyond these is a typo (extra digits, 元 for 万元, m² for
# 亩), never a real school; the reader refuses it with row and column named, so absurd values
# cannot reach the assessment (they marked tasks 已达标). Generous on purpose: China's largest
# schools have about 15,000 pupils in a stage and a few hundred teachers; a campus of 1,000,000 m²
# (100 ha) is far beyond any primary or junior school. Change them here; the template's Excel
# validation and the 填报说明 follow.
MAX_STUDENTS = 20_000  # pupils of one stage in one school
MAX_KINDERGARTEN = 5_000  # attached kindergarten pupils
MAX_TEACHERS = 2_000  # teachers of one kind in one stage
MAX_AREA = 1_000_000  # m², any area of a school
MAX_ROOM_AREA = 2_000  # m², one special classroom
MAX_EQUIPMENT = 100_000  # 万元 (1 billion 元), equipment book value
MAX_ROOMS = 2_000  # multimedia classrooms
MAX_SPECIAL_ROOMS = 200  # music or art rooms
MAX_CLASSES = 500  # classes of one stage
MAX_CLASS_SIZE = 200  # pupils in the largest class


def _types_with(stage: str) -> tuple[str, ...]:
    return tuple(t for t in SCHOOL_TYPES if stage in SCHOOL_TYPE_STAGES[t])


_PRIMARY = _types_with("primary")
_JUNIOR = _types_with("junior")
_SENIOR = _types_with("senior")
_THROUGH = ("九年一贯制", "十二年一贯制")  # the schools with both compulsory stages


@dataclass(frozen=True, slots=True)
class Column:
    header: str  # the Chinese header exactly as the template writes it
    attribute: str  # the SchoolRecord attribute
    kind: ColumnKind
    required: bool  # the header must be present in every sheet
    unit: str  # "" when the value has no unit
    help: str  # one sentence for the 填报说明 sheet
    stage: StageKey | None = None  # the stage a per-stage column belongs to
    school_types: tuple[str, ...] = _ALL  # types that have this column; others leave it blank or 0
    choices: tuple[str, ...] = ()  # for kind "choice" (and the template's dropdowns)
    minimum: float = 0  # numbers below are rejected (all numbers are ≥ 0 unless said otherwise)
    maximum: float | None = None  # numbers above are rejected; for "share", after normalising to 0–1

    @property
    def numeric(self) -> bool:
        return self.kind in ("int", "number", "share")

    @property
    def range_text(self) -> str:
        """The accepted range as users read it, e.g. 「0 至 20,000 人」."""
        unit = f" {self.unit}" if self.unit and self.unit != "%" else ""
        high = "不限" if self.maximum is None else format_limit(self.maximum)
        return f"{format_limit(self.minimum)} 至 {high}{unit}"


def format_limit(value: float) -> str:
    """A limit for people: 1000000 → 1,000,000 (not :g's 1e+06)."""
    return f"{int(value):,}" if float(value).is_integer() else f"{value:,}"


def _students(stage: StageKey, name: str, types: tuple[str, ...]) -> Column:
    return Column(f"{name}在校生数", f"{stage}_students", "int", True, "人",
                  f"{name}学段在校学生数（不含附设幼儿班）。", stage, types, maximum=MAX_STUDENTS)


def _teachers(stage: StageKey, name: str, types: tuple[str, ...]) -> tuple[Column, ...]:
    """The three per-stage teacher counts behind indicators 1–3."""
    qualification = "专科及以上" if stage == "primary" else "本科及以上"
    return (
        Column(f"{name}高于规定学历教师数", f"{stage}_qualified_teachers", "int", True, "人",
               f"{name}学段具有{qualification}学历的专任教师数（指标 1）。", stage, types, maximum=MAX_TEACHERS),
        Column(f"{name}县级以上骨干教师数", f"{stage}_backbone_teachers", "int", True, "人",
               f"{name}学段获得县级及以上骨干教师称号的专任教师数（指标 2）。", stage, types, maximum=MAX_TEACHERS),
        Column(f"{name}体育艺术专任教师数", f"{stage}_pe_art_teachers", "int", True, "人",
               f"{name}学段体育、音乐、美术专任教师数之和（指标 3）。", stage, types, maximum=MAX_TEACHERS),
    )


_pq, _pb, _pa = _teachers("primary", "小学", _PRIMARY)
_jq, _jb, _ja = _teachers("junior", "初中", _JUNIOR)

# Order as users read a school form: identity, student counts, teachers, facilities, then
# the optional columns.
COLUMNS: tuple[Column, ...] = (
    Column("学校名称", "name", "text", True, "",
           "学校全称，县内不得重复；一贯制学校、完全中学只填一行。"),
    Column("学校类型", "school_type", "choice", True, "",
           "从下拉列表选择：" + "、".join(SCHOOL_TYPES) + "。", choices=SCHOOL_TYPES),
    _students("primary", "小学", _PRIMARY),
    _students("junior", "初中", _JUNIOR),
    _students("senior", "高中", _SENIOR),
    _pq, _jq, _pb, _jb, _pa, _ja,
    Column("教学及辅助用房面积", "teaching_area", "number", True, "m²",
           "全校教学及辅助用房建筑面积（含室内体育用房；指标 4）。", maximum=MAX_AREA),
    Column("室内体育用房面积", "indoor_sports_area", "number", True, "m²",
           "全校室内体育用房（体育馆、风雨操场等）建筑面积；计算指标 4 时从教学及辅助用房面积中扣除。", maximum=MAX_AREA),
    Column("体育运动场馆面积", "sports_area", "number", True, "m²",
           "全校体育运动场地与场馆面积合计（室外运动场地加室内体育用房；指标 5）。", maximum=MAX_AREA),
    Column("教学仪器设备值（万元）", "equipment_value", "number", True, "万元",
           "全校教学仪器设备资产账面值，单位万元（指标 6）。", maximum=MAX_EQUIPMENT),
    Column("网络多媒体教室数", "multimedia_rooms", "int", True, "间",
           "全校配备网络多媒体设备的教室间数（指标 7）。", maximum=MAX_ROOMS),
    # optional: identity
    Column("学校标识码", "school_code", "text", False, "",
           "教育部学校标识码（10 位）；填写后作为历次填报中识别学校的依据，县内不得重复。"),
    Column("所在乡镇", "township", "text", False, "",
           "学校所在乡镇（街道），用于把整改任务落实到“各乡镇”。"),
    Column("城乡类别", "urban_rural", "choice", False, "",
           "从下拉列表选择：城区、镇区、乡村。", choices=URBAN_RURAL_CHOICES),
    Column("办学性质", "ownership", "choice", False, "",
           "从下拉列表选择：公办、民办。", choices=OWNERSHIP_CHOICES),
    # optional: who receives the notices of the school's own tasks (一校一案)
    Column("联系人", "contact_name", "text", False, "",
           "学校接收整改任务交办单和催办通知的联系人姓名，如校长或教务主任。"),
    Column("联系邮箱", "contact_email", "email", False, "",
           "联系人的电子邮箱，如 xiaozhang@example.cn；学校自己的整改任务（一校一案）的交办单、催办通知"
           "发到这里。留空则保留系统中已有的联系人和邮箱；创建方案的「学校联系人」写明了联系人的学校，以方案为准。"),
    Column("附设幼儿班人数", "kindergarten_students", "int", False, "人",
           "学校附设幼儿班在园人数；分摊共用设施时按规定折算。", "kindergarten", maximum=MAX_KINDERGARTEN),
    # optional: the other per-school checks (class size, rooms per 12 classes …)
    Column("小学班级数", "primary_classes", "int", False, "个",
           "小学学段教学班数（音乐、美术专用教室按每 12 个班 1 间核定）。", "primary", _PRIMARY, maximum=MAX_CLASSES),
    Column("初中班级数", "junior_classes", "int", False, "个",
           "初中学段教学班数。", "junior", _JUNIOR, maximum=MAX_CLASSES),
    Column("小学最大班额", "primary_max_class_size", "int", False, "人",
           "小学学段人数最多的一个班的人数（标准：不超过 45 人）。", "primary", _PRIMARY, maximum=MAX_CLASS_SIZE),
    Column("初中最大班额", "junior_max_class_size", "int", False, "人",
           "初中学段人数最多的一个班的人数（标准：不超过 50 人）。", "junior", _JUNIOR, maximum=MAX_CLASS_SIZE),
    Column("音乐专用教室数", "music_rooms", "int", False, "间",
           "全校音乐专用教室间数。", maximum=MAX_SPECIAL_ROOMS),
    Column("音乐专用教室最小面积", "music_room_min_area", "number", False, "m²",
           "面积最小的一间音乐专用教室的使用面积（标准：不小于 96 m²）。", maximum=MAX_ROOM_AREA),
    Column("美术专用教室数", "art_rooms", "int", False, "间",
           "全校美术专用教室间数。", maximum=MAX_SPECIAL_ROOMS),
    Column("美术专用教室最小面积", "art_room_min_area", "number", False, "m²",
           "面积最小的一间美术专用教室的使用面积（标准：不小于 90 m²）。", maximum=MAX_ROOM_AREA),
    # optional: a 一贯制 school's rooms per stage (each stage's classes ÷ 12); blank: the whole-school columns
    *(
        Column(f"{name}{noun}{what}", f"{stage}_{room}_{attr}", kind, False, unit,
               f"{help_text}一贯制学校按学段分别填写时，音乐、美术专用教室按各学段班级数 ÷ 12 分别核定；"
               "不填则按全校合计核定。", stage, types, maximum=maximum)
        for stage, name, types in (("primary", "小学", _THROUGH), ("junior", "初中", _THROUGH))
        for room, noun in (("music", "音乐专用教室"), ("art", "美术专用教室"))
        for attr, what, kind, unit, maximum, help_text in (
            ("rooms", "数", "int", "间", MAX_SPECIAL_ROOMS, f"{name}学段使用的{noun}间数。"),
            ("room_min_area", "最小面积", "number", "m²", MAX_ROOM_AREA,
             f"{name}学段面积最小的一间{noun}的使用面积。"),
        )
    ),
    Column("建校年份", "year_built", "int", False, "年",
           "四位年份，如 2008（2016 年及以前建校的学校适用专用教室面积过渡标准）。",
           minimum=1800, maximum=2100),
    Column("随迁子女占比", "migrant_share", "share", False, "%",
           "进城务工人员随迁子女占在校生比例，填 0.35、35% 或 35 均表示 35%。", maximum=1),
    Column("是否农村小规模学校", "rural_small_school", "bool", False, "",
           "填 是 或 否（不足 100 人的村小学和乡镇寄宿制学校为农村小规模学校）。",
           choices=("是", "否")),
)

COLUMN_BY_HEADER: dict[str, Column] = {c.header: c for c in COLUMNS}
COLUMN_BY_ATTRIBUTE: dict[str, Column] = {c.attribute: c for c in COLUMNS}
REQUIRED_HEADERS: tuple[str, ...] = tuple(c.header for c in COLUMNS if c.required)
OPTIONAL_HEADERS: tuple[str, ...] = tuple(c.header for c in COLUMNS if not c.required)

# Markers people (and some templates) put on headers: "*学校名称", "学校名称（必填）".
_MARKERS = re.compile(r"^\*+|\*+$|\((必填|选填|可选)\)$")
_SPACE = re.compile(r"\s+")


def normalize_header(text: object) -> str:
    """The comparable form of a header cell.

    NFKC makes full-width brackets and digits half-width, so 教学仪器设备值（万元） and
    教学仪器设备值(万元) compare equal; whitespace anywhere (including line breaks from
    Alt+Enter in Excel) and required/optional markers are dropped.
    """
    if text is None:
        return ""
    normal = unicodedata.normalize("NFKC", str(text))
    normal = "".join(ch for ch in normal if unicodedata.category(ch) != "Cf")  # zero-width, BOM …
    normal = _SPACE.sub("", normal)
    previous = None
    while previous != normal:  # "*学校名称(必填)" carries two markers
        previous, normal = normal, _MARKERS.sub("", normal)
    return normal


_BY_NORMAL: dict[str, Column] = {normalize_header(c.header): c for c in COLUMNS}


def column_for_header(text: object) -> Column | None:
    """The contract column a sheet header names, or None for an extra column."""
    return _BY_NORMAL.get(normalize_header(text))
