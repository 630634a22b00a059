"""Background jobs of the data foundation (Huey autodiscovers this module; each part's jobs are imported below).

共享申请 SLA and grant expiry (services.grants): every 15 minutes the requests past their answer deadline are
flagged and the centre told once; grants past valid_until are expired with their requests; once a day requesters
are reminded of grants ending within 10 working days. Each row is changed under its lock or a conditional update,
so several consumers running the same sweep act on each row once.
"""

from __future__ import annotations

import logging

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from .services.grants import (
    share_grants_expire_sweep,
    share_grants_remind_sweep,
    share_requests_overdue_sweep,
)

log = logging.getLogger("yiwang.datahub")

__all__ = ["share_requests_overdue_periodic", "share_grants_expire_periodic", "share_grants_remind_periodic"]


@db_periodic_task(crontab(minute="*/15"))
def share_requests_overdue_periodic() -> int:
    """Every 15 minutes: conditional requests the provider has not answered in time → the centre is told."""
    marked = share_requests_overdue_sweep()
    if marked:
        log.info("share requests overdue", extra={"marked": marked})
    return marked


@db_periodic_task(crontab(minute="*/5"))
def share_grants_expire_periodic() -> int:
    """Every 5 minutes: grants past their validity expire (the gateway refuses them at once anyway)."""
    expired = share_grants_expire_sweep()
    if expired:
        log.info("share grants expired", extra={"expired": expired})
    return expired


@db_periodic_task(crontab(minute="20", hour="1"))
def share_grants_remind_periodic() -> int:
    """Daily: requesters of grants ending within 10 working days are reminded (once per validity period)."""
    reminded = share_grants_remind_sweep()
    if reminded:
        log.info("share grants expiry reminders", extra={"reminded": reminded})
    return reminded


# Jobs of the other parts, one module each (the consumer autodiscovers `tasks` only).
from .tasks_harvest import *  # noqa: E402,F401,F403
from .tasks_quality import *  # noqa: E402,F401,F403
from .tasks_scorecard import *  # noqa: E402,F401,F403
