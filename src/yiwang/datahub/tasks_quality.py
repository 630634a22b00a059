"""Background jobs of 数据质量 (Huey; `datahub/tasks.py` imports this module so the consumer finds it).

Every hour the sweep runs the rules of the resources that are due (daily by default; weekly for monthly and
slower cycles); each resource is claimed under its row lock, so several consumers never run it twice. "立即检查"
on a page or through the API queues `quality_run_execute_task` once the request has committed.
"""

from __future__ import annotations

import logging

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

log = logging.getLogger("yiwang.datahub")

__all__ = ["quality_due_periodic", "quality_run_execute_task"]


@db_task()
def quality_run_execute_task(run_id: int) -> str:
    """Runs one queued quality run; returns its status (or "skipped" when it is gone)."""
    from .models import QualityRun
    from .services.quality import quality_run_execute

    run = QualityRun.objects.filter(pk=run_id).first()
    if run is None:
        return "skipped"
    return quality_run_execute(run=run).status


@db_periodic_task(crontab(minute="40"))
def quality_due_periodic() -> int:
    from .services.quality import quality_due

    runs = quality_due()
    if runs:
        log.info("quality runs", extra={"runs": len(runs)})
    return len(runs)
