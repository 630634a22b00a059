"""Background jobs of the licences app (Huey autodiscovers this module):
- the daily expiry sweep marks every valid or suspended licence past its expiry date as expired
  (services.core.licences_expire_sweep; the conditional update in licence_expire makes several consumers expire
  each licence once);
- batch imports (services.imports): one job per uploaded file, queued by licence_import_submit after commit
  (the claim in licence_import_run makes a job that two consumers pick up run once), and a sweep every quarter
  hour that ends imports whose consumer died and re-queues lost ones.
"""

from __future__ import annotations

import logging

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from .services.core import licences_expire_sweep
from .services.imports import licence_import_run, licence_imports_stale_sweep

log = logging.getLogger("yiwang.licences")

__all__ = ["licence_import_task", "licence_imports_sweep_periodic", "licences_expire_periodic"]


@db_periodic_task(crontab(minute="10", hour="0"))
def licences_expire_periodic() -> int:
    count = licences_expire_sweep()
    if count:
        log.info("licences expired", extra={"count": count})
    return count


@db_task()
def licence_import_task(import_id: int) -> str | None:
    """Runs one queued batch import; its final status, or None when another consumer ran it."""
    record = licence_import_run(import_id=import_id)
    return record.status if record is not None else None


@db_periodic_task(crontab(minute="*/15"))
def licence_imports_sweep_periodic() -> dict:
    counts = licence_imports_stale_sweep()
    if any(counts.values()):
        log.warning("licence imports swept", extra=counts)
    return counts
