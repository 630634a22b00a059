"""Background jobs of 告知承诺 and 容缺 (imported by cases/tasks.py so the Huey consumer registers them).

Both sweeps are safe with several consumers: each row is changed under a row lock and rechecked there (the owed
sweep), or marked once (overdue_notified_at, set under the verification's row lock) for the overdue reminder.
"""

from __future__ import annotations

import logging
from datetime import date

from django.utils import timezone
from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from ..models import Case, PledgeVerification
from .services import case_owed_expire, pledge_verification_mark_overdue

log = logging.getLogger("yiwang.cases")

__all__ = [
    "cases_owed_sweep",
    "pledge_overdue_sweep",
    "cases_owed_periodic",
    "pledge_overdue_periodic",
]

PLEDGE_SWEEP_BATCH = 500


def cases_owed_sweep(*, today: date | None = None, batch: int = PLEDGE_SWEEP_BATCH) -> int:
    """Suspends (中止) open cases still owing 容缺 materials after their deadline. Returns how many."""
    today = today or timezone.localdate()
    suspended = 0
    last_id = 0
    while True:
        rows = list(
            Case.objects.filter(state__in=Case.OPEN_STATES, owed_deadline__lt=today, id__gt=last_id)
            .order_by("id")
            .only("id")[:batch]
        )
        if not rows:
            break
        for case in rows:
            if case_owed_expire(case=case, today=today) is not None:
                suspended += 1
        last_id = rows[-1].pk
    return suspended


def pledge_overdue_sweep(*, today: date | None = None, batch: int = PLEDGE_SWEEP_BATCH) -> int:
    """Reminds the department heads of pending 核查 past their due date, once per verification."""
    today = today or timezone.localdate()
    notified = 0
    last_id = 0
    while True:
        rows = list(
            PledgeVerification.objects.filter(
                status=PledgeVerification.Status.PENDING,
                due_date__lt=today,
                overdue_notified_at__isnull=True,
                id__gt=last_id,
            )
            .order_by("id")
            .only("id")[:batch]
        )
        if not rows:
            break
        for verification in rows:
            if pledge_verification_mark_overdue(verification=verification, today=today):
                notified += 1
        last_id = rows[-1].pk
    return notified


@db_periodic_task(crontab(minute="25", hour="*"))
def cases_owed_periodic() -> int:
    """Hourly: cases past their 容缺 deadline that still owe materials are suspended."""
    suspended = cases_owed_sweep()
    if suspended:
        log.info("cases suspended after owed-materials deadline", extra={"suspended": suspended})
    return suspended


@db_periodic_task(crontab(minute="35", hour="*"))
def pledge_overdue_periodic() -> int:
    """Hourly: overdue 告知承诺核查 are reported to the department head (once each)."""
    notified = pledge_overdue_sweep()
    if notified:
        log.info("overdue pledge verifications reported", extra={"notified": notified})
    return notified
