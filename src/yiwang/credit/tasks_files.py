"""Background jobs of the credit files (Huey). `credit/tasks.py` must import this module so the consumer finds
it (Huey discovers each app's `tasks` module only).

- every night at 01:10: re-grade the files whose records or list entries ran out of effect yesterday;
- every night at 01:40: the platform sweep over the last two days (licences revoked for cause, verified 举报,
  failed 告知承诺 核查 the listener missed);
- every day at 03:00: the configured API harvesters (YIWANG_CREDIT_HARVESTERS);
- on publication of an evaluation model: re-grade every file, in batches.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.utils import timezone
from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

log = logging.getLogger("yiwang.credit")

__all__ = [
    "credit_expiry_periodic",
    "credit_files_reevaluate_task",
    "credit_harvest_periodic",
    "credit_platform_sweep_periodic",
]


@db_periodic_task(crontab(hour="1", minute="10"))
def credit_expiry_periodic() -> int:
    from .services.sweeps import credit_expiry_refresh

    done = credit_expiry_refresh()
    if done:
        log.info("credit files re-graded after expiry", extra={"files": done})
    return done


@db_periodic_task(crontab(hour="1", minute="40"))
def credit_platform_sweep_periodic() -> dict:
    from .services.sweeps import credit_platform_sweep

    return credit_platform_sweep(since=timezone.now() - timedelta(days=2))


@db_periodic_task(crontab(hour="3", minute="0"))
def credit_harvest_periodic() -> dict:
    from .services.harvesters import credit_harvest_all

    results = credit_harvest_all()
    if results:
        log.info("credit harvest", extra={"results": results})
    return results


@db_task()
def credit_files_reevaluate_task(version: int) -> int:
    """Re-grades every file after model `version` was published (a later publication re-grades again)."""
    from .models import CreditModel
    from .services.sweeps import credit_files_reevaluate

    if not CreditModel.objects.filter(version=version, is_active=True).exists():
        return 0  # superseded before this ran: the newer publication's job re-grades
    done = credit_files_reevaluate()
    log.info("credit files re-graded", extra={"version": version, "files": done})
    return done
