"""Formula injection (issue 11): every .xlsx writer, fed hostile names, writes them as text.

Each writer gets names that a spreadsheet would run: ``=HYPERLINK(…)`` as an evidence file name
(资料汇编's 目录.xlsx), ``=cmd|' /C calc'!A0`` as a school (表Ⅱ-2, 问题清单), ``+ - @``, a
leading tab or CR, and ``#N/A`` (openpyxl's error type). No cell of any sheet may be a formula,
in openpyxl's reading and in the raw XML (no ``<f>``); LibreOffice, converting to CSV, must print
the literal text (a live formula prints its result instead). A static check keeps new writers
on ``tracker.spreadsheets``.
"""

from __future__ import annotations

import ast
import csv
import datetime as dt
import io
import os
import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlmodel import Session

from tests.factories_db import build_world
from tests.tracker.assessment.schools import county, primary_school
from tests.tracker.evidence import samples
from tracker import spreadsheets
from tracker.assessment import assess
from tracker.assessment.report import write_official_xlsx
from tracker.campaigns import breakdown
from tracker.evidence.service import CATALOGUE_NAME, add_evidence, write_evidence_archive
from tracker.evidence.storage import store_bytes
from tracker.schooldata.template import write_template
from tracker.standards import load_standard

ROOT = Path(__file__).resolve().parents[2]
# what a spreadsheet would evaluate (or re-read as a formula when the cell is edited)
HOSTILE = [
    "=cmd|' /C calc'!A0",
    "=HYPERLINK(_evil.example_,_点我_)",  # what sanitize_filename leaves of =HYPERLINK("evil.example","点我")
    "+1+cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=2+2",
    "#N/A",
]


def _assessment_book(tmp_path: Path) -> Path:
    # every hostile name a school; half of them short of the threshold, so they reach 问题清单 too
    records = county(2, 1)
    for i, name in enumerate(HOSTILE):
        records.append(primary_school(name, 800, level=0.5 if i % 2 == 0 else 1.2, row=20 + i))
    result = assess(load_standard("national-2017"), records, as_of=dt.date(2024, 6, 1))
    return write_official_xlsx(result, tmp_path / "评估结果.xlsx")


def _catalogue_book(session: Session, tmp_path: Path) -> Path:
    world = build_world(session)
    for i, name in enumerate(HOSTILE):
        task = world.task(session, f"h{i}", unit="财政局", title=name)
        task.indicator = "6"
        session.add(task)
        session.flush()
        # the name as a browser sends it; the store keeps the sanitised display name
        raw = name.replace("_", '"') if name.startswith("=HYPERLINK") else name
        add_evidence(session, task, store_bytes(f"{raw}.pdf", samples.pdf() + f"% {i}\n".encode()),
                     uploaded_by=name)
    buffer = io.BytesIO()
    write_evidence_archive(session, world.campaign, buffer)
    with zipfile.ZipFile(buffer) as archive:
        path = tmp_path / CATALOGUE_NAME
        path.write_bytes(archive.read(CATALOGUE_NAME))
    return path


def _breakdown_book(session: Session, tmp_path: Path, monkeypatch) -> Path:
    rows = [breakdown.BreakdownRow(seq=i + 1, code=str(i + 1), indicator=name, status=name, measures=name,
                                   deadline=name, lead=name, cooperating=name) for i, name in enumerate(HOSTILE)]
    table = breakdown.Breakdown(title=HOSTILE[0], subtitle=HOSTILE[2],
                                sections=[breakdown.BreakdownSection(title=HOSTILE[1], note=HOSTILE[3], rows=rows)])
    monkeypatch.setattr(breakdown, "breakdown_table", lambda _session, _campaign: table)
    world = build_world(session, code="bd")
    return breakdown.write_breakdown_xlsx(session, world.campaign, tmp_path / "任务分解表.xlsx")


def _tasklist_book(session: Session, tmp_path: Path) -> Path:
    """The 任务清单 template (issue 12): the campaign's unit and phase names fill its dropdown lists."""
    from tracker.org.models import Department, Phase
    from tracker.tasks.tasklist import write_tasklist_template

    world = build_world(session, code="tl")
    for i, name in enumerate(HOSTILE):
        session.add(Department(campaign_id=world.campaign.id, name=name, short_name=f"h{i}"))
        session.add(Phase(campaign_id=world.campaign.id, code=f"h{i}", name=name, ordinal=10 + i))
    session.flush()
    return write_tasklist_template(session, world.campaign, tmp_path / "任务清单.xlsx")


def _task_list_book(session: Session, tmp_path: Path) -> Path:
    """The task list's export (issue 12 §8): hostile titles, measures and unit names."""
    from tracker.accounts.service import create_user
    from tracker.accounts.task_export import task_list_workbook
    from tracker.accounts.task_list import TaskFilters

    world = build_world(session, code="tx")
    for i, name in enumerate(HOSTILE):
        task = world.task(session, f"t{i}", unit="财政局", title=name)
        task.indicator = name[:32]
        session.add(task)
    world.departments["财政局"].name = HOSTILE[0]
    session.flush()
    office = create_user(session, world.campaign, {"username": "tx-office", "password": "correct-horse-9",
                                                   "role": "office", "name": "办公室"})
    path = tmp_path / "任务清单.xlsx"
    path.write_bytes(task_list_workbook(session, office, world.campaign.id, TaskFilters(), dt.date(2026, 12, 1)))
    return path


@pytest.fixture
def books(engine, tmp_path, monkeypatch) -> dict[str, Path]:
    """Every writer's workbook, written with hostile names where the writer takes any."""
    with Session(engine) as session:
        made = {
            "assessment": _assessment_book(tmp_path),
            "catalogue": _catalogue_book(session, tmp_path),
            "breakdown": _breakdown_book(session, tmp_path, monkeypatch),
            "tasklist": _tasklist_book(session, tmp_path),
            "task_list": _task_list_book(session, tmp_path),
        }
    made["template"] = write_template(tmp_path / "模板.xlsx")  # constant text only: no formula either
    return made


def _strings(path: Path) -> set[str]:
    wb = load_workbook(path)
    return {c.value for ws in wb.worksheets for row in ws.iter_rows() for c in row if isinstance(c.value, str)}


def test_no_writer_writes_a_formula(books):
    for what, path in books.items():
        wb = load_workbook(path)
        formulas = [f"{ws.title}!{c.coordinate}={c.value!r}" for ws in wb.worksheets for row in ws.iter_rows()
                    for c in row if c.data_type in ("f", "e")]
        assert formulas == [], what
        with zipfile.ZipFile(path) as archive:
            for name in archive.namelist():
                if name.startswith("xl/worksheets/"):
                    assert not re.search(rb"<(\w+:)?f[ >]", archive.read(name)), (what, name)
    for what in ("assessment", "catalogue", "breakdown", "tasklist"):
        wb = load_workbook(books[what])
        cells = {c.value: c for ws in wb.worksheets for row in ws.iter_rows() for c in row
                 if isinstance(c.value, str)}
        for name in HOSTILE:
            cell = next((cells[v] for v in cells if v == name or v == name + ".pdf"), None)
            assert cell is not None, (what, name)
            assert cell.data_type == "s"
            # Excel keeps a quote-prefixed cell text when someone edits it
            assert cell.quotePrefix == spreadsheets.is_formula_like(name), (what, name)


def test_the_school_names_reach_the_official_tables(books):
    wb = load_workbook(books["assessment"])
    schools = {c.value for c in wb["表Ⅱ-2"]["A"]}
    listed = {c.value for c in wb["问题清单"]["C"]}
    assert set(HOSTILE) <= schools
    assert set(HOSTILE[0::2]) <= listed  # the schools short of the thresholds


@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice (Calc) not installed")
def test_libreoffice_shows_the_text_not_a_result(books, tmp_path):
    out = tmp_path / "csv"
    # CSV of every sheet (the trailing -1), UTF-8 (76), formulas' results not their text
    filter_ = "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,false,false,false,-1"
    paths = [books["assessment"], books["catalogue"], books["breakdown"]]
    result = subprocess.run(
        ["soffice", f"-env:UserInstallation=file://{tmp_path}/lo-profile", "--headless", "--convert-to", filter_,
         "--outdir", str(out), *map(str, paths)],
        capture_output=True, text=True, timeout=180, env={**os.environ, "HOME": str(tmp_path)})
    written = sorted(out.glob("*.csv")) if out.exists() else []
    if not written and "could not be loaded" in result.stderr:
        pytest.skip("LibreOffice without Calc (libreoffice-calc-nogui)")
    assert written, result.stdout + result.stderr
    for path in paths:
        shown: set[str] = set()
        for sheet in out.glob(f"{path.stem}-*.csv"):
            with sheet.open(encoding="utf-8", newline="") as fh:
                shown |= {value for row in csv.reader(fh) for value in row}
        assert shown, path.name
        for name in HOSTILE:
            if path == books["assessment"] or name != "#N/A":
                assert name in shown or name + ".pdf" in shown, (path.name, name)


WRITER_FOLDERS = ("tracker", "api", "notifications", "junheng", "flows")


def test_every_writer_goes_through_tracker_spreadsheets():
    """Only tracker/spreadsheets.py makes or saves an openpyxl Workbook: a new writer that builds
    its own would skip the neutralising pass."""
    offenders = []
    for folder in WRITER_FOLDERS:
        for path in sorted((ROOT / folder).rglob("*.py")):
            if path == ROOT / "tracker" / "spreadsheets.py":
                continue
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in ast.walk(tree):
                if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("openpyxl"):
                    if any(alias.name == "Workbook" for alias in node.names):
                        offenders.append(f"{path.relative_to(ROOT)}:{node.lineno} imports Workbook")
                elif isinstance(node, ast.Attribute) and node.attr == "Workbook":
                    offenders.append(f"{path.relative_to(ROOT)}:{node.lineno} uses .Workbook")
                elif isinstance(node, ast.Import) and any(a.name.startswith("xlsxwriter") for a in node.names):
                    offenders.append(f"{path.relative_to(ROOT)}:{node.lineno} imports xlsxwriter")
    assert offenders == []


def test_the_pass_itself():
    wb = spreadsheets.new_workbook()
    ws = wb.active
    ws.append(["=1+1", "+1", "普通文字", 3, "#DIV/0!", None, "a=b"])
    assert ws["A1"].data_type == "f" and ws["E1"].data_type == "e"  # what openpyxl does unaided
    assert spreadsheets.neutralise(wb) == 2
    assert [ws.cell(1, c).data_type for c in range(1, 8)] == ["s", "s", "s", "n", "s", "n", "s"]
    assert [ws.cell(1, c).quotePrefix for c in range(1, 8)] == [True, True, False, False, False, False, False]
