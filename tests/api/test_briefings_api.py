"""调度通报 through the REST API: the list, one by number or week with its stored figures, the
Word file, and the 404s and 403s."""

from __future__ import annotations

import datetime as dt
import io
from urllib.parse import quote

import pytest
from docx import Document

from tracker.briefings.compute import iso_week_of, parse_iso_week, previous_week
from tracker.briefings.service import (
    attach_documents,
    briefing_data,
    get_briefing,
    issue_briefing,
)
from tracker.calendar import CHINA
from tracker.db import session_scope
from tracker.org.models import Campaign

MINIMAL_PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"


def stored_briefing(engine, campaign_id: int, week: str | None = None, *, pdf: bytes | None = None) -> tuple[int, str]:
    """Issue the week's briefing (last week by default), render its Word file (no PDF: LibreOffice
    is not needed) and keep it; ``pdf`` bytes are kept as its PDF when given. Returns (期数, week)."""
    from notifications.briefing import render_briefing

    week = week or previous_week()
    existed_since(engine, campaign_id, parse_iso_week(week)[0])
    with session_scope(engine) as session:
        briefing = issue_briefing(session, session.get(Campaign, campaign_id), week)
        rendered = render_briefing(briefing_data(briefing), pdf=False)
        attach_documents(session, briefing, docx=rendered.docx, pdf=pdf)
        return briefing.number, briefing.iso_week


def existed_since(engine, campaign_id: int, monday: dt.date) -> None:
    """The test campaign is created now; a briefing is only for weeks since the campaign's first
    (its 期数 count from there), so date its creation back to ``monday`` where it is later."""
    start = dt.datetime.combine(monday, dt.time(0, 0), tzinfo=CHINA)
    with session_scope(engine) as session:
        campaign = session.get(Campaign, campaign_id)
        if campaign.created_at > start:
            campaign.created_at = start


@pytest.fixture
def two_briefings(engine, api_world):
    """Last week's (第 2 期, with a PDF) and the week before's (第 1 期, Word only): the campaign
    has existed since the week before last week."""
    last = previous_week()
    before = iso_week_of(parse_iso_week(last)[0] - dt.timedelta(days=7))
    existed_since(engine, api_world.world.campaign.id, parse_iso_week(before)[0])
    return (stored_briefing(engine, api_world.world.campaign.id, last, pdf=MINIMAL_PDF),
            stored_briefing(engine, api_world.world.campaign.id, before))


def test_the_list_is_newest_first_without_file_contents(client, api_world, headers, two_briefings):
    (first, first_week), (second, second_week) = two_briefings
    r = client.get(f"/api/v1/campaigns/{api_world.code}/briefings", headers=headers["office"])
    assert r.status_code == 200, r.text
    items = r.json()
    assert [(b["number"], b["iso_week"]) for b in items] == [(first, first_week), (second, second_week)]
    assert (first, second) == (2, 1)
    assert [(b["has_docx"], b["has_pdf"]) for b in items] == [(True, True), (True, False)]
    assert not {"docx", "pdf", "content", "data"} & set(items[0])
    assert items[0]["period_start"] < items[0]["period_end"] and items[0]["issued_on"]


def test_one_briefing_by_number_and_by_week_has_its_stored_figures(client, engine, api_world, headers,
                                                                   two_briefings):
    (first, first_week), _ = two_briefings
    base = f"/api/v1/campaigns/{api_world.code}/briefings"
    by_number = client.get(f"{base}/{first}", headers=headers["reviewer"])
    assert by_number.status_code == 200, by_number.text
    body = by_number.json()
    assert body["number"] == first and body["iso_week"] == first_week and body["has_pdf"] is True
    assert body["data"]["number"] == first and body["data"]["iso_week"] == first_week
    with session_scope(engine) as session:  # the figures as issued, not recomputed
        stored = get_briefing(session, session.get(Campaign, api_world.world.campaign.id), first)
        assert body["data"] == briefing_data(stored).model_dump(mode="json")
    assert body["data"]["campaign_code"] == api_world.code and "overall" in body["data"]
    by_week = client.get(f"{base}/{first_week.lower()}", headers=headers["dept_a"])
    assert by_week.status_code == 200, by_week.text
    assert by_week.json() == body


def test_the_word_file_downloads_and_opens(client, api_world, headers, two_briefings):
    (first, first_week), _ = two_briefings
    r = client.get(f"/api/v1/campaigns/{api_world.code}/briefings/{first}/docx", headers=headers["dept_b"])
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("application/vnd.openxmlformats-officedocument")
    name = f"示例县优质均衡创建调度通报第{first}期（{first_week}）.docx"
    assert f"filename*=UTF-8''{quote(name, safe='')}" in r.headers["content-disposition"]
    doc = Document(io.BytesIO(r.content))
    assert any(p.text == "关于示例县优质均衡创建工作进展情况的通报" for p in doc.paragraphs)
    pdf = client.get(f"/api/v1/campaigns/{api_world.code}/briefings/{first}/pdf", headers=headers["office"])
    assert pdf.status_code == 200 and pdf.content == MINIMAL_PDF
    assert pdf.headers["content-type"] == "application/pdf"


@pytest.mark.parametrize(("path", "message"), [
    ("/9", "没有第 9 期调度通报"),
    ("/2020-W10", "还没有 2020-W10 的调度通报"),
    ("/9/docx", "没有第 9 期调度通报"),
    ("/1/pdf", "第 1 期调度通报没有 PDF 文件"),
])
def test_what_is_not_there_is_a_chinese_404(client, api_world, headers, two_briefings, path, message):
    r = client.get(f"/api/v1/campaigns/{api_world.code}/briefings{path}", headers=headers["office"])
    assert r.status_code == 404, r.text
    assert message in r.json()["detail"]


def test_a_week_that_does_not_exist_is_a_chinese_422(client, api_world, headers, two_briefings):
    r = client.get(f"/api/v1/campaigns/{api_world.code}/briefings/2026-W60", headers=headers["office"])
    assert r.status_code == 422, r.text
    assert "2026 年没有第 60 周" in r.json()["detail"]


@pytest.mark.parametrize("path", ["", "/1", "/1/docx", "/1/pdf"])
def test_schools_may_not_read_briefings(client, api_world, headers, two_briefings, path):
    r = client.get(f"/api/v1/campaigns/{api_world.code}/briefings{path}", headers=headers["school"])
    assert r.status_code == 403, r.text
    assert "调度通报" in r.json()["detail"]


def test_another_campaigns_briefings_do_not_exist_for_a_user(client, api_world, headers, two_briefings):
    r = client.get(f"/api/v1/campaigns/{api_world.code}/briefings/1", headers=headers["outsider"])
    assert r.status_code == 404
    assert r.json()["detail"] == f"没有编号为「{api_world.code}」的创建工作"
