"""Assessment speed: 200,000 synthetic school sections (compute only) and a 300-school county end to end.

    uv run python benchmarks/assess.py

1. The country's scale: 200,000 sections as NumPy columns go through ``compute_resource``, the
   same array path ``assess()`` uses: per-section values of indicators 1–7, the per-school rule
   (6 of 7, the 7th ≥ 85 %), blocking marks, county values and the enrolment-weighted CVs per
   indicator and stage. Prints the best and median of several runs, and the peak memory traced
   during one run (tracemalloc; NumPy reports its buffers to it).
2. A county: a 300-school .xlsx (tests/factories.py) read, validated, assessed (incl. per-school
   checks and shortfalls), turned into the JSON contract and written as the official xlsx tables
   (what ``junheng assess --json --xlsx`` does). Prints seconds and peak memory.

Aims (issue 2): < 0.1 s for the 200,000 sections, < 2 s for the county.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.factories import make_school_rows, write_xlsx  # noqa: E402
from tracker.assessment import assess  # noqa: E402
from tracker.assessment.report import to_json, write_official_xlsx  # noqa: E402
from tracker.assessment.resource import NUMERIC_FIELDS, SectionTable, compute_resource  # noqa: E402
from tracker.schooldata.sheet import read_school_sheet  # noqa: E402
from tracker.standards import load_standard  # noqa: E402

SECTIONS = 200_000
COUNTY_SCHOOLS = 300
REPEATS = 15


def synthetic_table(n: int, seed: int = 0) -> SectionTable:
    """Sections scattered around the national thresholds (≈ 60 % primary)."""
    rng = np.random.default_rng(seed)
    stage = (rng.random(n) < 0.4).astype(np.intp)
    students = rng.integers(50, 2500, n).astype(float)
    around = lambda per_pupil: per_pupil * students * rng.uniform(0.6, 1.8, n)  # noqa: E731
    columns = {
        "students": students,
        "qualified_teachers": np.round(around(np.where(stage == 0, 0.042, 0.053))),
        "backbone_teachers": np.round(around(0.010)),
        "pe_art_teachers": np.round(around(0.009)),
        "teaching_area": around(np.where(stage == 0, 4.5, 5.8)),
        "indoor_sports_area": students * rng.uniform(0, 0.5, n),
        "sports_area": around(np.where(stage == 0, 7.5, 10.2)),
        "equipment_value": around(np.where(stage == 0, 0.2, 0.25)),  # 万元
        "multimedia_rooms": np.round(around(np.where(stage == 0, 0.023, 0.024))),
    }
    columns["teaching_area"] += columns["indoor_sports_area"]
    assert set(columns) == set(NUMERIC_FIELDS)
    return SectionTable(stage, columns)


def country_scale() -> None:
    standard = load_standard("national-2017")
    table = synthetic_table(SECTIONS)
    compute_resource(standard, table)  # warm-up
    times, cpu = [], []
    for _ in range(REPEATS):
        start, start_cpu = time.perf_counter(), time.process_time()
        arrays = compute_resource(standard, table)
        times.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    tracemalloc.start()
    compute_resource(standard, table)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(f"{SECTIONS:,} sections, compute_resource (values, per-school rule, county values, CVs):")
    print(f"  best {min(times):.4f} s, median {statistics.median(times):.4f} s over {REPEATS} runs "
          f"(CPU time best {min(cpu):.4f} s); peak traced memory {peak / 2**20:.1f} MB")
    print(f"  schools ok: {int(arrays.school_ok.sum()):,}; primary CV of indicator 1: {arrays.cv[0, 0]:.3f}")


def county_end_to_end() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = write_xlsx(Path(tmp) / "county.xlsx", make_school_rows(COUNTY_SCHOOLS, seed=2024))
        load_standard("national-2017")  # the standard is loaded once per process and cached
        times = []
        for i in range(3):
            if i == 2:
                tracemalloc.start()
            start = time.perf_counter()
            records = read_school_sheet(path)
            read = time.perf_counter()
            result = assess("national-2017", records)
            assessed = time.perf_counter()
            text = json.dumps(to_json(result), ensure_ascii=False)
            json_done = time.perf_counter()
            write_official_xlsx(result, Path(tmp) / f"tables-{i}.xlsx")
            done = time.perf_counter()
            if i == 2:
                _, peak = tracemalloc.get_traced_memory()
                tracemalloc.stop()
            else:
                times.append((done - start, read - start, assessed - read, json_done - assessed, done - json_done))
    best = min(times)
    print(f"{COUNTY_SCHOOLS}-school county from .xlsx (read → assess → JSON → official tables .xlsx):")
    print(f"  {best[0]:.3f} s end to end (read {best[1]:.3f} s, assess {best[2]:.3f} s, JSON {best[3]:.3f} s, "
          f"tables {best[4]:.3f} s); peak traced memory {peak / 2**20:.1f} MB")
    sections = sum(len(s.schools) for s in result.stages.values())
    print(f"  {len(records)} schools → {sections} sections, {len(result.shortfalls)} shortfalls, "
          f"JSON {len(text.encode()) / 1024:.0f} KB")


if __name__ == "__main__":
    # timings on a shared machine vary with its load; print it so figures can be compared
    print(f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")
    country_scale()
    county_end_to_end()
