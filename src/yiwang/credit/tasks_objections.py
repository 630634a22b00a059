"""Background job of 信用异议 (Huey). Every working morning at 09:00 the department head(s) of each department
with objections past their verification deadline get one reminder per objection (services.objections
.objections_remind_overdue: never twice the same day for the same objection and head).

Huey finds periodic tasks in an app's `tasks` module: `credit/tasks.py` must import this module."""

from __future__ import annotations

import logging

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

log = logging.getLogger("yiwang.credit")

__all__ = ["objections_overdue_periodic"]


@db_periodic_task(crontab(minute="0", hour="1"))  # 09:00 Asia/Shanghai when the consumer runs in UTC
def objections_overdue_periodic() -> int:
    from django.utils import timezone

    from yiwang.core.workdays import is_working_day, working_calendar

    from .services.objections import objections_remind_overdue

    if not is_working_day(timezone.localdate(), working_calendar()):
        return 0
    sent = objections_remind_overdue()
    if sent:
        log.info("credit objection reminders sent", extra={"sent": sent})
    return sent
