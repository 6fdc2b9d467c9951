"""Imports every table module so the metadata (and Alembic) sees all tables."""

from tracker.assessment.models import AssessmentSnapshot, ShortfallRecord
from tracker.calendar.models import CalendarYear, WorkdayOverride
from tracker.campaigns.models import Campaign, Department, Person, Phase, Review, ReviewFinding, School
from tracker.events.models import Event
from tracker.notices.models import NoticeItem, OutboundMessage
from tracker.schooldata.models import CountyInput, DataSubmission, SchoolDataRow
from tracker.tasks.models import Evidence, Task, TaskCooperator

__all__ = [
    "AssessmentSnapshot", "CalendarYear", "Campaign", "CountyInput", "DataSubmission", "Department", "Event", "Evidence",
    "NoticeItem", "OutboundMessage", "Person", "Phase", "Review", "ReviewFinding", "School", "SchoolDataRow", "ShortfallRecord", "Task",
    "TaskCooperator", "WorkdayOverride",
]
