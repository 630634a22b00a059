"""Background jobs of the 离岸库 harvesters (Huey; `datahub/tasks.py` imports this module so the consumer finds it).

Every five minutes the due harvesters run (`next_run_at` reached); each is claimed with a conditional update, so
several consumers never run one harvester twice. "立即采集" on a page or through the API queues
`harvest_run_task` once the request has committed.
"""

from __future__ import annotations

import logging

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

log = logging.getLogger("yiwang.datahub")

__all__ = ["harvest_due_periodic", "harvest_run_task"]


@db_task()
def harvest_run_task(harvester_id: int) -> str:
    """Runs one harvester now; returns the run's status (or "skipped" when it is gone or already running)."""
    from django.core.exceptions import ValidationError

    from .models import Harvester
    from .services.returnflow import harvest_run

    harvester = Harvester.objects.filter(pk=harvester_id, is_active=True).first()
    if harvester is None:
        return "skipped"
    try:
        return harvest_run(harvester=harvester).status
    except ValidationError:
        return "skipped"


@db_periodic_task(crontab(minute="*/5"))
def harvest_due_periodic() -> int:
    from .services.returnflow import harvest_due

    runs = harvest_due()
    if runs:
        log.info("harvesters run", extra={"runs": len(runs)})
    return len(runs)
