"""申报材料 page (issue 13 §1–2): office only; the office's text is kept and merged; downloads."""

from __future__ import annotations

from sqlmodel import Session, select

from tests.api.test_pages import log_in
from tracker.reports.models import ReportText

ROLES = ("office", "dept_a", "dept_b", "school", "reviewer")


def test_only_the_office_sees_and_writes_the_report_texts(client, api_world, engine):
    for role in ROLES:
        token = log_in(client, role)
        expected = 200 if role == "office" else 403
        assert client.get("/reports").status_code == expected, role
        r = client.post("/reports/text/主要做法", data={"csrf_token": token, "text": f"{role} 写的"},
                        follow_redirects=False)
        assert r.status_code == (303 if role == "office" else 403), role
        if role != "office":
            assert client.get("/reports/申报表.xlsx").status_code == 403, role
            assert client.get("/reports/自评报告.docx").status_code == 403, role
    with Session(engine) as session:
        assert [t.text for t in session.exec(select(ReportText))] == ["office 写的"]


def test_a_blank_text_is_refused_and_nothing_is_stored(client, api_world, engine):
    token = log_in(client, "office")
    r = client.post("/reports/text/主要做法", data={"csrf_token": token, "text": "   "})
    assert r.status_code == 200 and "「主要做法」的文字不能为空" in r.text
    r = client.post("/reports/text/结束语", data={"csrf_token": token, "text": "好"})
    assert "没有「结束语」这一部分" in r.text
    with Session(engine) as session:
        assert session.exec(select(ReportText)).all() == []


def test_the_saved_text_shows_on_the_page(client, api_world):
    token = log_in(client, "office")
    client.post("/reports/text/主要做法", data={"csrf_token": token, "text": "一是高位推动。"})
    assert "一是高位推动。" in client.get("/reports").text
    assert client.get("/reports/自评报告.xlsx").status_code == 404


def test_the_api_keeps_a_text_and_refuses_a_blank_one(client, api_world, headers, engine):
    base = f"/api/v1/campaigns/{api_world.code}/report-texts"
    r = client.put(f"{base}/主要做法", json={"text": "一是高位推动。"}, headers=headers["office"])
    assert r.status_code == 200 and r.json()["filled"] and r.json()["text"] == "一是高位推动。"
    listed = {t["section"]: t for t in client.get(base, headers=headers["office"]).json()}
    assert listed["主要做法"]["filled"] and listed["自评结论"]["text"] == "【待填写】"
    assert client.put(f"{base}/主要做法", json={"text": " \u3000"}, headers=headers["office"]).status_code == 422
    r = client.put(f"{base}/结束语", json={"text": "好"}, headers=headers["office"])
    assert r.status_code == 422 and "没有「结束语」这一部分" in r.json()["detail"]
    with Session(engine) as session:
        assert [t.text for t in session.exec(select(ReportText))] == ["一是高位推动。"]
