"""Background job of 双随机、一公开 (Huey). The consumer finds jobs in `credit/tasks.py`, which must import this
module (`from .tasks_supervision import *  # noqa`).

Every morning at 08:30 the planners of each department with recorded results past their publication deadline
(publish_by, the matter's working days after the inspection) get one in-app reminder a day."""

from __future__ import annotations

import logging

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

log = logging.getLogger("yiwang.credit")

__all__ = ["inspections_publish_remind_periodic"]


@db_periodic_task(crontab(minute="30", hour="8"))
def inspections_publish_remind_periodic() -> int:
    from .services.inspections import inspections_publish_remind_sweep

    reminded = inspections_publish_remind_sweep()
    if reminded:
        log.info("inspection publication reminders sent", extra={"reminded": reminded})
    return reminded
