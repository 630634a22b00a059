"""Background job of 通知 (Huey; `collab/tasks.py` imports this module so the consumer finds it).

Every 15 minutes the unread recipients of receipt-requiring notices whose reminder interval has passed get one
reminder each; rows are claimed under a row lock with SKIP LOCKED, so several consumers remind each recipient once.
"""

from __future__ import annotations

import logging

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

log = logging.getLogger("yiwang.collab")

__all__ = ["notices_remind_periodic"]


@db_periodic_task(crontab(minute="*/15"))
def notices_remind_periodic() -> int:
    from .services.notices import notices_remind_sweep

    reminded = notices_remind_sweep()
    if reminded:
        log.info("notice reminders sent", extra={"reminded": reminded})
    return reminded
