"""考核 over the API: who sees which rows, the .xlsx, and the office's 通报 (recorded, as .docx)."""

from __future__ import annotations

import io

import pytest
from docx import Document
from openpyxl import load_workbook
from sqlmodel import select

from tracker.db import session_scope
from tracker.events.models import Event

PERIOD = {"from": "2026-12-01", "to": "2026-12-31"}  # the world's tasks are due 2026-12-18


def _url(api_world, tail: str = "") -> str:
    return f"/api/v1/campaigns/{api_world.code}/appraisal{tail}"


@pytest.mark.parametrize(("role", "names"), [
    ("office", ["财政局", "住建局", "城关镇", "城关一小"]),
    ("reviewer", ["财政局", "住建局", "城关镇", "城关一小"]),
    ("dept_a", ["财政局"]),
    ("dept_b", ["住建局"]),
    ("school", ["城关一小"]),
])
def test_each_role_sees_the_rows_it_may(client, api_world, headers, role, names):
    answer = client.get(_url(api_world), params=PERIOD, headers=headers[role])
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert sorted(u["name"] for u in body["units"]) == sorted(names)
    assert (body["start"], body["end"]) == ("2026-12-01", "2026-12-31")
    due = {u["name"]: u["due"] for u in body["units"]}
    assert all(due[n] == (0 if n == "城关镇" else 1) for n in names)
    assert body["rule"]["rank_by"] == "on_time_rate" and body["rule"]["full_marks"] == 100


def test_a_bad_period_is_a_chinese_422(client, api_world, headers):
    answer = client.get(_url(api_world), params={"from": "2026-12-31", "to": "2026-12-01"}, headers=headers["office"])
    assert answer.status_code == 422 and "晚于结束日期" in answer.json()["detail"]
    answer = client.get(_url(api_world), params={"from": "昨天"}, headers=headers["office"])
    assert answer.status_code == 422 and "不是有效日期" in answer.json()["detail"]


def test_the_xlsx_holds_every_unit_and_the_rule(client, api_world, headers):
    answer = client.get(_url(api_world, "/xlsx"), params=PERIOD, headers=headers["reviewer"])
    assert answer.status_code == 200
    assert "attachment" in answer.headers["content-disposition"]
    wb = load_workbook(io.BytesIO(answer.content))
    assert wb.sheetnames == ["责任单位", "学校", "考核办法"]
    names = [row[1] for row in wb["责任单位"].iter_rows(min_row=4, values_only=True)]
    assert sorted(names) == ["住建局", "城关镇", "财政局"]
    assert wb["学校"]["B4"].value == "城关一小"


def test_the_office_issues_a_notice_and_gets_its_docx(client, engine, api_world, headers):
    answer = client.post(_url(api_world, "/notices"), headers=headers["office"],
                         json={"kind": "表扬", "units": ["住建", "城关一小"], "reason": "提前完成运动场扩建。"})
    assert answer.status_code == 200, answer.text
    text = "\n".join(p.text for p in Document(io.BytesIO(answer.content)).paragraphs)
    assert "关于对住建局等单位予以通报表扬的通报" in text and "提前完成运动场扩建。" in text
    with session_scope(engine) as session:
        event = session.exec(select(Event).where(Event.type == "appraisal.notice_issued")).one()
        assert event.actor == "王主任" and event.payload["kind"] == "表扬"


@pytest.mark.parametrize(("body", "message"), [
    ({"kind": "表扬", "units": ["不存在的局"], "reason": "好"}, "没有单位或学校"),
    ({"kind": "奖励", "units": ["财政局"], "reason": "好"}, "请求有误"),
    ({"kind": "批评", "units": [], "reason": "逾期"}, "请求有误"),
])
def test_a_wrong_notice_is_refused_and_nothing_is_recorded(client, engine, api_world, headers, body, message):
    answer = client.post(_url(api_world, "/notices"), headers=headers["office"], json=body)
    assert answer.status_code == 422 and message in answer.json()["detail"]
    with session_scope(engine) as session:
        assert session.exec(select(Event).where(Event.type == "appraisal.notice_issued")).first() is None
