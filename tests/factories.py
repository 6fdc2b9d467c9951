"""Builders of realistic, valid school sheets, shared by tests and benchmarks.

``make_school_rows(n, seed)`` returns rows keyed by the Chinese headers of the contract
(tracker.schooldata.columns), deterministic for a seed, that ``read_school_sheet`` accepts.
Values scatter around the national thresholds, so a county built from them has schools that
meet and schools that miss each indicator.
"""

from __future__ import annotations

import csv
import random
from collections.abc import Sequence
from pathlib import Path

from openpyxl import Workbook

from tracker.schooldata.columns import COLUMNS, SCHOOL_TYPE_STAGES

HEADERS: tuple[str, ...] = tuple(c.header for c in COLUMNS)

# Rough shares of a county's schools by type (the first row is always a 小学).
_TYPE_WEIGHTS: dict[str, float] = {
    "小学": 0.52, "初中": 0.2, "九年一贯制": 0.1, "教学点": 0.1, "完全中学": 0.04,
    "十二年一贯制": 0.02, "特殊教育学校": 0.02,
}
_TOWNSHIPS = ("城关镇", "城南街道", "河口镇", "青山乡", "白沙镇", "石桥乡", "龙泉镇", "新华乡")
_PER_STAGE = {
    # stage: (students range, qualified/100, backbone/100, pe-art/100) around the thresholds
    "primary": ((180, 1800), 4.2, 1.0, 0.9),
    "junior": ((300, 1600), 5.3, 1.0, 0.9),
}
# per student, around the thresholds (4.5/5.8 m², 7.5/10.2 m², 2000/2500 元, 2.3/2.4 rooms per 100)
_FACILITIES = {"primary": (4.5, 7.5, 2000, 2.3), "junior": (5.8, 10.2, 2500, 2.4), "senior": (6.5, 11.0, 3000, 2.4)}


def make_school_rows(n: int, seed: int = 0) -> list[dict[str, object]]:
    """``n`` valid school rows (dicts keyed by Chinese header), deterministic for ``seed``."""
    rng = random.Random(seed)
    types = list(_TYPE_WEIGHTS)
    weights = list(_TYPE_WEIGHTS.values())
    rows: list[dict[str, object]] = []
    for i in range(n):
        school_type = "小学" if i == 0 else rng.choices(types, weights)[0]
        rows.append(_school_row(rng, i, school_type))
    return rows


def _school_row(rng: random.Random, i: int, school_type: str) -> dict[str, object]:
    stages = SCHOOL_TYPE_STAGES[school_type]
    township = _TOWNSHIPS[i % len(_TOWNSHIPS)]
    suffix = {"小学": "小学", "初中": "中学", "九年一贯制": "九年一贯制学校", "十二年一贯制": "实验学校",
              "完全中学": "第一中学", "教学点": "教学点", "特殊教育学校": "特殊教育学校"}[school_type]
    row: dict[str, object] = {h: None for h in HEADERS}  # blank = 0 for stages the type lacks
    row["学校名称"] = f"{township}第{i + 1}{suffix}"
    row["学校类型"] = school_type
    row["学校标识码"] = str(2143000000 + i)
    row["所在乡镇"] = township
    row["城乡类别"] = rng.choice(("城区", "镇区", "乡村"))
    row["办学性质"] = "民办" if rng.random() < 0.05 else "公办"

    def around(target: float) -> float:
        # most schools near the standard, some clearly below it
        return target * rng.uniform(0.6, 1.8)

    students: dict[str, int] = {}
    for stage in stages:
        if stage == "senior":
            students[stage] = rng.randint(0, 40) if school_type == "特殊教育学校" else rng.randint(400, 1500)
            row["高中在校生数"] = students[stage]
            continue
        (low, high), qualified, backbone, pe_art = _PER_STAGE[stage]
        if school_type == "教学点":
            low, high = 12, 120  # some under 50 pupils: left out of the assessment
        if school_type == "特殊教育学校":
            low, high = 40, 160
        count = rng.randint(low, high)
        students[stage] = count
        name = "小学" if stage == "primary" else "初中"
        row[f"{name}在校生数"] = count
        row[f"{name}高于规定学历教师数"] = max(1, round(around(qualified) * count / 100))
        row[f"{name}县级以上骨干教师数"] = round(around(backbone) * count / 100)
        row[f"{name}体育艺术专任教师数"] = round(around(pe_art) * count / 100)
        classes = max(1, round(count / rng.uniform(30, 48)))
        row[f"{name}班级数"] = classes
        row[f"{name}最大班额"] = min(count, round(count / classes * rng.uniform(1.0, 1.25)))
    if school_type == "九年一贯制":
        # schools write 0 for a stage they lack as often as they leave it blank: both mean 0
        row["高中在校生数"] = rng.choice((None, 0))

    teaching = sum(around(_FACILITIES[s][0]) * c for s, c in students.items())
    indoor = sum(c for c in students.values()) * rng.uniform(0.0, 0.6)
    sports = sum(around(_FACILITIES[s][1]) * c for s, c in students.items())
    equipment = sum(around(_FACILITIES[s][2]) * c for s, c in students.items()) / 10_000  # 万元
    rooms = sum(around(_FACILITIES[s][3]) * c / 100 for s, c in students.items())
    row["教学及辅助用房面积"] = round(teaching + indoor, 1)
    row["室内体育用房面积"] = round(indoor, 1)
    row["体育运动场馆面积"] = round(sports, 1)
    row["教学仪器设备值（万元）"] = round(equipment, 2)
    row["网络多媒体教室数"] = max(1, round(rooms))
    if "primary" in stages and rng.random() < 0.15:
        row["附设幼儿班人数"] = rng.randint(15, 90)
    classes_total = sum(v for k, v in row.items() if k.endswith("班级数") and isinstance(v, int))
    row["音乐专用教室数"] = max(0, round(classes_total / 12 * rng.uniform(0.5, 1.3)))
    row["音乐专用教室最小面积"] = round(rng.uniform(60, 120), 1) if row["音乐专用教室数"] else None
    row["美术专用教室数"] = max(0, round(classes_total / 12 * rng.uniform(0.5, 1.3)))
    row["美术专用教室最小面积"] = round(rng.uniform(55, 110), 1) if row["美术专用教室数"] else None
    row["建校年份"] = rng.randint(1950, 2022)
    row["随迁子女占比"] = round(rng.uniform(0, 0.6), 3)
    total = sum(students.values())
    row["是否农村小规模学校"] = "是" if row["城乡类别"] == "乡村" and total < 100 else "否"
    return row


def _headers(rows: Sequence[dict[str, object]]) -> list[str]:
    headers: list[str] = []
    for row in rows:
        headers += [h for h in row if h not in headers]
    return headers or list(HEADERS)


def write_xlsx(path: str | Path, rows: Sequence[dict[str, object]], *, sheet: str = "学校",
               headers: Sequence[str] | None = None) -> Path:
    """Write rows (keyed by header) as an .xlsx sheet: header row 1, one school per row."""
    path = Path(path)
    headers = list(headers) if headers is not None else _headers(rows)
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(sheet)
    ws.append(headers)
    for row in rows:
        ws.append([row.get(h) for h in headers])
    wb.save(path)
    return path


def write_csv(path: str | Path, rows: Sequence[dict[str, object]], *, encoding: str = "utf-8",
              headers: Sequence[str] | None = None) -> Path:
    """Write rows as CSV (``encoding="utf-8-sig"`` for Excel's BOM, "gbk" for the wrong kind)."""
    path = Path(path)
    headers = list(headers) if headers is not None else _headers(rows)
    with path.open("w", encoding=encoding, newline="") as f:
        writer = csv.writer(f)
        writer.writerow(headers)
        for row in rows:
            writer.writerow(["" if row.get(h) is None else row.get(h) for h in headers])
    return path
