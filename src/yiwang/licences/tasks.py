"""Background jobs of the licences app (Huey autodiscovers this module): the daily expiry sweep marks every valid
or suspended licence past its expiry date as expired (services.core.licences_expire_sweep; the conditional update
in licence_expire makes several consumers expire each licence once)."""

from __future__ import annotations

import logging

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from .services.core import licences_expire_sweep

log = logging.getLogger("yiwang.licences")

__all__ = ["licences_expire_periodic"]


@db_periodic_task(crontab(minute="10", hour="0"))
def licences_expire_periodic() -> int:
    count = licences_expire_sweep()
    if count:
        log.info("licences expired", extra={"count": count})
    return count
