"""Imports every table module so the metadata (and Alembic) sees all tables."""

from tracker.accounts.models import ApiToken, LoginThrottle, User, WebSession
from tracker.assessment.models import AssessmentSnapshot, ShortfallRecord
from tracker.briefings.models import Briefing
from tracker.calendar.models import CalendarYear, WorkdayOverride
from tracker.org.models import Campaign, Department, Person, Phase, School
from tracker.programmes.models import (
    Award, Objection, Pairing, PairingMember, PairingReport, PairingTask, PanelScore, ProgrammeEntry, Publicity,
)
from tracker.phases.models import PhaseStep
from tracker.reports.models import ReportText
from tracker.regions.models import CountyAssessmentSummary, Region, RegionCounty, RegionNotice
from tracker.reviews.models import Review, ReviewFinding
from tracker.gaps.models import GapPlanRecord
from tracker.events.models import Event, FlowRunRecord
from tracker.leadership.models import LeaderLease
from tracker.materials.models import EvidenceMaterial, MaterialChecklist
from tracker.assessment.models import CountyInput, CvHistory
from tracker.notices.models import (
    AttachmentContent, MessageAttachment, NoticeItem, OutboundMessage, OwedNotice, RobotWindow,
)
from tracker.schooldata.models import DataSubmission, SchoolDataRow
from tracker.surveys.models import Survey, SurveyCode, SurveyResponse
from tracker.tasks.models import (
    CooperatorReport, Evidence, Task, TaskCooperator, TaskDueTally, TaskExtension, TaskTally,
)

__all__ = [
    "ApiToken", "AssessmentSnapshot", "AttachmentContent", "Award", "Briefing", "CalendarYear",
    "Campaign", "CooperatorReport", "CountyAssessmentSummary", "CountyInput", "CvHistory",
    "DataSubmission", "Department", "Event", "Evidence", "EvidenceMaterial", "FlowRunRecord",
    "GapPlanRecord", "LeaderLease", "LoginThrottle", "MaterialChecklist", "MessageAttachment",
    "NoticeItem", "Objection", "OutboundMessage", "OwedNotice", "Pairing", "PairingMember",
    "PairingReport", "PairingTask", "PanelScore", "Person", "Phase", "PhaseStep", "ProgrammeEntry",
    "Publicity", "Region", "RegionCounty", "RegionNotice", "ReportText", "Review", "ReviewFinding",
    "RobotWindow", "School", "SchoolDataRow", "ShortfallRecord", "Survey", "SurveyCode",
    "SurveyResponse", "Task", "TaskCooperator", "TaskDueTally", "TaskExtension", "TaskTally",
    "User", "WebSession", "WorkdayOverride",
]
