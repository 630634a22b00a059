"""Core models, split by resource: organisation, people, identity, audit, calendar."""

from .audit import AuditCheckpoint, AuditEntry, AuditHead
from .calendar import CalendarDay
from .identity import Account, ApiToken, RegisteredSystem
from .notify import Notification, OutboxMessage
from .org import Department, Division, Staff, StaffRole
from .people import Organisation, Person, Representation

__all__ = [
    "Account",
    "ApiToken",
    "AuditCheckpoint",
    "AuditEntry",
    "AuditHead",
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
]
