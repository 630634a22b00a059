"""Background jobs of 一网统观: every 10 minutes `warnings_scan` raises sudden-rise (激增) warnings and catches up
on repeat and cluster warnings the intake checks missed (changed settings, channels outside the web process).
Each warning is raised once per key, so several consumers running the scan at once raise nothing twice."""

from __future__ import annotations

import logging

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from .services.warnings import warnings_scan

log = logging.getLogger("yiwang.incidents")

__all__ = ["warnings_scan_periodic"]


@db_periodic_task(crontab(minute="*/10"))
def warnings_scan_periodic() -> int:
    raised = warnings_scan()
    log.info("warnings scan", extra={"raised": raised})
    return raised
