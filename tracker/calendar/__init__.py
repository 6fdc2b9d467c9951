"""China's working-day calendar: chinese-calendar, plus the notices the office imports for later
years, plus a loud Monday–Friday fallback where nobody knows. See working_days.py for the rule;
tracker.workdays is the entry point the rest of the code calls."""

from tracker.calendar.working_days import (
    CHINA,
    LIBRARY,
    CalendarNotice,
    CalendarYearIllustrative,
    CalendarYearUnknown,
    DayStatus,
    WorkingDayCalendar,
    YearCoverage,
    active_calendar,
    load_calendar,
    local_date,
    reset_active_calendar,
    restore_calendar,
    set_active_calendar,
    take_active_notices,
    use_store_calendar,
)

__all__ = [
    "CHINA", "LIBRARY", "CalendarNotice", "CalendarYearIllustrative", "CalendarYearUnknown", "DayStatus",
    "WorkingDayCalendar", "YearCoverage", "active_calendar", "load_calendar", "local_date",
    "reset_active_calendar", "restore_calendar", "set_active_calendar", "take_active_notices",
    "use_store_calendar",
]
