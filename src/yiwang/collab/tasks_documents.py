"""Background jobs of 公文流转 (`collab/tasks.py` imports this module so Huey's consumer finds it).

Every working morning and early afternoon the reminder sweep tells the holders and handlers of overdue documents
(at most once a day each: the sweep skips whoever was already reminded that day).
"""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

__all__ = ["documents_remind_periodic"]


@db_periodic_task(crontab(minute="5", hour="9,14"))
def documents_remind_periodic() -> int:
    from .services.document_flow import documents_remind_sweep

    return documents_remind_sweep()
