"""Background jobs of 好差评 (imported by cases/tasks.py so the Huey consumer registers them): overdue
rectifications are reminded to the department heads once per deadline (rectification_remind_overdue holds the
row lock and sets reminded_at, so several consumers remind once)."""

from __future__ import annotations

import logging
from datetime import date

from django.utils import timezone
from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from ..models import Rectification
from .services import rectification_remind_overdue

log = logging.getLogger("yiwang.cases")

__all__ = ["rectifications_overdue_sweep", "rectifications_overdue_periodic"]


def rectifications_overdue_sweep(*, today: date | None = None, batch: int = 500) -> int:
    """Reminds every rectification waiting for a department reply past its deadline. Returns how many."""
    today = today or timezone.localdate()
    reminded = 0
    last_id = 0
    while True:
        rows = list(
            Rectification.objects.filter(
                status__in=(Rectification.Status.OPEN, Rectification.Status.REJECTED),
                deadline__lt=today,
                reminded_at__isnull=True,
                id__gt=last_id,
            )
            .order_by("id")
            .only("id")[:batch]
        )
        if not rows:
            break
        for rect in rows:
            if rectification_remind_overdue(rectification=rect, today=today):
                reminded += 1
        last_id = rows[-1].pk
    return reminded


@db_periodic_task(crontab(minute="25", hour="*"))
def rectifications_overdue_periodic() -> int:
    """Hourly: 差评整改超期提醒."""
    reminded = rectifications_overdue_sweep()
    if reminded:
        log.info("rectifications reminded overdue", extra={"reminded": reminded})
    return reminded
