"""`junheng programme` through the real Typer app: a school's way from application to award,
and the refusals' exit codes (4 conflict, 5 not allowed)."""

from __future__ import annotations


import pytest
from docx import Document
from openpyxl import load_workbook
from typer.testing import CliRunner

from junheng.cli import app
from tests.tracker.programmes.world import (
    ACCEPTANCE_DAY, AWARD_DAY, MEMBERS, MENTOR_DAY, PAIRING_DAY, PLAN, RESULTS_PUBLIC, SEED_DAY, at,
)

runner = CliRunner()


@pytest.fixture
def plan_file(engine, tmp_path, monkeypatch):
    monkeypatch.setenv("COLUMNS", "220")
    path = tmp_path / "示范校.yaml"
    path.write_text(PLAN, encoding="utf-8")
    return path


def invoke(day, *args: str):
    with at(day):
        return runner.invoke(app, ["programme", *args])


def ok(day, *args: str):
    result = invoke(day, *args)
    assert result.exit_code == 0, result.output
    return result.output


def test_a_school_from_application_to_award(plan_file, tmp_path):
    ok(SEED_DAY, "init", str(plan_file))
    ok(SEED_DAY, "nominate", "一中", "--unit", "基教科", "--reason", "教学质量突出")
    ok(SEED_DAY, "apply", "三小", "--score", "A=30", "--score", "B=30", "--reason", "自评")
    again = invoke(SEED_DAY, "apply", "三小", "--score", "A=40", "--score", "B=40", "--reason", "再申请")
    assert again.exit_code == 4 and "已提出申请" in again.output
    bad = invoke(SEED_DAY, "apply", "四小", "--score", "A40", "--reason", "x")
    assert bad.exit_code == 2 and "类别编号=分数" in bad.output
    ok(SEED_DAY, "review", "三小", "--refuse", "--reason", "生均占有值未达标")
    ok(SEED_DAY, "publicity", "seeds", "--from", "2027-04-20", "--to", "2027-04-26")
    early = invoke(SEED_DAY, "score", "mentor", "--member", "乙", "--school", "一中", "--score", "A=45", "--score", "B=45")
    assert early.exit_code == 4 and "不在评分时间内" in early.output
    own = invoke(MENTOR_DAY, "score", "mentor", "--member", "甲", "--school", "一中", "--score", "A=45", "--score", "B=45")
    assert own.exit_code == 5 and "不能为本校打分" in own.output
    for member in MEMBERS[1:]:
        ok(MENTOR_DAY, "score", "mentor", "--member", member, "--school", "一中", "--score", "A=45", "--score", "B=45")
    ok(MENTOR_DAY, "promote", "一中", "--practice", "A", "--practice", "B")
    ok(PAIRING_DAY, "pair", "一中", "--school", "三小", "--school", "四小")
    ok(PAIRING_DAY, "task", "三小", "--title", "共建教研组", "--due", "2027-07-01")
    ok(PAIRING_DAY, "report", "三小", "--text", "已开展联合教研")
    sheet = tmp_path / "评分表.xlsx"
    for member in MEMBERS:
        ok(ACCEPTANCE_DAY, "sheet", "presentation", "--member", member, "--out", str(sheet))
        wb = load_workbook(sheet)
        ws = wb.active
        for row in ws.iter_rows(min_row=3):
            row[1].value, row[2].value = (45, 45) if row[0].value == "三小" else (25, 25)
        wb.save(sheet)
        ok(ACCEPTANCE_DAY, "score", "presentation", "--member", member, "--sheet", str(sheet))
        for school, points in (("三小", "45"), ("四小", "25"), ("五小", "25"), ("六小", "25"), ("二中", "25")):
            ok(ACCEPTANCE_DAY, "score", "inspection", "--member", member, "--school", school,
               "--score", f"A={points}", "--score", f"B={points}")
    ok(ACCEPTANCE_DAY, "publicity", "results", "--from", RESULTS_PUBLIC[0].isoformat(), "--to",
       RESULTS_PUBLIC[1].isoformat())
    ok(RESULTS_PUBLIC[0], "objection", "results", "--school", "四小", "--text", "成绩偏低")
    early = invoke(RESULTS_PUBLIC[1], "awards", "--compute")
    assert early.exit_code == 4 and "公示期满后" in early.output
    ok(AWARD_DAY, "resolve", "1", "--dismissed", "--reason", "评分符合规则")
    shown = ok(AWARD_DAY, "awards", "--compute")
    assert "进步校" in shown and "一票否决" in shown
    against = invoke(AWARD_DAY, "confirm", "四小", "--category", "达标校")
    assert against.exit_code == 4 and "一票否决" in against.output
    ok(AWARD_DAY, "confirm", "三小")
    ok(AWARD_DAY, "confirm", "一中")
    listing = ok(AWARD_DAY, "show")
    assert "进步校（已确认）" in listing and "驳回" in listing
    ok(AWARD_DAY, "certificates", "--out", str(tmp_path / "证书名单.xlsx"))
    names = [r[1].value for r in load_workbook(tmp_path / "证书名单.xlsx").active.iter_rows(min_row=3)]
    assert names == ["一中", "三小"]
    ok(AWARD_DAY, "notice", "--out", str(tmp_path / "表彰通报.docx"))
    text = "\n".join(p.text for p in Document(str(tmp_path / "表彰通报.docx")).paragraphs)
    assert "进步校（1所）" in text and "三小" in text
    revoked = ok(AWARD_DAY, "revoke", "三小", "--reason", "复核验收材料")
    assert "已撤销「三小」的表彰确认（进步校" in revoked and "进步校（待确认）" in ok(AWARD_DAY, "show")
    again = invoke(AWARD_DAY, "revoke", "三小", "--reason", "再撤")
    assert again.exit_code == 4 and "还没有确认" in again.output


def test_init_reports_every_problem_of_the_plan(plan_file):
    plan_file.write_text(PLAN.replace("权重: 0.6", "权重: 0.5"), encoding="utf-8")
    result = invoke(SEED_DAY, "init", str(plan_file))
    assert result.exit_code == 2 and "权重之和应为 1" in result.output
