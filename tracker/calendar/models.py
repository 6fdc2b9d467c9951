"""Tables of the working-day calendar: the years the office has entered, and their days.

chinese-calendar knows the State Council's holiday notices up to the year it was released; for
later years the office enters the notice itself (``junheng calendar import``). Each imported year
is one ``CalendarYear`` row, and every date that notice changes is one ``WorkdayOverride`` row.
"""

from __future__ import annotations

import datetime as dt

from sqlmodel import Field, SQLModel

from tracker.db import UTCDateTime, utcnow


class CalendarYear(SQLModel, table=True):
    """One imported year's notice (国务院办公厅关于某年部分节假日安排的通知, or an example)."""

    id: int | None = Field(default=None, primary_key=True)
    year: int = Field(unique=True, index=True)
    source: str  # e.g. "国办发明电〔2026〕X号", or "示例（非官方）"
    illustrative: bool = False  # an example, not the official notice: said wherever it is used
    file_name: str = ""  # the file it was imported from, for the record
    entered_by: str
    entered_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class WorkdayOverride(SQLModel, table=True):
    """A date whose status the notice sets: a holiday (放假) or a weekend working day (调休上班).

    ``year`` is the notice's year, which is not always the date's: a notice may move the last days
    of the previous December (the 2019 notice made Saturday 2018-12-29 a working day for 元旦).
    """

    id: int | None = Field(default=None, primary_key=True)
    date: dt.date = Field(unique=True, index=True)
    year: int = Field(foreign_key="calendaryear.year", index=True)
    is_working_day: bool
    name: str  # the holiday it belongs to, e.g. 元旦, 春节; a working weekend names its holiday too
    source: str
    entered_by: str
    entered_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
