"""The paper entry sheet: its layout, a sheet with errors (row and column named, nothing stored),
and a good one imported."""

from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook
from sqlmodel import func, select

from tests.factories_db import build_world
from tracker.db import session_scope
from tracker.surveys.models import SurveyResponse
from tracker.surveys.paper import SurveySheetError, import_paper, template_workbook
from tracker.surveys.service import close_survey, open_survey
from tracker.spreadsheets import workbook_bytes


@pytest.fixture
def world(engine):
    with session_scope(engine) as session:
        world = build_world(session)
        survey = open_survey(session, world.campaign, "王主任")
    return world, survey


def _sheet(session, world, survey, group: str, rows: list[list[object]]) -> bytes:
    wb = load_workbook(io.BytesIO(workbook_bytes(template_workbook(survey, group, ["城关一小"], world.campaign))))
    ws = wb["答卷"]
    for r in range(2, ws.max_row + 1):
        for c in range(1, ws.max_column + 1):
            ws.cell(r, c).value = None
    for r, row in enumerate(rows, start=2):
        for c, value in enumerate(row, start=1):
            ws.cell(r, c, value)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _count(session) -> int:
    return session.exec(select(func.count()).select_from(SurveyResponse)).one()


def test_the_template_has_group_school_then_one_column_per_question_with_dropdowns(engine, world):
    w, survey = world
    wb = template_workbook(survey, "家长", ["城关一小"], w.campaign)
    ws = wb["答卷"]
    headers = [c.value for c in ws[1]]
    assert headers[:2] == ["群体", "学校"] and len(headers) == 2 + 7
    assert headers[2] == "您对孩子就近入学、公平入学的情况满意吗？"
    formulas = {dv.formula1 for dv in ws.data_validations.dataValidation}
    assert '"满意,比较满意,一般,不满意,不了解"' in formulas and '"家长"' in formulas
    assert "选项!$A$1:$A$1" in formulas
    assert "示例问卷" in wb["填报说明"]["A1"].value


def test_a_sheet_with_errors_names_rows_and_columns_and_stores_nothing(engine, world):
    w, survey = world
    good = ["家长", "城关一小", *["满意"] * 7]
    data = _sheet(None, w, survey, "家长", [
        good,
        ["教师", "城关一小", *["满意"] * 7],                 # row 3: wrong group
        ["家长", "城西小学", "很好", *["满意"] * 6],          # row 4: unknown school, not a choice
        ["家长", "", *[None] * 7],                           # row 5: no school, no answers
    ])
    with session_scope(engine) as session:
        with pytest.raises(SurveySheetError) as error:
            import_paper(session, w.campaign, survey, data, "家长.xlsx")
        problems = {(p.row, p.column): p.message for p in error.value.problems}
        assert "应为“家长”" in problems[(3, "群体")]
        assert "不是本县的学校" in problems[(4, "学校")]
        assert "不是可选答案" in problems[(4, "您对孩子就近入学、公平入学的情况满意吗？")]
        assert "未填学校" in problems[(5, "学校")] and "没有任何回答" in problems[(5, None)]
        assert "第 4 行「学校」" in error.value.message and "未导入任何答卷" in error.value.message
        assert _count(session) == 0


def test_a_sheet_with_a_foreign_or_missing_column_is_refused(engine, world):
    w, survey = world
    wb = load_workbook(io.BytesIO(_sheet(None, w, survey, "家长", [["家长", "城关一小", *["满意"] * 7]])))
    wb["答卷"]["C1"] = "您对食堂满意吗？"
    out = io.BytesIO()
    wb.save(out)
    with session_scope(engine) as session:
        with pytest.raises(SurveySheetError) as error:
            import_paper(session, w.campaign, survey, out.getvalue(), "家长.xlsx")
        messages = [p.message for p in error.value.problems]
        assert any("不是“家长”问卷的题目" in m for m in messages)
        assert any("缺少题目「您对孩子就近入学、公平入学的情况满意吗？」" in m for m in messages)
        with pytest.raises(SurveySheetError, match="无法读取"):
            import_paper(session, w.campaign, survey, b"not an xlsx", "x.xlsx")
        assert _count(session) == 0


def test_a_good_sheet_is_imported_with_blank_answers_left_out(engine, world):
    w, survey = world
    data = _sheet(None, w, survey, "家长", [
        ["家长", "城关一小", *["满意"] * 7],
        ["家长", "城关一小", "不满意", None, "不了解", *["比较满意"] * 4],
    ])
    with session_scope(engine) as session:
        result = import_paper(session, w.campaign, survey, data, "家长.xlsx")
        assert (result.group, result.responses, result.answers) == ("家长", 2, 13)
        rows = session.exec(select(SurveyResponse).order_by(SurveyResponse.id)).all()
        assert rows[1].channel == "paper" and "P2" not in rows[1].answers and rows[1].answers["P3"] == "不了解"
        assert rows[0].school_id == w.schools["城关一小"].id
    with session_scope(engine) as session:  # closed: no more paper
        from tracker.surveys.models import Survey

        close_survey(session, session.get(Survey, survey.id), "王主任")
        with pytest.raises(Exception, match="已经结束"):
            import_paper(session, w.campaign, session.get(Survey, survey.id), data, "家长.xlsx")


def test_a_group_is_told_apart_from_another_sharing_a_question(engine, world):
    # 人大代表和政协委员's last question has the same text as 教师's, 校长's and 社会人士's
    w, survey = world
    data = _sheet(None, w, survey, "人大代表和政协委员", [["人大代表和政协委员", None, "满意", "一般", "满意", "满意"]])
    with session_scope(engine) as session:
        result = import_paper(session, w.campaign, survey, data, "代表.xlsx")
        assert (result.group, result.responses, result.answers) == ("人大代表和政协委员", 1, 4)
        assert session.exec(select(SurveyResponse.school_id)).one() is None  # not asked through a school
