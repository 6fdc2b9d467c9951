import pytest

from tracker.calendar import reset_active_calendar
from tracker.calendar.working_days import forget_logged_warnings


@pytest.fixture(autouse=True)
def _fresh_calendar_state():
    """Each test starts on chinese-calendar alone with no warning logged yet, and leaves it so."""
    reset_active_calendar()
    forget_logged_warnings()
    yield
    reset_active_calendar()
    forget_logged_warnings()
