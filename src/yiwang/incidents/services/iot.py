"""物联感知: sensor devices and their readings (MQTT consumer, HTTP webhook) turned into incidents.

A reading is compared with the device's threshold (or its type's). Consecutive over-threshold readings are counted
on the device row (`over_count`); when the count reaches the type's `trigger_count` an alarm is raised:

- **debounce**: while the device's `alarm_incident` is open, or was closed less than `debounce_seconds` ago, a
  further alarm only bumps `alarm_repeats`. At most one "alarm_repeat" history event is written per debounce
  window: `last_alarm_at` is the moment the last alarm was *announced* (the incident opened or a repeat event
  written), and a repeat writes an event only when a whole window has passed since then. A sensor flapping every
  second for a day thus writes at most 48 events with the default 30-minute window, and never a second incident;
- otherwise a new incident is opened through the intake pipeline (channel "iot", kind 求助, the device type's
  category, the device's grid and address).

The device row is locked (`select_for_update`) for the alarm decision, so two consumers or two threads that
receive alarms of one device at once raise one incident, not two. Normal readings cost one UPDATE (last value,
last seen, over_count reset) and never lock anything for longer than that statement.

Unknown or inactive devices and unreadable payloads are refused with a clear reason (logged and counted in
`INGEST_COUNTERS`), never an exception: a consumer loop must survive any message.
"""

from __future__ import annotations

import logging
import math
import re
import threading
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from yiwang.core.audit import audit_record
from yiwang.core.permissions import INCIDENT_MANAGE
from yiwang.core.principal import Principal

from ..models import Device, DeviceType, Incident, IncidentCategory
from .common import incident_lock, incident_transition, now
from .intake import IntakeReport, incident_intake
from .routing import incident_locate

log = logging.getLogger("yiwang.incidents.iot")

CODE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}$")  # one MQTT topic segment: no '/', '+', '#'

# outcome statuses
IGNORED = "ignored"  # unknown/inactive device, unreadable payload
NORMAL = "normal"  # within the threshold
OVER = "over"  # over the threshold, fewer than trigger_count in a row so far
ALARM = "alarm"  # a new incident was opened
REPEAT = "repeat"  # debounced into the device's current alarm incident

SILENT_AFTER = timedelta(hours=24)  # a device not heard from for this long is 离线 (lists, the silent count)
INGEST_COUNTERS: Counter = Counter()
_COUNTER_LOCK = threading.Lock()


def _count(key: str) -> None:
    with _COUNTER_LOCK:
        INGEST_COUNTERS[key] += 1


@dataclass
class ReadingOutcome:
    device_code: str
    status: str
    value: float | None = None
    incident: Incident | None = None
    reason: str = ""  # why a reading was ignored

    @property
    def number(self) -> str:
        return self.incident.number if self.incident is not None else ""

    @property
    def label(self) -> str:
        """The outcome in words: 已忽略（原因）/ 正常 / 超限 / 已生成工单 … / 并入工单 …"""
        if self.status == ALARM:
            return _("已生成报警工单 %(number)s") % {"number": self.number}
        if self.status == REPEAT:
            return _("重复报警，并入工单 %(number)s") % {"number": self.number}
        if self.status == OVER:
            return _("超限，尚未达到连续报警次数")
        if self.status == NORMAL:
            return _("正常")
        return _("已忽略：%(reason)s") % {"reason": self.reason}


# --- reading the payload -------------------------------------------------------------------------------------
def _as_flag(raw) -> float | None:
    if isinstance(raw, bool):
        return 1.0 if raw else 0.0
    if isinstance(raw, (int, float)) and raw in (0, 1):
        return float(raw)
    if isinstance(raw, str) and raw.strip().lower() in {"true", "false", "1", "0", "on", "off"}:
        return 1.0 if raw.strip().lower() in {"true", "1", "on"} else 0.0
    return None


def _as_number(raw) -> float | None:
    if isinstance(raw, bool) or raw is None:
        return None
    try:
        value = float(raw)
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


def reading_value(device_type: DeviceType, payload) -> float | None:
    """The reading of `payload` for this type: `payload[metric]`, or the generic `payload["value"]` when the
    metric field is absent (the webhook and the topic contract use "value"). Flags read booleans (1.0 / 0.0)."""
    if not isinstance(payload, dict):
        return None
    raw = payload.get(device_type.metric, payload.get("value"))
    if device_type.comparison == DeviceType.Comparison.FLAG:
        return _as_flag(raw)
    return _as_number(raw)


def is_over(device_type: DeviceType, threshold: float, value: float) -> bool:
    if device_type.comparison == DeviceType.Comparison.FLAG:
        return value >= 0.5
    if device_type.comparison == DeviceType.Comparison.BELOW:
        return value < threshold
    return value > threshold


def device_threshold(device: Device) -> float:
    return device.threshold if device.threshold is not None else device.device_type.threshold


def alarm_debounced(device: Device, incident: Incident | None, at: datetime) -> bool:
    """True while a further alarm of the device belongs to `incident`: it is open, or closed (or merged) less
    than the type's debounce_seconds ago."""
    if incident is None:
        return False
    if incident.state in Incident.OPEN_STATES:
        return True
    ended = incident.closed_at or incident.updated_at
    window = timedelta(seconds=device.device_type.debounce_seconds)
    return ended is not None and at - ended < window


def reading_ignored(device_code: str, reason: str, key: str, **extra) -> ReadingOutcome:
    """The "ignored" outcome of a reading, counted under `key` and logged (also for the MQTT intake's own
    refusals: a foreign topic, unreadable JSON)."""
    _count(key)
    log.warning("iot reading ignored", extra={"device": device_code[:64], "reason": key, **extra})
    return ReadingOutcome(device_code=device_code, status=IGNORED, reason=reason)


def _description(device: Device, value: float) -> str:
    kind = device.device_type
    reading = _("报警") if kind.comparison == DeviceType.Comparison.FLAG else f"{value:g}{kind.unit}"
    return _(
        "%(type)s报警：设备 %(device)s（%(code)s）读数 %(value)s，阈值 %(threshold)s%(unit)s。%(address)s"
    ) % {
        "type": kind.name,
        "device": device.name or kind.name,
        "code": device.code,
        "value": reading,
        "threshold": f"{device_threshold(device):g}",
        "unit": kind.unit,
        "address": device.address,
    }


# --- ingest ------------------------------------------------------------------------------------------------
def reading_ingest(
    *,
    device_code: str,
    payload,
    received_at: datetime | None = None,
    actor: Principal | None = None,
    device_type_code: str = "",
) -> ReadingOutcome:
    """Takes one reading of a device; see the module docstring. `device_type_code` (from the MQTT topic) must
    match the device's type when given. `actor` is who delivered it (a webhook caller), for the log only: the
    incident is opened by the system on the device's behalf."""
    device_code = str(device_code or "").strip()
    device = (
        Device.objects.select_related("device_type__category").filter(code=device_code).first()
        if device_code
        else None
    )
    if device is None:
        return reading_ignored(
            device_code, _("未登记的设备 %(code)s") % {"code": device_code}, "unknown_device"
        )
    if not device.is_active or not device.device_type.is_active:
        return reading_ignored(
            device_code, _("设备 %(code)s 已停用") % {"code": device_code}, "inactive_device"
        )
    if device_type_code and device_type_code != device.device_type.code:
        return reading_ignored(
            device_code,
            _("设备 %(code)s 的类型是 %(type)s，不是 %(given)s")
            % {"code": device_code, "type": device.device_type.code, "given": device_type_code},
            "type_mismatch",
        )
    value = reading_value(device.device_type, payload)
    if value is None:
        return reading_ignored(
            device_code,
            _("读数字段 %(metric)s 缺失或不是%(kind)s")
            % {
                "metric": device.device_type.metric,
                "kind": _("布尔值")
                if device.device_type.comparison == DeviceType.Comparison.FLAG
                else _("数字"),
            },
            "bad_value",
        )
    seen_at = received_at or now()
    if not is_over(device.device_type, device_threshold(device), value):
        # The cheap path: one UPDATE, no lock held beyond the statement.
        Device.objects.filter(pk=device.pk).update(last_value=value, last_seen_at=seen_at, over_count=0)
        _count(NORMAL)
        return ReadingOutcome(device_code=device_code, status=NORMAL, value=value)
    try:
        outcome = _over_threshold(device.pk, value, seen_at, payload)
    except ValidationError as exc:  # e.g. the type's category was retired: the alarm cannot be filed
        return reading_ignored(
            device_code,
            _("报警未能登记：%(errors)s") % {"errors": "；".join(exc.messages)},
            "intake_refused",
        )
    _count(outcome.status)
    return outcome


def _reading_time(payload) -> str:
    raw = payload.get("ts") if isinstance(payload, dict) else None
    parsed = parse_datetime(raw) if isinstance(raw, str) else None
    return parsed.isoformat() if parsed is not None else ""


def _over_threshold(device_pk: int, value: float, seen_at: datetime, payload) -> ReadingOutcome:
    with transaction.atomic():
        # No join to the alarm incident here: on PostgreSQL a row lock that waited re-reads the device row but
        # not the rows joined to it, so a just-created incident would look absent. It is read after the lock.
        device = (
            Device.objects.select_for_update(of=("self",))
            .select_related("device_type__category", "grid")
            .get(pk=device_pk)
        )
        kind = device.device_type
        device.over_count += 1
        device.last_value, device.last_seen_at = value, seen_at
        fields = ["over_count", "last_value", "last_seen_at"]
        if device.over_count < max(kind.trigger_count, 1):
            device.save(update_fields=fields)
            return ReadingOutcome(device_code=device.code, status=OVER, value=value)
        moment = now()
        current = (
            Incident.objects.filter(pk=device.alarm_incident_id).first() if device.alarm_incident_id else None
        )
        if alarm_debounced(device, current, moment):
            device.alarm_repeats += 1
            fields.append("alarm_repeats")
            window = timedelta(seconds=kind.debounce_seconds)
            if current.state in Incident.OPEN_STATES and (
                device.last_alarm_at is None or moment - device.last_alarm_at >= window
            ):
                locked = incident_lock(current)
            else:
                locked = None
            if locked is not None and locked.state in Incident.OPEN_STATES:
                incident_transition(
                    locked,
                    action="alarm_repeat",
                    actor=None,
                    public=False,
                    note=_("设备 %(code)s 再次报警，读数 %(value)s；本次报警以来共 %(n)s 次重复报警。")
                    % {"code": device.code, "value": f"{value:g}", "n": device.alarm_repeats},
                    data={"value": value, "repeats": device.alarm_repeats, "ts": _reading_time(payload)},
                )
                device.last_alarm_at = moment
                fields.append("last_alarm_at")
            device.save(update_fields=fields)
            return ReadingOutcome(device_code=device.code, status=REPEAT, value=value, incident=current)
        result = incident_intake(
            actor=None,
            report=IntakeReport(
                channel=Incident.Channel.IOT,
                kind=Incident.Kind.HELP,
                title=_("%(type)s报警：%(device)s")
                % {"type": kind.name, "device": device.name or device.code},
                description=_description(device, value),
                category_code=kind.category.code,
                device=device,
                grid=device.grid,
                address=device.address,
            ),
        )
        device.alarm_incident = result.incident
        device.last_alarm_at = moment
        device.alarm_repeats = 0
        device.save(update_fields=[*fields, "alarm_incident", "last_alarm_at", "alarm_repeats"])
        log.info("iot alarm opened", extra={"device": device.code, "incident": result.incident.number})
        return ReadingOutcome(device_code=device.code, status=ALARM, value=value, incident=result.incident)


# --- devices and device types ------------------------------------------------------------------------------
def _device_snapshot(device: Device) -> dict:
    return {
        "code": device.code,
        "type": device.device_type.code,
        "name": device.name,
        "lon": device.lon,
        "lat": device.lat,
        "address": device.address,
        "grid": device.grid.code if device.grid_id else "",
        "threshold": device.threshold,
        "is_active": device.is_active,
    }


def _require(actor: Principal | None) -> None:
    if actor is not None:
        actor.require(INCIDENT_MANAGE)


def _clean_point(lon, lat, errors: dict) -> tuple[float | None, float | None]:
    try:
        lon_f, lat_f = float(lon), float(lat)
    except (TypeError, ValueError):
        lon_f = lat_f = math.nan
    if not (math.isfinite(lon_f) and math.isfinite(lat_f) and -180 <= lon_f <= 180 and -90 <= lat_f <= 90):
        errors["location"] = [_("坐标无效：经度应在 -180 至 180，纬度在 -90 至 90 之间。")]
        return None, None
    return lon_f, lat_f


def _clean_texts(name: str, address: str, errors: dict) -> tuple[str, str]:
    name, address = (name or "").strip(), (address or "").strip()
    if len(name) > 100:
        errors["name"] = [_("名称不能超过 100 字。")]
    if len(address) > 200:
        errors["address"] = [_("安装地址不能超过 200 字。")]
    return name, address


def device_register(
    *,
    actor: Principal | None,
    code: str,
    device_type_code: str,
    lon,
    lat,
    name: str = "",
    address: str = "",
    threshold: float | None = None,
) -> Device:
    """Registers a sensor at a point; its grid is found by point-in-polygon (address as fallback). Audited."""
    _require(actor)
    errors: dict[str, list[str]] = {}
    code = (code or "").strip()
    if not CODE_RE.match(code):
        errors["code"] = [_("设备编号须为 1–64 位字母、数字、点、下划线或连字符（用作 MQTT 主题段）。")]
    elif Device.objects.filter(code=code).exists():
        errors["code"] = [_("设备编号 %(code)s 已登记。") % {"code": code}]
    device_type = DeviceType.objects.filter(code=(device_type_code or "").strip(), is_active=True).first()
    if device_type is None:
        errors["device_type"] = [_("设备类型 %(code)s 不存在或已停用。") % {"code": device_type_code}]
    lon_f, lat_f = _clean_point(lon, lat, errors)
    name, address = _clean_texts(name, address, errors)
    if threshold is not None and _as_number(threshold) is None:
        errors["threshold"] = [_("阈值须为数字。")]
    if errors:
        raise ValidationError(errors)
    location = incident_locate(lon=lon_f, lat=lat_f, address=address)
    with transaction.atomic():
        device = Device.objects.create(
            code=code,
            device_type=device_type,
            name=name,
            lon=lon_f,
            lat=lat_f,
            address=address,
            grid=location.grid,
            threshold=_as_number(threshold) if threshold is not None else None,
        )
        audit_record(
            actor=actor,
            action="device.registered",
            object_type="device",
            object_id=device.code,
            after=_device_snapshot(device),
        )
    return device


def device_update(
    *,
    actor: Principal | None,
    device: Device,
    lon,
    lat,
    name: str = "",
    address: str = "",
    threshold: float | None = None,
    is_active: bool = True,
) -> Device:
    """Edits a device's place, name, threshold override and active flag; the grid is found again. Audited."""
    _require(actor)
    errors: dict[str, list[str]] = {}
    lon_f, lat_f = _clean_point(lon, lat, errors)
    name, address = _clean_texts(name, address, errors)
    if threshold is not None and _as_number(threshold) is None:
        errors["threshold"] = [_("阈值须为数字。")]
    if errors:
        raise ValidationError(errors)
    location = incident_locate(lon=lon_f, lat=lat_f, address=address)
    with transaction.atomic():
        locked = Device.objects.select_for_update(of=("self",)).select_related("device_type", "grid")
        locked = locked.get(pk=device.pk)
        before = _device_snapshot(locked)
        locked.lon, locked.lat, locked.name, locked.address = lon_f, lat_f, name, address
        locked.grid = location.grid
        locked.threshold = _as_number(threshold) if threshold is not None else None
        locked.is_active = bool(is_active)
        locked.save(update_fields=["lon", "lat", "name", "address", "grid", "threshold", "is_active"])
        audit_record(
            actor=actor,
            action="device.updated",
            object_type="device",
            object_id=locked.code,
            before=before,
            after=_device_snapshot(locked),
        )
    return locked


def _type_snapshot(kind: DeviceType) -> dict:
    return {
        "code": kind.code,
        "name": kind.name,
        "metric": kind.metric,
        "unit": kind.unit,
        "comparison": kind.comparison,
        "threshold": kind.threshold,
        "trigger_count": kind.trigger_count,
        "debounce_seconds": kind.debounce_seconds,
        "category": kind.category.code if kind.category_id else "",
        "is_active": kind.is_active,
    }


def device_type_clean(device_type: DeviceType) -> None:
    """ValidationError (field → messages) when a device type's alarm settings do not hold."""
    errors: dict[str, list[str]] = {}
    if not CODE_RE.match(device_type.code or "") or "." in device_type.code:
        errors["code"] = [_("类型编码须为字母、数字、下划线或连字符（用作 MQTT 主题段）。")]
    if not (device_type.name or "").strip():
        errors["name"] = [_("请填写名称。")]
    if not (device_type.metric or "").strip():
        errors["metric"] = [_("请填写读数字段。")]
    if device_type.comparison not in DeviceType.Comparison.values:
        errors["comparison"] = [_("请选择判定方式。")]
    if _as_number(device_type.threshold) is None:
        errors["threshold"] = [_("阈值须为数字。")]
    if not device_type.trigger_count or device_type.trigger_count < 1:
        errors["trigger_count"] = [_("连续超限次数至少为 1。")]
    category = (
        IncidentCategory.objects.filter(
            pk=device_type.category_id, is_active=True, children__isnull=True
        ).first()
        if device_type.category_id
        else None
    )
    if category is None:
        errors["category"] = [_("请选择启用中的末级事件分类。")]
    if errors:
        raise ValidationError(errors)


def device_type_save(*, actor: Principal | None, device_type: DeviceType) -> DeviceType:
    """Creates or updates a device type (filled in by the admin form); checks the alarm settings. Audited."""
    _require(actor)
    device_type_clean(device_type)
    with transaction.atomic():
        before = None
        if device_type.pk:
            previous = (
                DeviceType.objects.select_for_update().select_related("category").get(pk=device_type.pk)
            )
            before = _type_snapshot(previous)
        device_type.save()
        audit_record(
            actor=actor,
            action="device_type.saved",
            object_type="device_type",
            object_id=device_type.code,
            before=before,
            after=_type_snapshot(device_type),
        )
    return device_type
