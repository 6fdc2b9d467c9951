"""Tagging evidence with a checklist item, the required items still missing (资料汇编, the
function phase flows call), the reminders near a review and the briefing's paragraph."""

from __future__ import annotations

import datetime as dt
import io
import zipfile

import pytest
import time_machine
from openpyxl import load_workbook
from sqlmodel import Session, select

from notifications.compose import compose_pending
from notifications.briefing.text import materials_paragraph
from tests.factories_db import build_world
from tests.tracker.evidence import samples
from tests.tracker.materials.test_checklist import GOOD
from tracker.briefings.compute import compute_briefing
from tracker.calendar import WorkingDayCalendar
from tracker.evidence.service import CATALOGUE_COLUMNS, CATALOGUE_NAME, CHECK_SHEET, add_evidence, write_evidence_archive
from tracker.evidence.storage import store_bytes
from tracker.materials.notices import queue_materials_notices, reminder_point
from tracker.materials.queries import missing_required_items
from tracker.materials.service import MaterialTagError, import_checklist, tag_evidence
from tracker.notices.models import NoticeItem, Rung
from tracker.reviews.models import Review
from tracker.settings import get_settings

NOW = dt.datetime(2026, 12, 9, 2, 0, tzinfo=dt.timezone.utc)  # Wednesday 10:00 in Beijing


def _setup(session: Session, tmp_path):
    world = build_world(session)
    path = tmp_path / "清单.yaml"
    path.write_text(GOOD, encoding="utf-8")
    import_checklist(session, world.campaign, path, "王主任")
    six = world.task(session, "a", unit="财政局", title="补足教学仪器设备")
    six.indicator = "6"
    five = world.task(session, "b", unit="住建局", title="扩建运动场")
    five.indicator = "5"
    session.add_all([six, five])
    session.flush()
    return world, six, five


@time_machine.travel(NOW, tick=False)
def test_tagging_decides_which_required_items_are_missing(engine, tmp_path):
    with Session(engine) as session:
        world, six, five = _setup(session, tmp_path)
        # before any file: both required items missing, with the units the standard names
        # (this world has no plan) — 5 before 6, the standard's order
        missing = missing_required_items(session, world.campaign.id)
        assert [(m.indicator, m.item_id) for m in missing] == [("5", "5-1"), ("6", "6-1")]
        assert missing[0].units[:3] == ["教育局", "发改局", "财政局"]

        added = add_evidence(session, six, store_bytes("资产账册.pdf", samples.pdf()), uploaded_by="李科长")
        untagged = missing_required_items(session, world.campaign.id)
        assert [m.item_id for m in untagged] == ["5-1", "6-1"]  # a file counts only once tagged
        with pytest.raises(MaterialTagError, match="资料项 5-1「运动场馆面积统计表」属于指标 5，而任务 #.* 对应指标 6"):
            tag_evidence(session, added.evidence, "5-1", "李科长")
        with pytest.raises(MaterialTagError, match="没有编号为「9-9」的资料项"):
            tag_evidence(session, added.evidence, "9-9", "李科长")
        tag_evidence(session, added.evidence, "6-1", "李科长")
        assert [m.item_id for m in missing_required_items(session, world.campaign.id)] == ["5-1"]
        assert missing_required_items(session, world.campaign.id, indicator="6") == []
        # as of a moment before the tag, the item was still missing (the briefing's cutoff)
        before = missing_required_items(session, world.campaign.id, cutoff=dt.datetime(2000, 1, 1, tzinfo=dt.timezone.utc))
        assert [m.item_id for m in before] == ["5-1", "6-1"]

        # 资料汇编: the catalogue names each file's item; 资料清单核对 lists every item, 已有 or 缺
        buffer = io.BytesIO()
        archive = write_evidence_archive(session, world.campaign, buffer)
        assert archive.missing_required == ["指标 5 5-1 运动场馆面积统计表"]
        with zipfile.ZipFile(buffer) as z:
            book = load_workbook(io.BytesIO(z.read(CATALOGUE_NAME)))
        catalogue = list(book.worksheets[0].iter_rows(values_only=True))
        assert catalogue[1][-1] == CATALOGUE_COLUMNS[-1] == "资料项" and catalogue[2][-1] == "6-1"
        check = [r for r in book[CHECK_SHEET].iter_rows(min_row=3, values_only=True)]
        assert [(r[2], r[4], r[5], r[6]) for r in check] == [
            ("5-1", "必备", 0, "缺"), ("6-1", "必备", 1, "已有"), ("6-2", "可选", 0, "—")]

        tag_evidence(session, added.evidence, "", "李科长")  # untagged: missing again
        assert [m.item_id for m in missing_required_items(session, world.campaign.id)] == ["5-1", "6-1"]


def test_reminder_points():
    assert [reminder_point(d, 10) for d in (11, 10, 9, 6, 5, 4, 3, 2, 1, 0)] == [-1, 10, 10, 10, 5, 5, 3, 3, 1, 0]


def _review(session, world, held_on: dt.date, level: str = "市级") -> Review:
    review = Review(campaign_id=world.campaign.id, phase_id=world.phases["review_city"].id, level=level,
                    held_on=held_on)
    session.add(review)
    session.flush()
    return review


CAL = WorkingDayCalendar()


@time_machine.travel(NOW, tick=False)
def test_missing_items_near_a_review_go_to_the_responsible_units_once(engine, tmp_path):
    with Session(engine) as session:
        world, six, _five = _setup(session, tmp_path)
        added = add_evidence(session, six, store_bytes("资产账册.pdf", samples.pdf()), uploaded_by="李科长")
        tag_evidence(session, added.evidence, "6-1", "李科长")
        _review(session, world, dt.date(2027, 3, 1))  # far off: nothing owed
        assert queue_materials_notices(session, NOW, calendar=CAL, window=10) == 0
        # Wed 9 Dec → Wed 16 Dec: 5 working days
        _review(session, world, dt.date(2026, 12, 16))
        assert queue_materials_notices(session, NOW, calendar=CAL, window=10) == 2
        items = session.exec(select(NoticeItem).where(NoticeItem.rung == Rung.materials.value)
                             .order_by(NoticeItem.id)).all()
        # 5-1 is missing: indicator 5's units of this campaign are 财政局 and 住建局 (教育局, 发改局 … are
        # not units here); 6-1 has its file, so nobody hears of indicator 6
        assert [(i.recipient_name, i.occurrence) for i in items] == [("李科长", 5), ("张局长", 5)]
        assert all(i.payload["items"] == [{"indicator": "5", "id": "5-1", "title": "运动场馆面积统计表"}] for i in items)
        assert items[0].payload["unit"] == "财政局" and items[1].payload["unit"] == "住建局"
        assert queue_materials_notices(session, NOW, calendar=CAL, window=10) == 0  # never twice for one point
        messages = compose_pending(session, NOW + dt.timedelta(hours=1))
        mine = [m for m in messages if m.recipient_name == "张局长"]
        assert len(mine) == 1
        assert mine[0].subject == "【均衡督办】迎检资料缺项提醒：迎接市级，必备资料尚缺 1 项"
        assert "还剩 5 个工作日" in mine[0].body_text
        assert "指标 5 · 5-1 运动场馆面积统计表" in mine[0].body_text and "12月16日" in mine[0].body_text
        assert "5-1 运动场馆面积统计表" in mine[0].body_html
        later = NOW + dt.timedelta(days=1)  # Thursday: 4 working days, the same point (5)
        assert queue_materials_notices(session, later, calendar=CAL, window=10) == 0
        assert queue_materials_notices(session, NOW + dt.timedelta(days=5), calendar=CAL, window=10) == 2  # Monday: 3



@time_machine.travel(NOW, tick=False)
def test_the_briefing_lists_the_missing_items_before_a_review(engine, tmp_path, monkeypatch):
    with Session(engine) as session:
        world, _six, _five = _setup(session, tmp_path)
        session.commit()
        _review(session, world, dt.date(2026, 12, 18), level="市级")
        data = compute_briefing(session, world.campaign, "2026-W50", now=dt.datetime(2026, 12, 14, 1, tzinfo=dt.timezone.utc),
                                calendar=CAL)
        assert data.materials is not None
        assert data.materials.working_days_left == 5  # Sun 13 Dec → Fri 18 Dec
        assert [(r.indicator, r.item_id) for r in data.materials.missing] == [("5", "5-1"), ("6", "6-1")]
        text = materials_paragraph(data)
        assert text.startswith("2026年12月18日将迎接市级（还有5个工作日），资料清单中尚有2项必备资料没有佐证材料文件")
        # no review within the window (3 working days from the period's end): no paragraph
        monkeypatch.setenv("JUNHENG_MATERIALS_REVIEW_WINDOW_DAYS", "3")
        get_settings.cache_clear()
        far = compute_briefing(session, world.campaign, "2026-W49", now=dt.datetime(2026, 12, 14, 1, tzinfo=dt.timezone.utc),
                               calendar=CAL)
        get_settings.cache_clear()
        assert far.materials is None and materials_paragraph(far) is None
