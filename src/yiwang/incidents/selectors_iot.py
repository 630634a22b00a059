"""Reads of the sensor devices (物联感知) for the devices page, its API and the admin: each device's state for lists,
and the device list in the caller's area — a town command centre its town's grids, everyone else with the
permission the whole district (`scope.overseen_town_id`)."""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone
from django.utils.translation import gettext as _

from yiwang.core.pagination import keyset_page
from yiwang.core.principal import Principal

from .models import Device, Incident
from .scope import overseen_town_id
from .services.iot import SILENT_AFTER, alarm_debounced

# --- a device's state ---------------------------------------------------------------------------------------


def device_state(device: Device, *, at: datetime | None = None) -> tuple[str, str]:
    """(key, Chinese label) of a device's state for lists: alarm / debounce / over / silent / normal / off."""
    at = at or timezone.now()
    incident = device.alarm_incident if device.alarm_incident_id else None
    if not device.is_active:
        return "off", _("已停用")
    if incident is not None and incident.state in Incident.OPEN_STATES:
        return "alarm", _("报警中")
    if incident is not None and alarm_debounced(device, incident, at):
        return "debounce", _("报警已结案（去抖期内）")
    if device.over_count:
        return "over", _("连续超限 %(n)s 次") % {"n": device.over_count}
    if device.last_seen_at is None or at - device.last_seen_at > SILENT_AFTER:
        return "silent", _("离线")
    return "normal", _("正常")


def devices_visible(
    principal: Principal,
    *,
    type_code: str = "",
    state: str = "",
    cursor: str | None = None,
    limit: int = 50,
):
    """The devices list (page and API): staff of a town command centre see the devices in their town's grids,
    everyone else with the permission the whole district. `state="alarm"` keeps devices whose alarm incident
    is open. Keyset-paginated by id; type, grid and alarm incident come in the same query."""

    qs = Device.objects.select_related("device_type", "grid", "alarm_incident")
    town_id = overseen_town_id(principal)
    if town_id is not None:
        qs = qs.filter(grid__parent__parent_id=town_id)
    if type_code:
        qs = qs.filter(device_type__code=type_code)
    if state == "alarm":
        qs = qs.filter(alarm_incident__state__in=Incident.OPEN_STATES)
    return keyset_page(qs, cursor=cursor, limit=limit)
