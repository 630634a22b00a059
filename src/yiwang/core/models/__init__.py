"""Core models, split by resource: organisation, people, identity, audit, calendar."""

from .audit import AuditEntry, EvidenceLeaf, EvidenceNode, EvidencePending, TreeHead
from .calendar import CalendarDay
from .identity import Account, ApiToken, RegisteredSystem
from .notify import Notification, OutboxMessage
from .org import Department, Division, Staff, StaffRole
from .people import Organisation, Person, Representation
from .witness import WitnessAlarm, WitnessedHead

__all__ = [
    "Account",
    "ApiToken",
    "AuditEntry",
    "EvidenceLeaf",
    "EvidenceNode",
    "EvidencePending",
    "CalendarDay",
    "Department",
    "Division",
    "Notification",
    "OutboxMessage",
    "Organisation",
    "Person",
    "Representation",
    "RegisteredSystem",
    "Staff",
    "StaffRole",
    "TreeHead",
    "WitnessAlarm",
    "WitnessedHead",
]
