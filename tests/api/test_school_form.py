"""A school's data form pre-filled with its current row (issue 12 §8): from the latest county data
holding it, or its own last submission when newer; sent through the sheet's checks (problems by
field, nothing stored) into a submission waiting for the office."""

from __future__ import annotations

import re

from sqlmodel import select

from tests.api.conftest import own_school_sheet
from tests.api.test_pages import log_in
from tracker.schooldata.models import DataSubmission, SchoolDataRow


def field(html: str, attribute: str) -> str:
    found = re.search(rf'name="f_{attribute}" value="([^"]*)"', html)
    assert found, attribute
    return found.group(1)


def import_county(client, token, tmp_path):
    """The office imports a county sheet holding 城关一小 (学校标识码 4101001)."""
    from tests.factories import make_school_rows, write_csv

    rows = make_school_rows(3, seed=5)
    rows[0] = dict(rows[0], **{"学校名称": "城关一小", "学校标识码": "4101001", "学校类型": "小学", "小学在校生数": 812,
                               "教学仪器设备值（万元）": 123.5})
    path = write_csv(tmp_path / "全县.csv", rows)
    r = client.post("/data/upload", data={"csrf_token": token, "label": "全县"}, follow_redirects=False,
                    files={"file": ("全县.csv", path.read_bytes(), "text/csv")})
    assert r.status_code == 303, r.text[:500]


def test_the_form_is_prefilled_and_sends_a_row_for_the_office(client, api_world, tmp_path, session):
    import_county(client, log_in(client, "office"), tmp_path)
    token = log_in(client, "school")
    assert 'href="/data/form"' in client.get("/data").text
    page = client.get("/data/form")
    assert page.status_code == 200 and "全县数据批次" in page.text
    assert field(page.text, "name") == "城关一小" and field(page.text, "school_code") == "4101001"
    assert field(page.text, "primary_students") == "812" and field(page.text, "equipment_value") == "123.5"
    values = {m.group(1): m.group(2) for m in re.finditer(r'name="(f_\w+)" value="([^"]*)"', page.text)}
    values |= {m.group(1): m.group(2) for m in re.finditer(
        r'<select id="(f_\w+)"[^>]*>.*?<option selected>([^<]*)</option>', page.text, re.S)}
    assert values["f_school_type"] == "小学"

    # a mistake: shown by its field, nothing stored
    before = session.exec(select(DataSubmission)).all()
    bad = client.post("/data/form", data={**values, "f_primary_students": "八百", "csrf_token": token})
    assert bad.status_code == 422 and "未报送" in bad.text and "小学在校生数" in bad.text
    assert field(bad.text, "primary_students") == "八百"  # what was typed comes back
    assert len(session.exec(select(DataSubmission)).all()) == len(before)

    # the name cannot be changed here: the row stays the school's own
    sent = client.post("/data/form", data={**values, "f_primary_students": "830", "f_name": "别的学校",
                                          "csrf_token": token}, follow_redirects=False)
    assert sent.status_code == 303
    submission = session.exec(select(DataSubmission).order_by(DataSubmission.id.desc())).first()
    assert submission.school_id == api_world.world.schools["城关一小"].id and submission.status == "imported"
    assert submission.source_filename == "网页填报.csv"
    row = session.exec(select(SchoolDataRow).where(SchoolDataRow.submission_id == submission.id)).one()
    assert row.data["primary_students"] == 830 and row.data["name"] == "城关一小"
    assert row.data["equipment_value"] == 123.5

    # its own submission is newer now: the form shows what it sent
    again = client.get("/data/form")
    assert "本校" in again.text and "待审核" in again.text and field(again.text, "primary_students") == "830"


def test_without_any_row_the_form_is_empty_and_other_roles_may_not(client, api_world, tmp_path):
    # api_world's stored rows hold only names: the form says there is nothing to pre-fill from them
    log_in(client, "school")
    page = client.get("/data/form")
    assert page.status_code == 200 and field(page.text, "name") == "城关一小"
    for username in ("office", "dept_a", "reviewer"):
        log_in(client, username)
        assert client.get("/data/form").status_code == 403


def test_the_schools_own_upload_still_prefills(client, api_world, tmp_path, engine):
    token = log_in(client, "school")
    r = client.post("/data/upload", data={"csrf_token": token}, follow_redirects=False,
                    files={"file": ("本校.csv", own_school_sheet(tmp_path), "text/csv")})
    assert r.status_code == 303
    page = client.get("/data/form")
    assert "本校" in page.text and field(page.text, "primary_students") not in ("", "0")
