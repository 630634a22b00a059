"""Background jobs of 督办 (Huey; `collab/tasks.py` imports this module so the consumer finds it).

Every 15 minutes the escalation sweep raises the levels of tasks nearing or past their due date or with an overdue
progress report (`services.task_escalation.tasks_escalate_sweep`); each raise is a conditional update, so several
consumers sweeping at once raise a task once.
"""

from __future__ import annotations

import logging

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

log = logging.getLogger("yiwang.collab")

__all__ = ["tasks_escalate_periodic"]


@db_periodic_task(crontab(minute="*/15"))
def tasks_escalate_periodic() -> dict:
    from .services.task_escalation import tasks_escalate_sweep

    result = tasks_escalate_sweep()
    if result.get("raised"):
        log.info("督办 levels raised", extra={"raised": result["raised"]})
    return result
