"""Background job of 红黑名单 (Huey): every day at 00:20 Asia/Shanghai (16:20 UTC) the entries whose period ended are marked
EXPIRED and their files re-evaluated (the measures stop applying). Batches are claimed with SKIP LOCKED, so
several consumers expire each entry once. (A `credit/tasks.py` importing this module lets the consumer find it.)"""

from __future__ import annotations

import logging

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

log = logging.getLogger("yiwang.credit")

__all__ = ["list_entries_expire_daily"]


@db_periodic_task(crontab(hour="16", minute="20"))  # 00:20 Asia/Shanghai when the consumer runs in UTC
def list_entries_expire_daily() -> int:
    from .services.lists import list_entries_expire

    expired = list_entries_expire()
    if expired:
        log.info("credit list entries expired", extra={"expired": expired})
    return expired
