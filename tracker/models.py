"""Imports every table module so the metadata (and Alembic) sees all tables."""

from tracker.accounts.models import ApiToken, LoginThrottle, User, WebSession
from tracker.assessment.models import AssessmentSnapshot, ShortfallRecord
from tracker.briefings.models import Briefing
from tracker.calendar.models import CalendarYear, WorkdayOverride
from tracker.org.models import Campaign, Department, Person, Phase, School
from tracker.reports.models import ReportText
from tracker.reviews.models import Review, ReviewFinding
from tracker.events.models import Event
from tracker.leadership.models import LeaderLease
from tracker.notices.models import AttachmentContent, MessageAttachment, NoticeItem, OutboundMessage
from tracker.assessment.models import CountyInput
from tracker.schooldata.models import DataSubmission, SchoolDataRow
from tracker.tasks.models import Evidence, Task, TaskCooperator, TaskDueTally, TaskTally

__all__ = [
    "ApiToken", "LoginThrottle", "AssessmentSnapshot", "AttachmentContent", "Briefing", "CalendarYear", "Campaign", "CountyInput", "DataSubmission", "Department", "Event", "Evidence", "LeaderLease",
    "MessageAttachment", "NoticeItem", "OutboundMessage", "Person", "Phase", "ReportText", "Review", "ReviewFinding", "School", "SchoolDataRow", "ShortfallRecord", "Task",
    "TaskCooperator", "TaskDueTally", "TaskTally", "User", "WebSession", "WorkdayOverride",
]
