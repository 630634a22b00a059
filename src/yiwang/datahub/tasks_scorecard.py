"""Background job of 数据治理考核 (Huey; `datahub/tasks.py` imports this module so the consumer finds it).

Every night at 02:40 the current quarter's scorecards are recomputed as the system; during the first 15 days of a
quarter the previous quarter is recomputed too (late census returns, answers and corrections are still counted
against their deadlines, and the state metrics are read close to the quarter's end), and during 1–15 January the
previous year as well. Two consumers running it at once serialise on the weights' row locks and write the same rows.
"""

from __future__ import annotations

import logging

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

log = logging.getLogger("yiwang.datahub")

__all__ = ["scorecard_compute_periodic", "scorecard_periods_due"]

CLOSING_DAYS = 15


def scorecard_periods_due(today) -> list[str]:
    """The periods the nightly job computes on `today` (a local date)."""
    from .scorecard_metrics import period_current

    current = period_current(today=today)
    periods = [current.code]
    if (today - current.start).days < CLOSING_DAYS:
        periods.append(current.previous().code)
        if current.quarter == 1:
            periods.append(str(today.year - 1))
    return periods


@db_periodic_task(crontab(minute="40", hour="2"))
def scorecard_compute_periodic() -> int:
    """Nightly: recompute the current quarter (and, early in a quarter, the closing periods); returns how many
    scorecards were written."""
    from django.utils import timezone

    from .services.scorecard import scorecard_compute

    written = 0
    for period in scorecard_periods_due(timezone.localdate()):
        written += len(scorecard_compute(actor=None, period=period).cards)
    log.info("scorecards computed", extra={"scorecards": written})
    return written
