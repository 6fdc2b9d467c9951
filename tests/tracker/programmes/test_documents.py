"""The score sheet round trip, the certificate list and the 表彰通报, and what each user sees."""

from __future__ import annotations

import io

import pytest
from docx import Document
from openpyxl import load_workbook

from tests.tracker.programmes.test_moves import _in
from tests.tracker.programmes.world import ACCEPTANCE_DAY, AWARD_DAY, MENTOR_DAY, OFFICE, RESULTS_PUBLIC, create, walk
from tracker.accounts.access import AccessDenied
from tracker.accounts.service import create_user
from tracker.programmes import access, awards, queries, scoring, service, sheets


@pytest.fixture
def programme(engine) -> int:
    return create(engine)


def test_a_member_scores_on_a_sheet_and_a_bad_cell_stores_nothing(engine, programme):
    walk(engine, programme, until="seeds")
    with _in(engine, programme, MENTOR_DAY) as (session, campaign):
        member = service.find_person(session, campaign, "甲")
        blank = sheets.score_sheet(session, campaign, "mentor", member)
        ws = load_workbook(io.BytesIO(blank)).active
        assert [r[0].value for r in ws.iter_rows(min_row=3)] == ["二中"]  # 甲 is of 一中: not on its sheet
        ws["B3"], ws["C3"] = 40, "四十"
        out = io.BytesIO()
        ws.parent.save(out)
        with pytest.raises(service.ProgrammeError, match="第 3 行「二中」类别 B 的分数「四十」不是数字"):
            sheets.score_from_sheet(session, campaign, "mentor", member, out.getvalue(), today=MENTOR_DAY, actor="甲")
        assert queries.scores(session, programme) == []
        ws["C3"] = 41
        out = io.BytesIO()
        ws.parent.save(out)
        assert sheets.score_from_sheet(session, campaign, "mentor", member, out.getvalue(), today=MENTOR_DAY,
                                       actor="甲") == 1
        assert sorted(s.points for s in queries.scores(session, programme)) == [40, 41]


def test_certificate_list_and_award_notice_list_confirmed_awards(engine, programme):
    walk(engine, programme)
    with _in(engine, programme, AWARD_DAY) as (session, campaign):
        with pytest.raises(service.ProgrammeConflict, match="还没有确认的表彰"):
            sheets.certificate_list(session, campaign, AWARD_DAY)
        for award in queries.awards(session, programme):
            awards.confirm(session, campaign, award.school_id, actor=OFFICE)
        book = load_workbook(io.BytesIO(sheets.certificate_list(session, campaign, AWARD_DAY))).active
        rows = [[c.value for c in r][:3] for r in book.iter_rows(min_row=3)]
        assert rows == [[1, "一中", "标兵校"], [2, "二中", "标兵校"], [3, "三小", "进步校"], [4, "四小", "达标校"]]
        notice = awards.award_notice(session, campaign, AWARD_DAY)
    from notifications.programme import write_award_docx

    text = "\n".join(p.text for p in Document(io.BytesIO(write_award_docx(notice))).paragraphs)
    assert "全县义务教育优质均衡标兵校（2所）" in text and "一中、二中" in text
    assert "五小未达到达标校要求，按方案实行一票否决" in text and "督导室" in text


def _user(session, campaign, username, role, **names):
    return create_user(session, campaign, {"username": username, "role": role,
                                           "password": "correct horse battery staple", **names})


def test_each_user_sees_its_own(engine, programme):
    walk(engine, programme, until="acceptance")
    with _in(engine, programme, ACCEPTANCE_DAY) as (session, campaign):
        three = service.find_school(session, campaign, "三小")
        school_user = _user(session, campaign, "sanxiao", "school", school="三小")
        member_user = _user(session, campaign, "yi", "reviewer", person="乙")
        office_user = _user(session, campaign, "office", "office")
        before = access.view(session, school_user, campaign, ACCEPTANCE_DAY)
        assert [line.name for line in before.lines] == ["三小"]
        assert before.lines[0].entry.status == "refused" and before.lines[0].totals == {}
        after = access.view(session, school_user, campaign, RESULTS_PUBLIC[0])
        assert after.lines[0].totals == {"presentation": 90.0, "inspection": 90.0}
        member = access.view(session, member_user, campaign, ACCEPTANCE_DAY)
        assert member.is_member and {s.person_id for s in member.my_scores} == {member_user.person_id}
        assert all(line.entry is None and line.totals == {} for line in member.lines)
        assert {s.school_id for s in member.my_scores} == {line.school_id for line in member.lines
                                                           if line.name in ("一中", "二中", "三小", "四小", "五小")}
        office = access.view(session, office_user, campaign, ACCEPTANCE_DAY)
        assert len(office.lines) == 6 and office.lines[0].totals == {"mentor": 87.5}
        # a school acts for itself only; only a member (or the office) enters scores
        with pytest.raises(AccessDenied):
            access.school_for(school_user, campaign, service.find_school(session, campaign, "四小"))
        with pytest.raises(AccessDenied):
            access.member_for(session, school_user, campaign, "乙")
        assert access.member_for(session, member_user, campaign, None).name == "乙"
        assert access.member_for(session, office_user, campaign, "丙").name == "丙"
        with pytest.raises(AccessDenied):
            access.require_office(school_user, campaign, "复核")
        with pytest.raises(scoring.ScoringRefused):
            scoring.score(session, campaign, "presentation", access.member_for(session, member_user, campaign, None),
                          three, {"A": 1, "B": 1}, today=AWARD_DAY, actor="乙")
