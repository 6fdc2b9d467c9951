from __future__ import annotations

import io
import zipfile

from openpyxl import load_workbook
from sqlmodel import Session, select

from tests.factories_db import build_world
from tests.tracker.evidence import samples
from tracker.events.models import Event
from tracker.evidence.service import (
    CATALOGUE_COLUMNS,
    CATALOGUE_NAME,
    add_evidence,
    task_evidence,
    write_evidence_archive,
)
from tracker.evidence.storage import store_bytes, stored_path


def _world(session: Session):
    world = build_world(session)
    a = world.task(session, "a", unit="财政局", title="补足教学仪器设备")
    a.indicator = "6"
    b = world.task(session, "b", unit="住建局", title="扩建运动场")
    b.indicator = "5"
    plan = world.task(session, "p", unit="财政局", title="落实创建经费")
    session.add_all([a, b, plan])
    session.flush()
    return world, a, b, plan


def test_adding_records_one_event_and_the_same_file_once(engine):
    with Session(engine) as session:
        world, a, _b, _p = _world(session)
        stored = store_bytes("采购合同.pdf", samples.pdf())
        first = add_evidence(session, a, stored, uploaded_by="李科长")
        again = add_evidence(session, a, store_bytes("合同副本.pdf", samples.pdf()), uploaded_by="李科长")
        assert first.created and not again.created
        assert again.evidence.id == first.evidence.id
        assert [e.filename for e in task_evidence(session, a.id)] == ["采购合同.pdf"]
        events = session.exec(select(Event).where(Event.type == "evidence.added")).all()
        assert len(events) == 1
        assert events[0].payload["filename"] == "采购合同.pdf" and events[0].task_id == a.id


def test_archive_holds_the_indicators_files_and_a_catalogue(engine):
    with Session(engine) as session:
        world, a, b, plan = _world(session)
        pdf = store_bytes("采购合同.pdf", samples.pdf())
        png = store_bytes("验收照片.png", samples.png())
        other = store_bytes("采购合同.pdf", samples.pdf() + "% 第二版\n".encode())  # same name, other bytes
        add_evidence(session, a, pdf, uploaded_by="李科长")
        add_evidence(session, a, png, uploaded_by="李科长")
        add_evidence(session, b, store_bytes("规划图.xlsx", samples.xlsx()), uploaded_by="张局长")
        add_evidence(session, plan, store_bytes("经费文件.docx", samples.docx()), uploaded_by="李科长")
        add_evidence(session, a, other, uploaded_by="王主任")

        buffer = io.BytesIO()
        archive = write_evidence_archive(session, world.campaign, buffer, indicator="6")
        assert archive.missing == []
        with zipfile.ZipFile(buffer) as z:
            names = z.namelist()
            assert names[0] == CATALOGUE_NAME
            files = [n for n in names if n != CATALOGUE_NAME]
            assert len(files) == 3
            assert all(n.startswith("指标6_生均教学仪器设备值/任务") for n in files)
            assert any(n.endswith("/采购合同（2）.pdf") for n in files)  # two files named alike both kept
            member = next(n for n in files if n.endswith("/验收照片.png"))
            assert z.read(member) == samples.png()
            sheet = load_workbook(io.BytesIO(z.read(CATALOGUE_NAME))).active
            rows = list(sheet.iter_rows(values_only=True))
        assert list(rows[1]) == CATALOGUE_COLUMNS
        body = rows[2:]
        assert len(body) == 3
        assert {r[1] for r in body} == {"6"}
        assert {r[6] for r in body} == {"财政局"}
        assert {r[7] for r in body} == {"采购合同.pdf", "验收照片.png"}
        assert {r[8] for r in body} == set(files)

        everything = io.BytesIO()
        write_evidence_archive(session, world.campaign, everything)
        with zipfile.ZipFile(everything) as z:
            folders = {n.split("/")[0] for n in z.namelist() if n != CATALOGUE_NAME}
        assert folders == {"指标5_生均体育运动场馆面积", "指标6_生均教学仪器设备值", "其他"}


def test_a_file_gone_from_disk_is_listed_not_packed(engine):
    with Session(engine) as session:
        world, a, _b, _p = _world(session)
        stored = store_bytes("合同.pdf", samples.pdf())
        add_evidence(session, a, stored, uploaded_by="李科长")
        stored_path(stored.sha256).unlink()
        buffer = io.BytesIO()
        archive = write_evidence_archive(session, world.campaign, buffer, indicator="6")
        assert [e.filename for e in archive.missing] == ["合同.pdf"]
        with zipfile.ZipFile(buffer) as z:
            assert z.namelist() == [CATALOGUE_NAME]
            rows = list(load_workbook(io.BytesIO(z.read(CATALOGUE_NAME))).active.iter_rows(values_only=True))
        assert rows[2][8] == "（文件缺失，未收入）"
