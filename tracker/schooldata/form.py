"""A school's own data as a web form (issue 12 §8): one field per column of the sheet's contract
(``columns.COLUMNS``), pre-filled with the school's current row. What the school sends is turned
into a one-row UTF-8 CSV and goes through ``approval.receive_school_row`` like an uploaded sheet: the
same checks, the same problems by column, the same wait for the office. Nothing here validates on
its own, so the form and the sheet cannot drift apart."""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from dataclasses import dataclass

from tracker.schooldata.columns import COLUMNS, Column

FILENAME = "网页填报.csv"  # the name the submission records for a form
LOCKED = ("name", "school_code")  # who the row is: the school does not change it here
GROUPS = (("学校", ("name", "school_type", "school_code", "township", "urban_rural", "ownership")),
          ("在校生", ("primary_students", "junior_students", "senior_students", "kindergarten_students")),
          ("教师", ("primary_qualified_teachers", "junior_qualified_teachers", "primary_backbone_teachers",
                    "junior_backbone_teachers", "primary_pe_art_teachers", "junior_pe_art_teachers")),
          ("办学条件", ("teaching_area", "indoor_sports_area", "sports_area", "equipment_value", "multimedia_rooms")),
          ("班级与专用教室", ("primary_classes", "junior_classes", "primary_max_class_size", "junior_max_class_size",
                        "music_rooms", "music_room_min_area", "art_rooms", "art_room_min_area")),
          ("其他", ("year_built", "migrant_share", "rural_small_school", "contact_name", "contact_email")))


@dataclass(frozen=True)
class FormField:
    column: Column
    value: str
    locked: bool
    problem: str = ""

    @property
    def name(self) -> str:
        return f"f_{self.column.attribute}"


def value_text(column: Column, value: object) -> str:
    """A stored figure as the school would type it: 120 not 120.0, 35% as 35, 是/否."""
    if value is None or value == "":
        return ""
    if column.kind == "bool":
        return "是" if value else "否"
    if column.kind == "share" and isinstance(value, (int, float)):
        return f"{value * 100:g}"
    if isinstance(value, float):
        return f"{value:.0f}" if value.is_integer() else f"{value:g}"
    return str(value)


def form_groups(data: Mapping[str, object] | None, *, name: str, key_code: str | None,
                typed: Mapping[str, str] | None = None,
                problems: Mapping[str, str] | None = None) -> list[tuple[str, list[FormField]]]:
    """The form's fields in groups: what the school typed (``typed``, by attribute) when the form
    comes back with problems, else its current row (``data``: SchoolRecord fields); the name and
    学校标识码 always the school's own."""
    by_attribute = {c.attribute: c for c in COLUMNS}
    groups = []
    for title, attributes in GROUPS:
        fields = []
        for attribute in attributes:
            column = by_attribute[attribute]
            if attribute == "name":
                value = name
            elif attribute == "school_code":
                value = key_code or ""
            elif typed is not None:
                value = typed.get(attribute, "")
            else:
                value = value_text(column, (data or {}).get(attribute))
            fields.append(FormField(column, value, attribute in LOCKED, (problems or {}).get(column.header, "")))
        groups.append((title, fields))
    return groups


def sheet_from_form(values: Mapping[str, str], extra: Mapping[str, object] | None = None) -> bytes:
    """One row of the sheet (every column of the contract, then the row's extra columns as they
    were) as UTF-8 CSV, from the form's values by attribute."""
    headers = [c.header for c in COLUMNS]
    row = [(values.get(c.attribute) or "").strip() for c in COLUMNS]
    for header, value in (extra or {}).items():
        if header not in headers:
            headers.append(str(header))
            row.append("" if value is None else str(value))
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(headers)
    writer.writerow(row)
    return buffer.getvalue().encode("utf-8")
