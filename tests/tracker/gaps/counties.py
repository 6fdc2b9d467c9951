"""Random small counties for the planner's tests: schools scattered around the national thresholds,
some far below (the per-school rule bites) and one rich school (the CV bites)."""

from __future__ import annotations

import random

from tracker.standards.records import SchoolRecord

PER_PUPIL = {  # national-2017 thresholds in the sheet's units per pupil
    "primary": (0.042, 0.010, 0.009, 4.5, 7.5, 0.2, 0.023),
    "junior": (0.053, 0.010, 0.009, 5.8, 10.2, 0.25, 0.024),
}
TYPES = ("小学", "小学", "初中", "九年一贯制")


def random_county(seed: int, n: int = 8, rich: float = 3.5, low: float = 0.5) -> list[SchoolRecord]:
    rng = random.Random(seed)
    records = []
    for i in range(n):
        school_type = TYPES[i % len(TYPES)] if i < len(TYPES) else rng.choice(TYPES)
        stages = {"小学": ["primary"], "初中": ["junior"], "九年一贯制": ["primary", "junior"]}[school_type]
        level = rich if i == 0 else rng.uniform(low, 1.6)
        fields: dict[str, float] = {"teaching_area": 0.0, "sports_area": 0.0, "equipment_value": 0.0,
                                    "multimedia_rooms": 0.0}
        for stage in stages:
            p = float(rng.randint(150, 1500))
            q, b, pe, area, sports, equipment, rooms = PER_PUPIL[stage]
            jitter = lambda: level * rng.uniform(0.8, 1.25)  # noqa: E731
            fields[f"{stage}_students"] = p
            fields[f"{stage}_qualified_teachers"] = float(round(q * p * jitter()))
            fields[f"{stage}_backbone_teachers"] = float(round(b * p * jitter()))
            fields[f"{stage}_pe_art_teachers"] = float(round(pe * p * jitter()))
            fields["teaching_area"] += round(area * p * jitter(), 1)
            fields["sports_area"] += round(sports * p * jitter(), 1)
            fields["equipment_value"] += round(equipment * p * jitter(), 2)
            fields["multimedia_rooms"] += float(round(rooms * p * jitter()))
        records.append(SchoolRecord(row=i + 2, name=f"第{i + 1}校", school_type=school_type,
                                    township=("城关镇", "青山乡")[i % 2], **fields))
    return records
