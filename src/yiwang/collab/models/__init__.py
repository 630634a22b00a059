"""一网协同's models, one module per part (ARCHITECTURE: files stay small)."""

from .common import CollabSequence, Period
from .documents import (
    Confidentiality,
    Document,
    DocumentFile,
    DocumentParty,
    DocumentStep,
    DocumentVersion,
    RoleClearance,
)
from .forms import FormAssignment, FormIssue, FormRow, ReportField, ReportForm
from .indicators import Indicator, IndicatorValue, PerformancePlan, PerformanceScore
from .meetings import AgendaItem, Attendee, Decision, Meeting, MeetingPaper
from .tasks import Task, TaskEvent, TaskEvidence, TaskMilestone, TaskReport, TaskUnit
from .workbench import Notice, NoticeAudience, NoticeRecipient, StaffActivity

__all__ = [
    "AgendaItem",
    "Attendee",
    "CollabSequence",
    "Confidentiality",
    "Decision",
    "Document",
    "DocumentFile",
    "DocumentParty",
    "DocumentStep",
    "DocumentVersion",
    "FormAssignment",
    "FormIssue",
    "FormRow",
    "Indicator",
    "IndicatorValue",
    "Meeting",
    "MeetingPaper",
    "Notice",
    "NoticeAudience",
    "NoticeRecipient",
    "PerformancePlan",
    "PerformanceScore",
    "Period",
    "ReportField",
    "ReportForm",
    "RoleClearance",
    "StaffActivity",
    "Task",
    "TaskEvent",
    "TaskEvidence",
    "TaskMilestone",
    "TaskReport",
    "TaskUnit",
]
