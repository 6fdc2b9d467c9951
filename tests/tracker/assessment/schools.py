"""Records for assessment tests: schools sitting at a chosen share of every national threshold.

``primary_school(name, students, level=1.2)`` has every indicator at ``level`` × its primary
threshold (1.2: comfortably met), so a test changes one field and knows what moved.
"""

from __future__ import annotations

from dataclasses import replace

from tracker.standards.records import SchoolRecord

# national-2017 thresholds per stage: (qualified, backbone, pe_art per 100; m², m², 元 per pupil; rooms per 100)
THRESHOLDS = {
    "primary": (4.2, 1.0, 0.9, 4.5, 7.5, 2000.0, 2.3),
    "junior": (5.3, 1.0, 0.9, 5.8, 10.2, 2500.0, 2.4),
}


def stage_fields(stage: str, students: float, level: float) -> dict[str, float]:
    q, b, p, area, sports, equipment, rooms = THRESHOLDS[stage]
    return {
        f"{stage}_students": students,
        f"{stage}_qualified_teachers": q * students / 100 * level,
        f"{stage}_backbone_teachers": b * students / 100 * level,
        f"{stage}_pe_art_teachers": p * students / 100 * level,
        "teaching_area": area * students * level,
        "sports_area": sports * students * level,
        "equipment_value": equipment * students * level / 10_000,
        "multimedia_rooms": rooms * students / 100 * level,
    }


def primary_school(name: str, students: float = 1000, level: float = 1.2, row: int = 2, **changes) -> SchoolRecord:
    record = SchoolRecord(row=row, name=name, school_type="小学", **stage_fields("primary", students, level))
    return replace(record, **changes)


def junior_school(name: str, students: float = 1000, level: float = 1.2, row: int = 2, **changes) -> SchoolRecord:
    record = SchoolRecord(row=row, name=name, school_type="初中", **stage_fields("junior", students, level))
    return replace(record, **changes)


def county(n_primary: int = 3, n_junior: int = 3, level: float = 1.2) -> list[SchoolRecord]:
    """A small county in which every school meets every indicator."""
    records = [primary_school(f"第{i + 1}小学", 800 + 100 * i, level, row=2 + i) for i in range(n_primary)]
    records += [junior_school(f"第{i + 1}中学", 900 + 100 * i, level, row=2 + n_primary + i)
                for i in range(n_junior)]
    return records
