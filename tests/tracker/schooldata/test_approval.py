"""A school's own row through the office into the county data, traceable to who entered and
who approved each figure."""

from __future__ import annotations

import pytest
from sqlmodel import Session, select

from tests.factories import make_school_rows, write_csv
from tests.factories_db import build_world
from tracker.assessment.snapshots import assess_submission
from tracker.events.models import Event
from tracker.org.models import School
from tracker.schooldata.approval import (
    APPROVED,
    IMPORTED,
    RETURNED,
    SubmissionError,
    approve_submission,
    import_county_data,
    provenance,
    receive_school_row,
    return_submission,
)
from tracker.schooldata.models import DataSubmission, SchoolDataRow
from tracker.schooldata.sheet import SheetError
from tracker.schooldata.submissions import SelfCheckError, latest_submission

ROWS = make_school_rows(6, seed=11)


def _csv(tmp_path, rows, name="schools.csv") -> bytes:
    return write_csv(tmp_path / name, rows).read_bytes()


def _county(session, tmp_path):
    world = build_world(session)
    county = import_county_data(session, world.campaign, _csv(tmp_path, ROWS), "全县.csv", "王主任", label="自查")
    school = session.exec(select(School).where(School.key == ROWS[2]["学校标识码"])).one()
    return world, county, school


def test_office_upload_is_imported_and_approved_by_the_uploader(engine, tmp_path):
    with Session(engine) as session:
        world, county, _school = _county(session, tmp_path)
        assert county.status == APPROVED and county.approved_by == "王主任" and county.approved_at is not None
        assert county.school_count == 6 and county.source_filename == "全县.csv"
        event = session.exec(select(Event).where(Event.type == "submission.imported")).one()
        assert event.payload["submission_id"] == county.id  # the dispatcher reassesses it


def test_bad_county_sheet_stores_nothing(engine, tmp_path):
    with Session(engine) as session:
        world = build_world(session)
        rows = [dict(r) for r in ROWS]
        rows[1]["小学在校生数"] = "很多"
        with pytest.raises(SheetError) as info:
            import_county_data(session, world.campaign, _csv(tmp_path, rows), "全县.csv", "王主任")
        assert any(p.row == 3 for p in info.value.problems)
        assert session.exec(select(DataSubmission)).all() == []


def test_school_row_waits_and_is_merged_on_approval(engine, tmp_path):
    with Session(engine) as session:
        world, county, school = _county(session, tmp_path)
        mine = dict(ROWS[2])
        mine["体育运动场馆面积"] = 99999
        sent = receive_school_row(session, world.campaign, school, _csv(tmp_path, [mine], "本校.csv"), "本校.csv",
                                  "城关填报员")
        assert sent.status == IMPORTED and sent.school_id == school.id and sent.school_count == 1
        assert latest_submission(session, world.campaign).id == county.id  # not county data yet
        with pytest.raises(SelfCheckError, match="须经办公室审核"):
            assess_submission(session, world.campaign, sent)
        types = [e.type for e in session.exec(select(Event).order_by(Event.id))]
        assert types.count("submission.imported") == 1 and "submission.received" in types

        merged = approve_submission(session, world.campaign, sent, "王主任")
        assert merged.id != sent.id and merged.based_on_id == county.id
        assert merged.status == APPROVED and merged.approved_by == "王主任"
        assert sent.status == APPROVED and sent.approved_by == "王主任"
        assert latest_submission(session, world.campaign).id == merged.id
        rows = {r.school_key: r for r in session.exec(select(SchoolDataRow)
                                                       .where(SchoolDataRow.submission_id == merged.id))}
        assert len(rows) == 6
        assert rows[school.key].data["sports_area"] == 99999
        assert rows[school.key].source_submission_id == sent.id
        assert {r.source_submission_id for k, r in rows.items() if k != school.key} == {county.id}

        imported = session.exec(select(Event).where(Event.type == "submission.imported").order_by(Event.id)).all()
        assert imported[-1].payload["submission_id"] == merged.id

        trace = provenance(session, merged, school.key)
        assert (trace.submission.id, trace.entered_by, trace.approved_by) == (sent.id, "城关填报员", "王主任")
        assert trace.via.id == merged.id
        other = provenance(session, merged, ROWS[0]["学校标识码"])
        assert (other.submission.id, other.entered_by, other.approved_by) == (county.id, "王主任", "王主任")

        assess_submission(session, world.campaign, merged)  # the merged data is county data

        with pytest.raises(SubmissionError, match="已审核"):
            approve_submission(session, world.campaign, sent, "王主任")


def test_another_schools_row_or_two_rows_are_refused_row_by_row(engine, tmp_path):
    with Session(engine) as session:
        world, _county_sub, school = _county(session, tmp_path)
        with pytest.raises(SheetError) as info:
            receive_school_row(session, world.campaign, school, _csv(tmp_path, [ROWS[2], ROWS[3]]), "两行.csv", "x")
        assert [p.row for p in info.value.problems] == [3]
        assert "不是本校" in info.value.problems[0].message
        with pytest.raises(SheetError):
            receive_school_row(session, world.campaign, school, _csv(tmp_path, [ROWS[4]]), "别校.csv", "x")
        assert session.exec(select(DataSubmission).where(DataSubmission.school_id.is_not(None))).all() == []


def test_return_needs_a_reason_and_changes_no_county_data(engine, tmp_path):
    with Session(engine) as session:
        world, county, school = _county(session, tmp_path)
        sent = receive_school_row(session, world.campaign, school, _csv(tmp_path, [ROWS[2]]), "本校.csv", "填报员")
        with pytest.raises(SubmissionError, match="必须说明原因"):
            return_submission(session, world.campaign, sent, "王主任", "  ")
        return_submission(session, world.campaign, sent, "王主任", "运动场面积与台账不符")
        assert sent.status == RETURNED and sent.returned_reason == "运动场面积与台账不符"
        assert latest_submission(session, world.campaign).id == county.id
        with pytest.raises(SubmissionError):
            approve_submission(session, world.campaign, sent, "王主任")


def test_approval_needs_county_data_to_merge_into(engine, tmp_path):
    with Session(engine) as session:
        world = build_world(session)
        school = world.schools["城关一小"]
        row = dict(ROWS[0], 学校名称="城关一小", 学校标识码=school.key)
        sent = receive_school_row(session, world.campaign, school, _csv(tmp_path, [row]), "本校.csv", "填报员")
        with pytest.raises(SubmissionError, match="还没有导入学校数据"):
            approve_submission(session, world.campaign, sent, "王主任")
        assert sent.status == IMPORTED and sent.approved_by == ""  # untouched
