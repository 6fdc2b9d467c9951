"""The checklist file: the shipped lists parse and cover their standard; a bad file is refused whole,
each problem named by its line; the office's import replaces the shipped list."""

from __future__ import annotations

import pytest
from sqlmodel import Session, select

from tests.factories_db import build_world
from tracker.events.models import Event
from tracker.materials.checklist import ChecklistError, checklist_yaml, parse_checklist, shipped_checklist
from tracker.materials.service import campaign_checklist, import_checklist
from tracker.standards import load_standard

GOOD = """\
standard: national-2017
title: 本县资料清单
illustrative: false
indicators:
  "6":
    - {id: "6-1", title: 设备资产账册, required: true}
    - {id: "6-2", title: 采购合同, required: false}
  "5":
    - {id: "5-1", title: 运动场馆面积统计表, required: 必备}
"""


@pytest.mark.parametrize("standard_id", ["national-2017", "hunan-2023"])
def test_the_shipped_lists_parse_are_marked_illustrative_and_cover_the_standard(standard_id):
    checklist = shipped_checklist(standard_id)
    standard = load_standard(standard_id)
    assert checklist.illustrative and "非官方" in checklist.note
    covered = {i.indicator for i in checklist.items}
    assert {i.code for i in standard.indicators} <= covered  # every indicator has at least one item
    assert any(i.required for i in checklist.items) and any(not i.required for i in checklist.items)
    again = parse_checklist(checklist_yaml(checklist), standard, "again")  # export → import keeps it
    assert again.items == checklist.items


def test_a_bad_file_is_refused_whole_with_every_problem_and_its_line(tmp_path, engine):
    bad = tmp_path / "bad.yaml"
    bad.write_text("""\
standard: national-2017
indicators:
  "6":
    - {id: "6-1", title: 设备资产账册, required: true}
    - {id: "6-1", title: 又一个, required: 也许}
  "99":
    - {id: "99-1", title: 没有这个指标}
""", encoding="utf-8")
    with Session(engine) as session:
        world = build_world(session)
        with pytest.raises(ChecklistError) as caught:
            import_checklist(session, world.campaign, bad, "王主任")
        messages = [d.message for d in caught.value.details]
        assert any("第 5 行" in m and "编号「6-1」重复（第 4 行已用）" in m for m in messages)
        assert any("第 5 行" in m and "应为 true（必备）或 false（可选），现为「也许」" in m for m in messages)
        assert any("第 6 行" in m and "没有指标「99」" in m for m in messages)
        assert not campaign_checklist(session, world.campaign).imported  # nothing stored
        assert session.exec(select(Event).where(Event.type == "materials.checklist_imported")).first() is None


def test_the_offices_file_replaces_the_shipped_list(tmp_path, engine):
    path = tmp_path / "本县清单.yaml"
    path.write_text(GOOD, encoding="utf-8")
    with Session(engine) as session:
        world = build_world(session)
        assert campaign_checklist(session, world.campaign).illustrative  # the shipped one until then
        import_checklist(session, world.campaign, path, "王主任")
        session.commit()
        checklist = campaign_checklist(session, world.campaign)
        assert checklist.imported and not checklist.illustrative and checklist.source == "本县清单.yaml"
        # in the standard's order (5 before 6), the file's order within an indicator
        assert [(i.id, i.required) for i in checklist.items] == [("5-1", True), ("6-1", True), ("6-2", False)]


def test_a_checklist_for_another_standard_is_refused(tmp_path, engine):
    path = tmp_path / "hunan.yaml"
    path.write_text(GOOD.replace("national-2017", "hunan-2023"), encoding="utf-8")
    with Session(engine) as session:
        world = build_world(session)
        with pytest.raises(ChecklistError, match="清单属于标准「hunan-2023」，而本创建工作使用「national-2017」"):
            import_checklist(session, world.campaign, path, "王主任")
