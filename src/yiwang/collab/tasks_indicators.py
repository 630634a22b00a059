"""Background job of 指标 and 公共绩效考评 (Huey; `collab/tasks.py` imports this module so the consumer finds it).

Every day at 03:10 every active indicator is computed for its current and previous period as the system (breaches
open 督办 tasks, recoveries are noted on them), then every active performance plan is scored for the current month
and, during the first 10 days of a month, the previous month too. Two consumers running it at once serialise on
the indicator and plan row locks and write the same rows; a value's task is opened once.
"""

from __future__ import annotations

import logging

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

log = logging.getLogger("yiwang.collab")

__all__ = ["indicators_daily", "performance_windows_due"]

CLOSING_DAYS = 10


def performance_windows_due(today) -> list[tuple]:
    """The (start, end) windows the daily job scores on `today`: this month, and early in a month the last one."""
    from .services.indicators import period_bounds, period_previous

    current = period_bounds("monthly", today)
    windows = [current]
    if (today - current[0]).days < CLOSING_DAYS:
        windows.append(period_previous("monthly", current[0]))
    return windows


def indicators_run(now=None) -> dict[str, int]:
    from django.utils import timezone

    from .models import PerformancePlan
    from .services.indicators import indicators_compute_due
    from .services.performance import performance_compute

    now = now or timezone.now()
    counts = indicators_compute_due(now=now)
    scores = 0
    today = timezone.localtime(now).date()
    for plan in PerformancePlan.objects.filter(is_active=True).order_by("code"):
        for start, end in performance_windows_due(today):
            scores += len(performance_compute(plan=plan, period_start=start, period_end=end, now=now))
    counts["scores"] = scores
    log.info("indicators computed", extra=counts)
    return counts


@db_periodic_task(crontab(minute="10", hour="3"))
def indicators_daily() -> dict[str, int]:
    """Daily: indicators (current and previous period) and performance scores."""
    return indicators_run()
