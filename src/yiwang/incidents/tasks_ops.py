"""Background jobs of 一网统观: after each committed intake, its repeat and cluster checks
(`warnings_check_after_intake`); every 10 minutes `warnings_scan` raises sudden-rise (激增) warnings and catches up
on repeat and cluster warnings the intake checks missed (changed settings, channels outside the web process, a
check task lost with its consumer). Each warning is raised once per key, so several consumers running the checks
or the scan at once — or one check run twice — raise nothing twice."""

from __future__ import annotations

import logging
from datetime import datetime

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from .services.warnings import warnings_check_committed, warnings_scan

log = logging.getLogger("yiwang.incidents")

__all__ = ["warnings_check_after_intake", "warnings_scan_periodic"]


@db_task()
def warnings_check_after_intake(incident_id: int, at: datetime) -> int:
    """Repeat and cluster checks of one intake, enqueued once it has committed (services.warnings)."""
    return warnings_check_committed(incident_id, at)


@db_periodic_task(crontab(minute="*/10"))
def warnings_scan_periodic() -> int:
    raised = warnings_scan()
    log.info("warnings scan", extra={"raised": raised})
    return raised
