"""One validated row of a school sheet, and the per-stage section the assessment works on.

The sheet reader (tracker.schooldata.sheet) produces ``SchoolRecord``; the assessment
splits each record into ``SchoolSection`` rows (one per stage) before computing.
Attribute names are English; the Chinese header for each is in tracker.schooldata.columns.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

SchoolType = Literal["小学", "初中", "九年一贯制", "十二年一贯制", "完全中学", "教学点", "特殊教育学校"]
SCHOOL_TYPES: tuple[str, ...] = ("小学", "初中", "九年一贯制", "十二年一贯制", "完全中学", "教学点", "特殊教育学校")


@dataclass(frozen=True, slots=True)
class SchoolRecord:
    """A school as the county reports it (one sheet row). Numbers are floats; blanks are 0."""

    row: int  # the sheet row it came from (1-based, header = 1), for error messages
    name: str  # 学校名称
    school_type: str  # 学校类型, one of SCHOOL_TYPES
    primary_students: float = 0  # 小学在校生数
    junior_students: float = 0  # 初中在校生数
    senior_students: float = 0  # 高中在校生数
    primary_qualified_teachers: float = 0  # 小学高于规定学历教师数
    junior_qualified_teachers: float = 0  # 初中高于规定学历教师数
    primary_backbone_teachers: float = 0  # 小学县级以上骨干教师数
    junior_backbone_teachers: float = 0  # 初中县级以上骨干教师数
    primary_pe_art_teachers: float = 0  # 小学体育艺术专任教师数
    junior_pe_art_teachers: float = 0  # 初中体育艺术专任教师数
    teaching_area: float = 0  # 教学及辅助用房面积 (m²)
    indoor_sports_area: float = 0  # 室内体育用房面积 (m²)
    sports_area: float = 0  # 体育运动场馆面积 (m²)
    equipment_value: float = 0  # 教学仪器设备值（万元）
    multimedia_rooms: float = 0  # 网络多媒体教室数
    # optional columns used by the other per-school checks, None when the sheet lacks them
    school_code: str | None = None  # 学校标识码 (the key when present)
    township: str | None = None  # 所在乡镇
    urban_rural: str | None = None  # 城乡类别
    ownership: str | None = None  # 办学性质 (公办/民办)
    contact_name: str | None = None  # 联系人
    contact_email: str | None = None  # 联系邮箱 (a checked address; receives the school's own tasks)
    kindergarten_students: float = 0  # 附设幼儿班人数 (split like a stage; weight is a setting)
    primary_classes: float | None = None  # 小学班级数
    junior_classes: float | None = None  # 初中班级数
    primary_max_class_size: float | None = None  # 小学最大班额
    junior_max_class_size: float | None = None  # 初中最大班额
    music_rooms: float | None = None  # 音乐专用教室数
    music_room_min_area: float | None = None  # 音乐专用教室最小面积 (m²)
    art_rooms: float | None = None  # 美术专用教室数
    art_room_min_area: float | None = None  # 美术专用教室最小面积 (m²)
    # a 一贯制 school's rooms per stage (optional; given for every stage, rooms are checked per stage)
    primary_music_rooms: float | None = None  # 小学音乐专用教室数
    primary_music_room_min_area: float | None = None  # 小学音乐专用教室最小面积 (m²)
    primary_art_rooms: float | None = None  # 小学美术专用教室数
    primary_art_room_min_area: float | None = None  # 小学美术专用教室最小面积 (m²)
    junior_music_rooms: float | None = None  # 初中音乐专用教室数
    junior_music_room_min_area: float | None = None  # 初中音乐专用教室最小面积 (m²)
    junior_art_rooms: float | None = None  # 初中美术专用教室数
    junior_art_room_min_area: float | None = None  # 初中美术专用教室最小面积 (m²)
    year_built: int | None = None  # 建校年份
    migrant_share: float | None = None  # 随迁子女占比 (0–1 or %; normalised to 0–1 by the reader)
    rural_small_school: bool | None = None  # 是否农村小规模学校
    extra: dict[str, object] = field(default_factory=dict)  # extra columns, kept verbatim

    @property
    def key(self) -> str:
        """Identity across submissions: 学校标识码 when present, else the name."""
        return self.school_code or self.name


@dataclass(frozen=True, slots=True)
class SchoolSection:
    """One stage of one school: the row the indicators and CVs are computed on.

    Facility fields (teaching_area … multimedia_rooms) are already this section's share
    after splitting; teacher counts are the section's own.
    """

    school: str  # the school's name (a section of a mixed school carries the school's name)
    school_key: str
    stage: Literal["primary", "junior"]
    students: float
    qualified_teachers: float
    backbone_teachers: float
    pe_art_teachers: float
    teaching_area: float
    indoor_sports_area: float
    sports_area: float
    equipment_value: float  # 万元
    multimedia_rooms: float
    share: float = 1.0  # this section's share of the school's shared facilities
