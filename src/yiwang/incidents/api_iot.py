"""IoT API (/api/incidents/iot): the sensor webhook and the device list.

`POST /readings` takes one reading `{device, value, ts}` or a batch `{readings: [...]}` (up to 500) from a
registered system with the scope incident.intake (an IoT platform) or a district administrator with
incident.manage, and answers each reading's outcome: ignored (with the reason) / normal / over / alarm opened
<number> / repeat of <number>. The same `reading_ingest` service as the MQTT consumer decides. Bad bodies are a
422 problem+json with field errors. `GET /devices` lists devices with their alarm state (incident.supervise or
incident.manage).

(No `from __future__ import annotations` here: django-ninja reads the parameter annotations at import time.)
"""

from datetime import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema

from yiwang.core.apiutils import principal_of, requires
from yiwang.core.pagination import CURSOR_MAX
from yiwang.core.permissions import INCIDENT_INTAKE, INCIDENT_MANAGE, INCIDENT_SUPERVISE
from yiwang.core.schemas import ProblemOut

from .models import Device
from .selectors_iot import device_state, devices_visible
from .services.iot import reading_ingest

router = Router(tags=["一网统管"])

_ERRORS = {401: ProblemOut, 403: ProblemOut, 422: ProblemOut}
BATCH_MAX = 500


class ReadingIn(Schema):
    device: str = Field(min_length=1, max_length=64, description="设备编号")
    value: float | bool | None = Field(None, description="读数（数字；报警标志类设备为 true/false）")
    ts: datetime | None = Field(None, description="采集时间（ISO 8601），缺省为接收时间")
    payload: dict | None = Field(None, description="其他字段（读数字段不叫 value 的设备类型用）")


class ReadingsIn(Schema):
    """Either one reading (device, value, ts) or `readings`: a batch."""

    device: str | None = Field(None, max_length=64)
    value: float | bool | None = None
    ts: datetime | None = None
    payload: dict | None = None
    readings: list[ReadingIn] | None = Field(None, description=f"批量读数，最多 {BATCH_MAX} 条")


class OutcomeOut(Schema):
    device: str
    outcome: str = Field(description="ignored / normal / over / alarm / repeat")
    label: str
    incident_number: str | None = None
    value: float | None = None
    reason: str = ""


class ReadingsOut(Schema):
    results: list[OutcomeOut]
    counts: dict[str, int]


class DeviceOut(Schema):
    code: str
    name: str
    type_code: str
    type_name: str
    unit: str
    lon: float
    lat: float
    address: str
    grid_code: str | None = None
    grid_name: str | None = None
    last_value: float | None = None
    last_seen_at: datetime | None = None
    state: str = Field(description="alarm / debounce / over / silent / normal / off")
    state_label: str
    alarm_incident_number: str | None = None
    alarm_repeats: int
    is_active: bool


class DevicePage(Schema):
    items: list[DeviceOut]
    next_cursor: str | None = None


class DeviceQuery(Schema):
    type: str | None = Field(None, max_length=32, description="设备类型编码")
    state: str | None = Field(None, pattern="^alarm$", description="alarm：只列报警中的设备")
    cursor: str | None = Field(None, max_length=CURSOR_MAX)
    limit: int = Field(50, ge=1, le=200)


def _readings(payload: ReadingsIn) -> list[ReadingIn]:
    if payload.readings is not None:
        if payload.device is not None:
            raise ValidationError({"readings": _("单条读数（device）和批量读数（readings）只能二选一。")})
        if not payload.readings:
            raise ValidationError({"readings": _("批量读数不能为空。")})
        if len(payload.readings) > BATCH_MAX:
            raise ValidationError({"readings": _("一次最多提交 %(n)s 条读数。") % {"n": BATCH_MAX}})
        return payload.readings
    if not payload.device:
        raise ValidationError({"device": _("请填写设备编号（device），或用 readings 批量提交。")})
    return [ReadingIn(device=payload.device, value=payload.value, ts=payload.ts, payload=payload.payload)]


@router.post(
    "/readings",
    response={200: ReadingsOut, **_ERRORS},
    summary="传感器读数 webhook：单条 {device, value, ts} 或批量 {readings: [...]}",
)
@requires(INCIDENT_INTAKE, INCIDENT_MANAGE)
def readings(request: HttpRequest, payload: ReadingsIn):
    principal = principal_of(request)
    if not principal.is_system and not principal.has(INCIDENT_MANAGE):
        # incident.intake is for connected systems (IoT platforms); hotline operators do not post readings
        raise PermissionDenied(_("传感器读数须由授权的接入系统或区级管理员提交。"))
    results, counts = [], {}
    received_at = timezone.now()
    for reading in _readings(payload):
        body = dict(reading.payload or {})
        if reading.value is not None:
            body["value"] = reading.value
        if reading.ts is not None:
            body["ts"] = reading.ts.isoformat()
        outcome = reading_ingest(
            device_code=reading.device, payload=body, received_at=received_at, actor=principal
        )
        counts[outcome.status] = counts.get(outcome.status, 0) + 1
        results.append(
            {
                "device": reading.device,
                "outcome": outcome.status,
                "label": outcome.label,
                "incident_number": outcome.number or None,
                "value": outcome.value,
                "reason": outcome.reason,
            }
        )
    return {"results": results, "counts": counts}


def device_row(device: Device, at: datetime) -> dict:
    state, label = device_state(device, at=at)
    kind = device.device_type
    return {
        "code": device.code,
        "name": device.name,
        "type_code": kind.code,
        "type_name": kind.name,
        "unit": kind.unit,
        "lon": device.lon,
        "lat": device.lat,
        "address": device.address,
        "grid_code": device.grid.code if device.grid_id else None,
        "grid_name": device.grid.name if device.grid_id else None,
        "last_value": device.last_value,
        "last_seen_at": device.last_seen_at,
        "state": state,
        "state_label": label,
        "alarm_incident_number": device.alarm_incident.number if device.alarm_incident_id else None,
        "alarm_repeats": device.alarm_repeats,
        "is_active": device.is_active,
    }


@router.get("/devices", response={200: DevicePage, **_ERRORS}, summary="感知设备及其报警状态")
@requires(INCIDENT_SUPERVISE, INCIDENT_MANAGE)
def devices(request: HttpRequest, q: Query[DeviceQuery]):
    page = devices_visible(
        principal_of(request), type_code=q.type or "", state=q.state or "", cursor=q.cursor, limit=q.limit
    )
    at = timezone.now()
    return {"items": [device_row(d, at) for d in page.items], "next_cursor": page.next_cursor}
