"""The working-day calendar: chinese-calendar, imported notices, the loud Monday–Friday fallback,
the year file, and `junheng calendar`. Expected holiday dates come from chinese-calendar's own
tables, not from memory."""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path

import chinese_calendar
import pytest
import typer
from chinese_calendar import Holiday
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlmodel import Session, select
from typer.testing import CliRunner

from junheng.cli import app
from junheng.cli.calendar import count_on_store_calendar
from tracker import workdays
from tracker.calendar import (
    CalendarYearIllustrative,
    CalendarYearUnknown,
    WorkingDayCalendar,
    active_calendar,
    load_calendar,
    set_active_calendar,
)
from tracker.calendar import working_days as wd
from tracker.calendar.models import CalendarYear, WorkdayOverride
from tracker.calendar.service import CalendarImportError, import_calendar_year
from tracker.calendar.working_days import ImportedYear, OverrideDay
from tracker.calendar.year_file import CalendarFileError, load_year_file, parse_year_file
from tracker.db import get_engine, session_scope
from tracker.events.models import Event

EXAMPLE_2027 = Path(__file__).parents[3] / "examples" / "calendar-2027.yaml"
ONE_DAY = dt.timedelta(days=1)


def library_days(year: int, holiday: Holiday) -> list[dt.date]:
    return sorted(d for d, name in chinese_calendar.holidays.items() if d.year == year and name == holiday.value)


def library_working_weekends(year: int) -> list[dt.date]:
    return sorted(d for d in chinese_calendar.workdays if d.year == year and d.weekday() >= 5)


def naive_is_working(calendar: WorkingDayCalendar, day: dt.date) -> bool:
    return calendar.day(day).working


# ---------------------------------------------------------------------------------------
# chinese-calendar


def test_2026_national_day_week_is_off_and_the_day_after_is_not():
    national_day = library_days(2026, Holiday.national_day)
    assert national_day[0] == dt.date(2026, 10, 1)  # the library's own list starts on 10-01
    calendar = WorkingDayCalendar()
    assert [calendar.is_working_day(d) for d in national_day] == [False] * len(national_day)
    after = national_day[-1] + ONE_DAY
    assert calendar.is_working_day(after) == chinese_calendar.is_workday(after)
    # the week itself: no working day from 10-01 to the last holiday
    assert calendar.working_days_between(dt.date(2026, 9, 30), national_day[-1]) == 0


def test_every_day_the_library_knows_agrees():
    calendar = WorkingDayCalendar()
    day = dt.date(wd.LIBRARY_FIRST_YEAR, 1, 1)
    while day.year <= wd.LIBRARY_LAST_YEAR:
        assert calendar.is_working_day(day) == chinese_calendar.is_workday(day), day
        day += ONE_DAY
    # nothing unknown was used, except that the last days of the library's last December wait
    # for the following year's notice (see the test below)
    assert [(type(n), n.year) for n in calendar.notices] == [(CalendarYearUnknown, wd.LIBRARY_LAST_YEAR + 1)]


def test_a_2026_tiaoxiu_saturday_is_a_working_day():
    saturdays = [d for d in library_working_weekends(2026) if d.weekday() == 5]
    assert saturdays, "chinese-calendar lists 2026 make-up Saturdays"
    saturday = saturdays[0]
    assert workdays.is_working_day(saturday)  # through the module everyone calls, no store
    friday = saturday - ONE_DAY
    assert workdays.add_working_days(friday, 1) == saturday
    assert workdays.working_days_between(friday, saturday) == 1


def test_adding_working_days_across_spring_festival_2026():
    festival = library_days(2026, Holiday.spring_festival)
    before, after = festival[0] - ONE_DAY, festival[-1] + ONE_DAY
    last_working_before = max(d for d in (before - i * ONE_DAY for i in range(7)) if chinese_calendar.is_workday(d))
    first_working_after = chinese_calendar.find_workday(0, after)
    assert workdays.add_working_days(last_working_before, 1) == first_working_after
    assert workdays.add_working_days(first_working_after, -1) == last_working_before
    # ten working days from the Monday before the festival, counted the library's way
    start = festival[0] - dt.timedelta(days=6)
    expected = chinese_calendar.get_workdays(start + ONE_DAY, dt.date(2026, 3, 31))[9]
    assert workdays.add_working_days(start, 10) == expected
    assert workdays.working_days_between(start, expected) == 10
    assert start < festival[0] and expected > festival[-1]  # really across it
    assert (expected - start).days >= 10 + len(festival)


def test_aware_moments_count_in_shanghai_and_naive_ones_are_refused():
    first_holiday = library_days(2026, Holiday.national_day)[0]
    # 17:00 UTC on the eve is already 01:00 on the holiday in China
    moment = dt.datetime.combine(first_holiday - ONE_DAY, dt.time(17, 0), tzinfo=dt.UTC)
    assert not workdays.is_working_day(moment)
    assert workdays.is_working_day(moment.replace(hour=9))
    with pytest.raises(ValueError, match="naive"):
        workdays.is_working_day(dt.datetime(2026, 10, 1, 9, 0))


# ---------------------------------------------------------------------------------------
# overrides, unknown and partial years


def test_an_override_wins_over_the_library():
    holiday = library_days(2026, Holiday.labour_day)[0]
    saturday = library_working_weekends(2026)[0]
    ordinary_thursday = dt.date(2026, 11, 19)
    calendar = WorkingDayCalendar(
        [ImportedYear(2026, "县政府通知", False)],
        [OverrideDay(holiday, True, "劳动节", 2026), OverrideDay(saturday, False, "调整", 2026),
         OverrideDay(ordinary_thursday, False, "地方假日", 2026)])
    assert calendar.is_working_day(holiday)
    assert not calendar.is_working_day(saturday)
    assert not calendar.is_working_day(ordinary_thursday)
    assert calendar.working_days_between(ordinary_thursday - ONE_DAY, ordinary_thursday + ONE_DAY) == 1
    assert calendar.coverage(2026).by == "override"


def test_an_unknown_year_counts_monday_to_friday_and_says_so_once(caplog):
    calendar = WorkingDayCalendar()
    assert calendar.unknown_years(range(2025, 2030)) == [2027, 2028, 2029]
    assert not calendar.known(2028) and calendar.known(2026)
    friday, monday = dt.date(2028, 3, 3), dt.date(2028, 3, 6)
    with caplog.at_level(logging.WARNING, logger="tracker.calendar.working_days"):
        assert calendar.add_working_days(friday, 1) == monday
        assert calendar.working_days_between(friday, monday) == 1
        assert not calendar.is_working_day(dt.date(2028, 3, 4))
        assert calendar.is_working_day(dt.date(2028, 10, 2))  # a Monday: no National Day assumed
    warnings = [r for r in caplog.records if "2028" in r.getMessage()]
    assert len(warnings) == 1 and warnings[0].levelno == logging.WARNING
    assert "周一至周五" in warnings[0].getMessage()
    assert calendar.notices == [CalendarYearUnknown(2028, warnings[0].getMessage())]
    # once per process: a second calendar adds its own notice, but logs nothing again
    caplog.clear()
    other = WorkingDayCalendar()
    other.is_working_day(dt.date(2028, 5, 1))
    assert [n.year for n in other.notices] == [2028]
    assert not [r for r in caplog.records if "2028" in r.getMessage()]


def test_the_last_december_days_of_a_known_year_wait_for_the_next_notice():
    """The 2019 notice moved 2018-12-29 (a Saturday became a working day): late December is
    settled by the following year's notice, so chinese-calendar's last year is only partly known."""
    assert chinese_calendar.is_workday(dt.date(2018, 12, 29))
    assert dt.date(2018, 12, 29).weekday() == 5
    last = wd.LIBRARY_LAST_YEAR
    calendar = WorkingDayCalendar()
    calendar.working_days_between(dt.date(last, 12, 1), dt.date(last, 12, 20))
    assert calendar.notices == []
    calendar.is_working_day(dt.date(last, 12, 28))
    [notice] = calendar.notices
    assert isinstance(notice, CalendarYearUnknown) and notice.year == last + 1
    assert "12 月 25 日至 31 日" in notice.message
    # once the next year is imported, nothing to say
    known_next = WorkingDayCalendar([ImportedYear(last + 1, "国办发明电（测试）", False)], [])
    known_next.is_working_day(dt.date(last, 12, 28))
    assert known_next.notices == []


def test_a_year_in_the_library_range_with_only_part_of_its_notice_is_unknown(monkeypatch):
    """chinese-calendar's range check counts a year in from a single entry; we do not."""
    partial = dict(chinese_calendar.holidays)
    next_year = wd.LIBRARY_LAST_YEAR + 1
    partial[dt.date(next_year, 1, 1)] = Holiday.new_years_day.value
    monkeypatch.setattr(wd, "_LIBRARY_HOLIDAYS", partial)
    first, last, complete = wd._library_years()
    assert last == next_year
    assert next_year not in complete and wd.LIBRARY_LAST_YEAR in complete
    assert set(range(first, last)) == set(complete)


def test_illustrative_years_are_flagged_whenever_used(caplog):
    calendar = WorkingDayCalendar([ImportedYear(2027, "示例（非官方）", True)],
                                  [OverrideDay(dt.date(2027, 10, 1), False, "国庆节", 2027)])
    assert calendar.known(2027)
    with caplog.at_level(logging.WARNING):
        assert not calendar.is_working_day(dt.date(2027, 10, 1))
    [notice] = calendar.notices
    assert isinstance(notice, CalendarYearIllustrative) and notice.year == 2027
    assert "示例" in notice.message and "不是国务院办公厅的正式通知" in notice.message
    assert any("示例" in r.getMessage() for r in caplog.records)
    assert calendar.take_notices() == [notice] and calendar.notices == []


override_days = st.lists(
    st.tuples(st.dates(min_value=dt.date(2026, 6, 1), max_value=dt.date(2028, 6, 30)), st.booleans()),
    max_size=40)


@settings(max_examples=150, deadline=None)
@given(overrides=override_days,
       start=st.dates(min_value=dt.date(2025, 6, 1), max_value=dt.date(2028, 12, 31)),
       n=st.integers(-400, 400), other=st.dates(min_value=dt.date(2025, 6, 1), max_value=dt.date(2028, 12, 31)))
def test_counting_tables_match_a_day_by_day_walk(overrides, start, n, other):
    calendar = WorkingDayCalendar([], [OverrideDay(d, w, "测试", d.year) for d, w in dict(overrides).items()])
    # add: walk day by day
    step = ONE_DAY if n > 0 else -ONE_DAY
    walked, remaining = start, abs(n)
    while remaining:
        walked += step
        remaining -= naive_is_working(calendar, walked)
    assert calendar.add_working_days(start, n) == walked
    # between: count day by day
    lo, hi = min(start, other), max(start, other)
    plain = sum(naive_is_working(calendar, lo + i * ONE_DAY) for i in range(1, (hi - lo).days + 1))
    assert calendar.working_days_between(start, other) == (plain if other >= start else -plain)
    if n > 0 or (n < 0 and calendar.is_working_day(start)):
        assert calendar.working_days_between(start, walked) == n


# ---------------------------------------------------------------------------------------
# the year file


def test_the_example_2027_file_is_valid_and_marked_illustrative():
    year_file = load_year_file(EXAMPLE_2027)
    assert year_file.year == 2027 and year_file.illustrative and "示例" in year_file.source
    names = {h.name for h in year_file.holidays}
    assert {"元旦", "春节", "清明节", "劳动节", "端午节", "中秋节", "国庆节"} <= names
    assert all(w.date.weekday() >= 5 for w in year_file.working_weekends)
    text = EXAMPLE_2027.read_text(encoding="utf-8")
    assert "不是国务院办公厅的放假通知" in text and "NOT the State Council's notice" in text


GOOD = """\
year: 2027
source: 国办发明电〔2026〕1号
illustrative: false
holidays:
  - {name: 春节, from: 2027-02-05, to: 2027-02-12}
  - {name: 国庆节, from: 2027-10-01, to: 2027-10-07}
working_weekends:
  - {name: 春节, date: 2027-02-20}
"""


@pytest.mark.parametrize(("text", "line", "fragments"), [
    (GOOD.replace("to: 2027-02-12", "to: 2027-02-01"), 5, ["holidays 第 1 项的 to", "早于开始日"]),
    (GOOD.replace("from: 2027-10-01, to: 2027-10-07", "from: 2028-10-01, to: 2028-10-07"), 6,
     ["holidays 第 2 项的 from", "不在 2027 年内"]),
    (GOOD.replace("date: 2027-02-20", "date: 2027-02-22"), 8,
     ["working_weekends 第 1 项的 date", "星期一", "不是周末"]),
    (GOOD.replace("2027-10-01, to: 2027-10-07", "2027-02-10, to: 2027-02-14"), 6,
     ["2027-02-10 已在 holidays 第 1 项（春节）中"]),
    (GOOD.replace("date: 2027-02-20", "date: 2027-02-06"), 8, ["2027-02-06 已在 holidays 第 1 项（春节）中"]),
    (GOOD + "  - {name: 春节, date: 2027-02-20}\n", 9,
     ["working_weekends 第 2 项的 date", "2027-02-20 已在 working_weekends 第 1 项"]),
    (GOOD.replace("working_weekends:", "working_weekend:"), 7, ["未知的键「working_weekend」"]),
    (GOOD.replace("to: 2027-02-12", "to: 2027-02-30"), 5, ["「2027-02-30」不是存在的日期"]),
    (GOOD.replace("to: 2027-02-12", "to: 2月12日"), 5, ["「2月12日」不是日期", "YYYY-MM-DD"]),
    (GOOD.replace("to: 2027-10-07", "to: 2027-12-07"), 6, ["共 68 天", "超过 12 天"]),
    (GOOD.replace("source: 国办发明电〔2026〕1号", "source: 示例（非官方）"), 3, ["illustrative: false", "示例文件请写 true"]),
    (GOOD.replace("year: 2027", "year: 二〇二七"), 1, ["「二〇二七」不是整数年份"]),
    (GOOD.replace("illustrative: false", "illustrative: 也许"), 3, ["「也许」应为 true"]),
    (GOOD + "year: 2028\n", 9, ["year：键重复"]),
    (GOOD.replace("  - {name: 国庆节", "  -  {name: 国庆节: x"), 6, ["YAML 格式错误"]),
    ("year: 2027\nsource: 国办发明电〔2026〕1号\nillustrative: false\nholidays: []\n", 4, ["holidays 为空"]),
    (GOOD.replace("{name: 春节, date", "{name: '', date"), 8, ["working_weekends 第 1 项的 name", "不能为空"]),
])
def test_each_problem_in_a_year_file_is_named_with_its_line(text, line, fragments):
    with pytest.raises(CalendarFileError) as caught:
        parse_year_file(text, "2027.yaml")
    problems = caught.value.problems
    matching = [p for p in problems if all(f in p.message for f in fragments)]
    assert matching, [p.message for p in problems]
    assert matching[0].line == line
    assert f"第 {line} 行" in matching[0].message
    assert "「2027.yaml」" in str(caught.value) and "未导入任何内容" in str(caught.value)


def test_a_missing_top_level_key_is_named():
    with pytest.raises(CalendarFileError, match="文件缺少必填项 illustrative（示例文件写 true"):
        parse_year_file(GOOD.replace("illustrative: false\n", ""))
    with pytest.raises(CalendarFileError, match="文件是空的"):
        parse_year_file("")


def test_new_year_may_reach_back_into_december_but_nothing_else_may():
    text = GOOD.replace("holidays:\n", "holidays:\n  - {name: 元旦, from: 2026-12-31, to: 2027-01-02}\n")
    year_file = parse_year_file(text)
    assert (dt.date(2026, 12, 31), False, "元旦") in year_file.override_days()
    with pytest.raises(CalendarFileError, match="不在 2027 年内"):
        parse_year_file(text.replace("{name: 元旦, from: 2026-12-31", "{name: 春节, from: 2026-12-31"))
    with pytest.raises(CalendarFileError, match="元旦最早可从 2026 年 12 月 25 日起"):
        parse_year_file(text.replace("from: 2026-12-31", "from: 2026-12-20"))


# ---------------------------------------------------------------------------------------
# the store


def _count(engine, model) -> int:
    with Session(engine) as session:
        return len(session.exec(select(model)).all())


def test_import_then_reimport_replaces_the_year_atomically(engine):
    with session_scope(engine) as session:
        first = import_calendar_year(session, load_year_file(EXAMPLE_2027), entered_by="张三", file_name="a.yaml")
    assert first.replaced_source is None and first.illustrative
    with Session(engine) as session:
        calendar = load_calendar(session)
    assert active_calendar() is calendar
    assert not workdays.is_working_day(dt.date(2027, 2, 8))  # 春节 in the example
    assert workdays.is_working_day(dt.date(2027, 1, 31))  # a Sunday worked in the example
    assert calendar.coverage(2027).illustrative

    with session_scope(engine) as session:
        second = import_calendar_year(session, parse_year_file(GOOD), entered_by="李四", file_name="b.yaml")
    assert second.replaced_source == "示例（非官方）"
    with Session(engine) as session:
        rows = session.exec(select(WorkdayOverride).order_by(WorkdayOverride.date)).all()
        year = session.exec(select(CalendarYear)).one()
        events = session.exec(select(Event).where(Event.type == "calendar.imported").order_by(Event.id)).all()
        calendar = load_calendar(session)
    assert {r.date for r in rows} == {d for d, _, _ in parse_year_file(GOOD).override_days()}
    assert {r.source for r in rows} == {"国办发明电〔2026〕1号"} and {r.entered_by for r in rows} == {"李四"}
    assert (year.source, year.illustrative, year.entered_by) == ("国办发明电〔2026〕1号", False, "李四")
    assert year.entered_at.tzinfo is not None
    assert [e.payload["replaced_source"] for e in events] == [None, "示例（非官方）"]
    assert calendar.is_working_day(dt.date(2027, 1, 31)) is False  # the example's 调休 is gone
    assert calendar.notices == [] and not calendar.coverage(2027).illustrative


def test_a_clash_with_another_years_notice_stores_nothing(engine):
    year_2026 = GOOD.replace("2027", "2026").replace("2026-02-20", "2026-02-21").replace(
        "holidays:\n", "holidays:\n  - {name: 调整, from: 2026-12-31, to: 2026-12-31}\n")
    with session_scope(engine) as session:
        import_calendar_year(session, parse_year_file(year_2026), entered_by="张三")
    before = _count(engine, WorkdayOverride)
    reaching_back = GOOD.replace("holidays:\n", "holidays:\n  - {name: 元旦, from: 2026-12-31, to: 2027-01-02}\n")
    with pytest.raises(CalendarImportError, match="2026-12-31（2026 年通知的「调整」）"), \
            session_scope(engine) as session:
        import_calendar_year(session, parse_year_file(reaching_back), entered_by="张三")
    assert _count(engine, WorkdayOverride) == before
    assert _count(engine, CalendarYear) == 1


# ---------------------------------------------------------------------------------------
# the CLI


runner = CliRunner()


def test_cli_import_show_check(db_url, tmp_path):
    result = runner.invoke(app, ["calendar", "check", "--from", "2026-12-01", "--to", "2027-12-31"])
    assert result.exit_code == 0, result.output
    assert "2026 年：chinese-calendar" in result.stdout
    assert "2027 年：未知" in result.stdout
    assert "2027 年的放假安排未知" in result.stderr
    assert runner.invoke(app, ["calendar", "check", "--from", "2026-12-01", "--to", "2027-12-31",
                               "--strict"]).exit_code == 1

    result = runner.invoke(app, ["calendar", "import", str(EXAMPLE_2027), "--as", "王五"])
    assert result.exit_code == 0, result.output
    assert "已导入 2027 年的放假安排" in result.stdout and "调休上班 5 天" in result.stdout
    assert "示例日历" in result.stderr

    result = runner.invoke(app, ["calendar", "show", "2027"])
    assert result.exit_code == 0, result.output
    assert "来源：已导入的放假通知（来源：示例（非官方））" in result.stdout
    assert "导入：王五" in result.stdout
    assert "春节  2月5日（周五）至2月12日（周五）放假，共 8 天" in result.stdout
    assert "春节  1月31日（周日）调休上班" in result.stdout
    assert "不是国务院办公厅的正式通知" in result.stderr

    result = runner.invoke(app, ["calendar", "check", "--from", "2026-12-01", "--to", "2027-12-31"])
    assert result.exit_code == 0
    assert "2027 年：已导入的放假通知（来源：示例（非官方））——示例" in result.stdout
    assert "取决于 2028 年元旦" in result.stderr

    # a library year shows the library's holidays and make-up days
    result = runner.invoke(app, ["calendar", "show", "2026"])
    assert result.exit_code == 0
    saturday = library_working_weekends(2026)[1]
    assert f"{saturday.month}月{saturday.day}日（周六）调休上班" in result.stdout

    # re-import of the same year replaces it, a bad file changes nothing
    official = tmp_path / "2027.yaml"
    official.write_text(GOOD, encoding="utf-8")
    result = runner.invoke(app, ["calendar", "import", str(official)])
    assert result.exit_code == 0 and "已替换 2027 年的放假安排（原来源：示例（非官方））" in result.stdout
    broken = tmp_path / "broken.yaml"
    broken.write_text(GOOD.replace("date: 2027-02-20", "date: 2027-02-22").replace("国办发明电〔2026〕1号", "新"),
                      encoding="utf-8")
    result = runner.invoke(app, ["calendar", "import", str(broken)])
    assert result.exit_code == 2
    assert "第 8 行，working_weekends 第 1 项的 date" in result.stderr
    assert "Traceback" not in result.output
    with Session(get_engine(db_url)) as session:
        assert session.exec(select(CalendarYear)).one().source == "国办发明电〔2026〕1号"
        assert len(session.exec(select(WorkdayOverride)).all()) == 16


def test_cli_rejects_a_bad_date_option(db_url):
    result = runner.invoke(app, ["calendar", "check", "--from", "12/01/2026"])
    assert result.exit_code == 2 and "--from「12/01/2026」不是日期" in result.stderr


def test_every_cli_command_counts_on_the_store_and_prints_notices_in_the_end(db_url):
    """The app callback: a command that counts dates in 2028 (unknown) and 2027 (imported
    example) ends with both notices on stderr, and the caller's calendar is restored after."""
    assert runner.invoke(app, ["calendar", "import", str(EXAMPLE_2027)]).exit_code == 0
    probe = typer.Typer()
    probe.callback()(count_on_store_calendar)

    @probe.command()
    def due(start: str, n: int) -> None:
        print(workdays.add_working_days(dt.date.fromisoformat(start), n))

    mine = WorkingDayCalendar()
    set_active_calendar(mine)
    result = runner.invoke(probe, ["due", "2027-12-20", "10"])
    assert result.exit_code == 0, result.output
    # 2027-12-20 is a Monday; the 10th working day after it is in January 2028 (Monday–Friday)
    assert result.stdout.strip() == "2028-01-03"
    assert "示例文件" in result.stderr and "2028 年的法定节假日安排未知" in result.stderr
    assert active_calendar() is mine

    result = runner.invoke(probe, ["due", "2027-09-30", "1"])  # over the example's National Day
    assert result.stdout.strip() == "2027-10-08"
