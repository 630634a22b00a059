"""Background jobs of the incident work (imported by incidents/tasks.py so the Huey consumer registers them):
the 督办 sweep raises overdue incidents up the division hierarchy every 15 minutes."""

from __future__ import annotations

import logging

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from .services.escalation import incidents_escalate_overdue

log = logging.getLogger("yiwang.incidents")

__all__ = ["incidents_escalate_periodic"]


@db_periodic_task(crontab(minute="*/15"))
def incidents_escalate_periodic() -> int:
    """Every 15 minutes: one 督办 step for each overdue incident that is due one."""
    moved = incidents_escalate_overdue()
    if moved:
        log.info("incidents escalated", extra={"escalated": moved})
    return moved
