"""IoT devices and readings (services.iot): registration, thresholds, trigger counts, debounce, the row lock."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.utils import timezone

from yiwang.core.models import AuditEntry
from yiwang.incidents import selectors_iot
from yiwang.incidents.models import Device, DeviceType, Incident, IncidentEvent
from yiwang.incidents.services import iot
from yiwang.incidents.services.common import incident_lock, incident_transition

from .factories import IncidentWorld, build_incident_world, point_in

WATER_GRID = "440199001001002"  # 一街道 / 桃源社区
MANHOLE_GRID = "440199001002001"  # 一街道 / 凤岗社区


# --- helpers shared by the IoT test modules --------------------------------------------------------------------
def iot_types(world: IncidentWorld) -> dict[str, DeviceType]:
    """Three device types: water level (above 2.0 m, alarm at once, 10-minute debounce), manhole cover (a flag)
    and noise (above 70 dB three readings in a row)."""
    c = world.categories
    return {
        "water_level": DeviceType.objects.create(
            code="water_level",
            name="水位监测",
            unit="m",
            threshold=2.0,
            trigger_count=1,
            debounce_seconds=600,
            category=c["AQYH02"],
        ),
        "manhole": DeviceType.objects.create(
            code="manhole",
            name="井盖位移",
            metric="open",
            comparison=DeviceType.Comparison.FLAG,
            trigger_count=1,
            debounce_seconds=600,
            category=c["AQYH01"],
        ),
        "noise": DeviceType.objects.create(
            code="noise",
            name="噪声监测",
            metric="db",
            unit="dB",
            threshold=70,
            trigger_count=3,
            debounce_seconds=600,
            category=c["HJWR01"],
        ),
    }


def register(world: IncidentWorld, code: str, type_code: str, grid: str = WATER_GRID, **extra) -> Device:
    lon, lat = point_in(grid)
    return iot.device_register(
        actor=world.p(world.admin),
        code=code,
        device_type_code=type_code,
        lon=lon,
        lat=lat,
        name=extra.pop("name", f"{code} 传感器"),
        address=extra.pop("address", "桃源路 1 号"),
        **extra,
    )


def close_incident(incident: Incident) -> Incident:
    with transaction.atomic():
        locked = incident_lock(incident)
        incident_transition(
            locked,
            action="close",
            actor=None,
            note="已处置",
            updates={
                "closure": Incident.Closure.HANDLED,
                "closed_at": timezone.now(),
                "resolution": "已抽排",
            },
        )
    return locked


@pytest.fixture
def types(iworld):
    return iot_types(iworld)


def ingest(code: str, value, **payload):
    return iot.reading_ingest(device_code=code, payload={"value": value, **payload})


# --- registration ------------------------------------------------------------------------------------------------
@pytest.mark.django_db
def test_register_finds_the_grid_and_is_audited(iworld, types):
    device = register(iworld, "WL-001", "water_level", grid=WATER_GRID)
    assert device.grid.code == WATER_GRID
    entry = AuditEntry.objects.get(action="device.registered", object_id="WL-001")
    assert entry.after["grid"] == WATER_GRID and entry.after["type"] == "water_level"


@pytest.mark.django_db
def test_register_refuses_bad_input_and_saves_nothing(iworld, types):
    register(iworld, "WL-001", "water_level")
    with pytest.raises(ValidationError) as exc:
        iot.device_register(
            actor=iworld.p(iworld.admin),
            code="WL-001",
            device_type_code="nope",
            lon=200,
            lat=23,
            name="x" * 101,
        )
    assert set(exc.value.message_dict) == {"code", "device_type", "location", "name"}
    with pytest.raises(ValidationError) as exc:
        iot.device_register(actor=None, code="bad/code+", device_type_code="water_level", lon="a", lat=None)
    assert set(exc.value.message_dict) == {"code", "location"}
    assert Device.objects.count() == 1


@pytest.mark.django_db
def test_register_needs_incident_manage(iworld, types):
    lon, lat = point_in(WATER_GRID)
    with pytest.raises(PermissionDenied):
        iot.device_register(
            actor=iworld.p(iworld.operator), code="WL-9", device_type_code="water_level", lon=lon, lat=lat
        )
    assert not Device.objects.exists()


@pytest.mark.django_db
def test_update_moves_the_device_to_another_grid(iworld, types):
    device = register(iworld, "WL-001", "water_level")
    lon, lat = point_in(MANHOLE_GRID)
    device = iot.device_update(
        actor=iworld.p(iworld.admin),
        device=device,
        lon=lon,
        lat=lat,
        name="新名",
        threshold=3.5,
        is_active=True,
    )
    assert device.grid.code == MANHOLE_GRID and device.threshold == 3.5
    assert AuditEntry.objects.filter(action="device.updated", object_id="WL-001").exists()


@pytest.mark.django_db
def test_device_type_save_checks_alarm_settings(iworld, types):
    kind = DeviceType(code="smoke", name="烟感", trigger_count=0, category=iworld.categories["AQYH"])
    with pytest.raises(ValidationError) as exc:
        iot.device_type_save(actor=iworld.p(iworld.admin), device_type=kind)
    assert set(exc.value.message_dict) == {"trigger_count", "category"}  # AQYH is a parent, not a leaf
    kind.trigger_count, kind.category = 2, iworld.categories["AQYH01"]
    iot.device_type_save(actor=iworld.p(iworld.admin), device_type=kind)
    assert AuditEntry.objects.filter(action="device_type.saved", object_id="smoke").exists()


# --- readings ----------------------------------------------------------------------------------------------------
@pytest.mark.django_db
def test_below_threshold_readings_open_nothing(iworld, types, django_assert_max_num_queries):
    register(iworld, "WL-001", "water_level")
    for value in (0.5, 1.2, 2.0):  # 2.0 is not above 2.0
        with django_assert_max_num_queries(2):  # the device, one UPDATE
            outcome = ingest("WL-001", value)
        assert outcome.status == iot.NORMAL
    device = Device.objects.get(code="WL-001")
    assert device.last_value == 2.0 and device.last_seen_at is not None and device.over_count == 0
    assert not Incident.objects.exists()


@pytest.mark.django_db
def test_alarm_opens_an_iot_incident_for_the_device(iworld, types):
    register(iworld, "WL-001", "water_level")
    outcome = ingest("WL-001", 2.6)
    assert outcome.status == iot.ALARM and outcome.label.endswith(outcome.number)
    incident = Incident.objects.get()
    assert (incident.channel, incident.kind, incident.classified_by) == ("iot", "help", "device")
    assert incident.category.code == "AQYH02" and incident.device.code == "WL-001"
    assert incident.grid.code == WATER_GRID and incident.town.code == "440199001"
    assert "2.6m" in incident.description and incident.address == "桃源路 1 号"
    # 积水内涝 has no rule: it waits for the town's command centre
    assert incident.state == Incident.State.PENDING
    device = Device.objects.get(code="WL-001")
    assert device.alarm_incident == incident and device.alarm_repeats == 0 and device.last_alarm_at


@pytest.mark.django_db
def test_flag_device_alarm_is_dispatched_by_the_rules(iworld, types):
    register(iworld, "MH-001", "manhole", grid=MANHOLE_GRID)
    assert iot.reading_ingest(device_code="MH-001", payload={"open": False}).status == iot.NORMAL
    outcome = iot.reading_ingest(device_code="MH-001", payload={"open": True})
    assert outcome.status == iot.ALARM
    assert outcome.incident.assigned_department == iworld.cgj
    assert outcome.incident.state == Incident.State.DISPATCHED


@pytest.mark.django_db
def test_trigger_count_needs_consecutive_over_readings(iworld, types):
    register(iworld, "NZ-001", "noise")
    assert [iot.reading_ingest(device_code="NZ-001", payload={"db": v}).status for v in (80, 85)] == [
        iot.OVER,
        iot.OVER,
    ]
    assert Device.objects.get(code="NZ-001").over_count == 2
    assert iot.reading_ingest(device_code="NZ-001", payload={"db": 60}).status == iot.NORMAL  # resets
    statuses = [iot.reading_ingest(device_code="NZ-001", payload={"db": v}).status for v in (75, 90, 88)]
    assert statuses == [iot.OVER, iot.OVER, iot.ALARM]
    assert Incident.objects.count() == 1


@pytest.mark.django_db
def test_repeats_are_debounced_into_one_incident(iworld, types, clock):
    register(iworld, "WL-001", "water_level")
    outcomes = [ingest("WL-001", 2.5 + n / 100) for n in range(20)]
    assert [o.status for o in outcomes] == [iot.ALARM] + [iot.REPEAT] * 19
    incident = Incident.objects.get()
    assert {o.number for o in outcomes} == {incident.number}
    device = Device.objects.get(code="WL-001")
    assert device.alarm_repeats == 19
    # within the window no history noise; once a window has passed, one repeat event, then quiet again
    assert not IncidentEvent.objects.filter(action="alarm_repeat").exists()
    clock.moment += timedelta(seconds=601)
    ingest("WL-001", 3.0)
    ingest("WL-001", 3.1)
    events = IncidentEvent.objects.filter(action="alarm_repeat")
    assert events.count() == 1 and events.get().data["repeats"] == 20 and not events.get().public
    assert Incident.objects.count() == 1


@pytest.mark.django_db
def test_closed_alarm_debounces_then_a_new_alarm_opens_a_new_incident(iworld, types, clock):
    register(iworld, "WL-001", "water_level")
    first = ingest("WL-001", 2.5).incident
    close_incident(first)
    clock.moment += timedelta(seconds=300)  # closed 5 minutes ago, the window is 10
    assert ingest("WL-001", 2.7).status == iot.REPEAT
    assert ingest("WL-001", 1.0).status == iot.NORMAL
    clock.moment += timedelta(seconds=301)
    again = ingest("WL-001", 2.9)
    assert again.status == iot.ALARM and again.incident.pk != first.pk
    assert Incident.objects.count() == 2
    device = Device.objects.get(code="WL-001")
    assert device.alarm_incident == again.incident and device.alarm_repeats == 0


@pytest.mark.django_db
def test_device_threshold_overrides_the_type(iworld, types):
    register(iworld, "WL-002", "water_level", threshold=5.0)
    assert ingest("WL-002", 4.0).status == iot.NORMAL
    assert ingest("WL-002", 5.5).status == iot.ALARM


@pytest.mark.django_db
def test_bad_readings_are_ignored_with_a_reason_and_counted(iworld, types):
    device = register(iworld, "WL-001", "water_level")
    before = dict(iot.INGEST_COUNTERS)
    unknown = ingest("NOPE-1", 3.0)
    assert unknown.status == iot.IGNORED and "NOPE-1" in unknown.reason
    assert ingest("WL-001", "high").status == iot.IGNORED
    assert iot.reading_ingest(device_code="WL-001", payload=["not", "a", "dict"]).status == iot.IGNORED
    assert ingest("WL-001", True).status == iot.IGNORED  # a boolean is not a water level
    mismatch = iot.reading_ingest(device_code="WL-001", payload={"value": 3}, device_type_code="noise")
    assert mismatch.status == iot.IGNORED and "water_level" in mismatch.reason
    Device.objects.filter(pk=device.pk).update(is_active=False)
    assert "停用" in ingest("WL-001", 3.0).reason
    assert iot.INGEST_COUNTERS["unknown_device"] == before.get("unknown_device", 0) + 1
    assert iot.INGEST_COUNTERS["bad_value"] == before.get("bad_value", 0) + 3
    assert not Incident.objects.exists()


@pytest.mark.django_db
def test_device_state_labels(iworld, types, clock):
    device = register(iworld, "WL-001", "water_level")
    assert selectors_iot.device_state(device)[0] == "silent"
    ingest("WL-001", 2.5)
    device = Device.objects.select_related("device_type", "alarm_incident").get(pk=device.pk)
    assert selectors_iot.device_state(device)[0] == "alarm"
    close_incident(device.alarm_incident)
    device = Device.objects.select_related("device_type", "alarm_incident").get(pk=device.pk)
    assert selectors_iot.device_state(device)[0] == "debounce"
    assert selectors_iot.device_state(device)[1] == "报警已结案（去抖期内）"
    clock.moment += timedelta(hours=1)
    assert selectors_iot.device_state(device, at=clock.moment)[0] == "over"  # the last reading was still high
    ingest("WL-001", 1.0)
    device.refresh_from_db()
    assert selectors_iot.device_state(device, at=clock.moment)[0] == "normal"
    clock.moment += timedelta(hours=25)
    assert selectors_iot.device_state(device, at=clock.moment)[0] == "silent"


# --- two consumers at once -------------------------------------------------------------------------------------
@pytest.mark.django_db(transaction=True)
def test_two_threads_raise_one_incident_not_two():
    world = build_incident_world()
    iot_types(world)
    register(world, "WL-RACE", "water_level")
    barrier = threading.Barrier(4)
    outcomes, errors = [], []

    def deliver(value):
        try:
            barrier.wait(timeout=10)
            outcomes.append(ingest("WL-RACE", value))
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=deliver, args=(3.0 + n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert errors == []
    assert sorted(o.status for o in outcomes) == [iot.ALARM] + [iot.REPEAT] * 3
    assert Incident.objects.count() == 1
    assert Device.objects.get(code="WL-RACE").alarm_repeats == 3


@pytest.mark.django_db
def test_silent_devices_are_counted(iworld, types, clock):
    from yiwang.incidents.tasks_iot import devices_silent_count

    register(iworld, "WL-001", "water_level")
    register(iworld, "WL-002", "water_level")
    ingest("WL-001", 1.0)
    ingest("WL-002", 1.0)
    assert devices_silent_count() == 0
    clock.moment += timedelta(hours=25)
    ingest("WL-002", 1.0)
    assert devices_silent_count() == 1
