"""Background jobs of 物联感知: the hourly silent-device check logs how many active devices have not reported
for a day (the 感知设备 page shows them as 离线), so operations notice a dead sensor or a stopped consumer."""

from __future__ import annotations

import logging

from django.utils import timezone
from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from .models import Device
from .services.iot import SILENT_AFTER

log = logging.getLogger("yiwang.incidents.iot")

__all__ = ["devices_silent_check"]


def devices_silent_count(*, now=None) -> int:
    cutoff = (now or timezone.now()) - SILENT_AFTER
    return Device.objects.filter(is_active=True, last_seen_at__lt=cutoff).count()


@db_periodic_task(crontab(minute="25"))
def devices_silent_check() -> int:
    count = devices_silent_count()
    if count:
        log.warning("iot devices silent for a day", extra={"count": count})
    return count
