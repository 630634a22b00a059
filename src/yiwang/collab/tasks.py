"""Background jobs of 一网协同 (Huey autodiscovers this module; each part's jobs live in its own
`tasks_<part>.py`, imported below)."""

from __future__ import annotations

from . import (
    tasks_documents,  # noqa: E402,F401
    tasks_indicators,  # noqa: E402,F401
    tasks_notices,  # noqa: E402,F401
    tasks_reports,  # noqa: E402,F401  填表报数: reminders
    tasks_tasks,  # noqa: E402,F401  督办: the escalation sweep
)
