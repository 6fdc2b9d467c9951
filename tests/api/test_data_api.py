"""School data over the API: the office's county sheet (imported and approved by its sender), a
school's own row (waits for the office), the office approving or returning it, and every row
saying where its figures were entered."""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

import time_machine
from sqlmodel import select

from tests.api.conftest import bearer, own_school_sheet, pending_school_submission
from tests.api.test_pages import log_in
from tests.factories import make_school_rows, write_csv
from tracker.assessment.models import AssessmentSnapshot
from tracker.db import session_scope
from tracker.events.models import Event
from tracker.org.models import Campaign
from tracker.schooldata.models import DataSubmission
from tracker.tasks.reconcile import reconcile_tasks


def upload(client, api_world, headers, role, name, data):
    return client.post(f"/api/v1/campaigns/{api_world.code}/submissions", headers=headers[role],
                       files={"file": (name, data, "text/csv")}, data={"label": "报送"})


def test_the_offices_sheet_is_imported_and_approved_by_its_sender(client, api_world, headers, tmp_path):
    sheet = write_csv(tmp_path / "全县.csv", make_school_rows(3, seed=4)).read_bytes()
    r = upload(client, api_world, headers, "office", "全县.csv", sheet)
    assert r.status_code == 201, r.text
    body = r.json()
    assert (body["status"], body["submitted_by"], body["approved_by"]) == ("approved", "王主任", "王主任")
    assert body["approved_at"] is not None and body["school_id"] is None and body["school_count"] == 3
    # already approved: nothing to approve or return any more
    r = client.post(f"/api/v1/submissions/{body['id']}/approve", headers=headers["office"])
    assert r.status_code == 409 and "不能审核通过" in r.json()["detail"]


def test_a_schools_row_is_approved_over_the_api_and_traceable(client, api_world, headers, tmp_path, session):
    base = api_world.submissions["others"]  # the latest county data: 城关二小 only
    r = upload(client, api_world, headers, "school", "本校.csv", own_school_sheet(tmp_path))
    assert r.status_code == 201, r.text
    sent = r.json()
    school_id = api_world.world.schools["城关一小"].id
    assert (sent["status"], sent["school_id"], sent["submitted_by"], sent["approved_by"]) == (
        "imported", school_id, "城关一小填报员", "")
    assert client.get(f"/api/v1/submissions/{sent['id']}", headers=headers["school"]).status_code == 200
    # a unit may not approve; the school may not approve its own row
    assert client.post(f"/api/v1/submissions/{sent['id']}/approve", headers=headers["school"]).status_code == 403
    assert client.post(f"/api/v1/submissions/{sent['id']}/approve", headers=headers["reviewer"]).status_code == 403

    r = client.post(f"/api/v1/submissions/{sent['id']}/approve", headers=headers["office"])
    assert r.status_code == 200, r.text
    merged = r.json()
    assert merged["id"] != sent["id"]
    assert (merged["status"], merged["approved_by"], merged["based_on_id"], merged["school_count"]) == (
        "approved", "王主任", base.id, 2)
    rows = {row["school_key"]: row for row in
            client.get(f"/api/v1/submissions/{merged['id']}/rows", headers=headers["office"]).json()}
    assert rows["4101001"]["source_submission_id"] == sent["id"]  # entered by the school
    assert rows["4101002"]["source_submission_id"] == base.id  # carried over from the county data
    shown = client.get(f"/api/v1/submissions/{sent['id']}", headers=headers["school"]).json()
    assert (shown["status"], shown["approved_by"]) == ("approved", "王主任")
    # the merged county data is what the dispatcher reassesses next
    imported = session.exec(select(Event).where(Event.type == "submission.imported")).all()
    assert [e.payload["submission_id"] for e in imported] == [merged["id"]]

    r = client.post(f"/api/v1/submissions/{sent['id']}/approve", headers=headers["office"])
    assert r.status_code == 409 and "已审核" in r.json()["detail"]


def test_a_schools_row_is_returned_with_a_reason(client, api_world, headers, tmp_path, session):
    sent = upload(client, api_world, headers, "school", "本校.csv", own_school_sheet(tmp_path)).json()
    url = f"/api/v1/submissions/{sent['id']}/return"
    for blank in ({"reason": "  "}, {}):
        r = client.post(url, headers=headers["office"], json=blank)
        assert r.status_code == 422 and r.json()["problems"][0]["location"] == "body.reason"
    r = client.post(url, headers=headers["office"], json={"reason": "在校生数与学籍系统不符"})
    assert r.status_code == 200, r.text
    assert (r.json()["status"], r.json()["returned_reason"]) == ("returned", "在校生数与学籍系统不符")
    assert client.post(url, headers=headers["office"], json={"reason": "再退"}).status_code == 409
    r = client.post(f"/api/v1/submissions/{sent['id']}/approve", headers=headers["office"])
    assert r.status_code == 409 and "已退回" in r.json()["detail"]
    # nothing reached the county data
    session.expire_all()
    county = session.exec(select(DataSubmission).where(DataSubmission.school_id.is_(None))).all()
    assert {s.id for s in county} == {s.id for s in api_world.submissions.values()}


def test_a_school_may_send_only_its_own_row(client, api_world, headers, tmp_path, session):
    before = len(session.exec(select(DataSubmission)).all())
    other = dict(make_school_rows(1, seed=2)[0], 学校名称="城关二小", 学校标识码="4101002", 学校类型="小学")
    r = upload(client, api_world, headers, "school", "别校.csv", write_csv(tmp_path / "x.csv", [other]).read_bytes())
    assert r.status_code == 422
    body = r.json()
    assert body["problems"][0]["row"] == 2 and "不是本校" in body["problems"][0]["message"]
    two = [dict(make_school_rows(1, seed=2)[0], 学校名称="城关一小", 学校标识码="4101001", 学校类型="小学"), other]
    r = upload(client, api_world, headers, "school", "两校.csv", write_csv(tmp_path / "y.csv", two).read_bytes())
    assert r.status_code == 422 and any(p["row"] == 3 for p in r.json()["problems"])
    session.expire_all()
    assert len(session.exec(select(DataSubmission)).all()) == before


def test_an_assessment_lists_the_tasks_it_opened_after_their_plan_date(client, api_world, engine):
    """The self-check gate (12-23) has passed when the data is assessed on 12-24: the attestation
    tasks the assessment opens are due five working days on, and the API says so."""
    now = dt.datetime(2026, 12, 24, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
    with time_machine.travel(now, tick=False):
        with session_scope(engine) as session:
            campaign = session.get(Campaign, api_world.world.campaign.id)
            # the test world's rows are not a real sheet: an assessment that found no shortfall
            snapshot = AssessmentSnapshot(campaign_id=campaign.id, submission_id=api_world.submissions["own"].id,
                                          standard_id=campaign.standard_id, ok=True, result={})
            session.add(snapshot)
            session.flush()
            redated = reconcile_tasks(session, campaign, snapshot).redated
            snapshot_id = snapshot.id
        office = bearer(engine, api_world.users["office"])
        body = client.get(f"/api/v1/assessments/{snapshot_id}", headers=office).json()
        earlier = client.get(f"/api/v1/assessments/{api_world.assessment.id}", headers=office).json()
    assert redated and body["redated"] == [r.as_dict() for r in redated]
    assert {(r["planned_due_on"], r["due_on"], r["working_days"]) for r in body["redated"]} == {
        ("2026-12-23", "2026-12-31", 5)}
    assert earlier["redated"] == []


def test_the_api_and_the_pages_show_a_school_the_same_submissions(client, api_world, headers, engine, tmp_path):
    """One rule for both (tracker.accounts.access.submission_clause): a school sees what it sent
    itself and the county data holding its row, never a batch without its row; a unit sees none."""
    pending = pending_school_submission(engine, tmp_path)
    own, others = api_world.submissions["own"].id, api_world.submissions["others"].id
    listed = client.get(f"/api/v1/campaigns/{api_world.code}/submissions", headers=headers["school"]).json()
    assert sorted(s["id"] for s in listed) == sorted([own, pending.id])
    assert client.get(f"/api/v1/campaigns/{api_world.code}/submissions", headers=headers["dept_a"]).status_code == 403

    log_in(client, "school")
    shown = {int(i) for i in re.findall(r'href="/data/(\d+)"', client.get("/data").text)}
    assert shown == {own, pending.id}
    for submission_id, code in ((own, 200), (pending.id, 200), (others, 403)):
        assert client.get(f"/api/v1/submissions/{submission_id}", headers=headers["school"]).status_code == code
        assert client.get(f"/data/{submission_id}").status_code == code
    log_in(client, "dept_a")
    assert client.get(f"/data/{own}").status_code == 403
