"""Huey jobs of 填表报数 II: the daily reminder sweep (units not submitted two working days before the due date,
and overdue ones; at most once a day per unit)."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from .services.reports import reports_remind_sweep


@db_periodic_task(crontab(hour="1", minute="30"))  # 09:30 Asia/Shanghai when the consumer runs in UTC
def reports_remind() -> dict[str, int]:
    return reports_remind_sweep()
