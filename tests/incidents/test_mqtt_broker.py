"""The MQTT consumer against the real broker (Mosquitto at settings.MQTT_URL, 127.0.0.1:1883): readings are
published through the broker and consumed by `yiwang.incidents.mqtt.Consumer` running in a thread against the
test database. Each test uses its own topic prefix and shared-subscription group, so runs never meet."""

from __future__ import annotations

import io
import json
import threading
import time
import uuid
from urllib.parse import urlparse

import paho.mqtt.client as mqtt
import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connection

from yiwang.incidents.models import Device, Incident
from yiwang.incidents.mqtt import Consumer, handle_message, payload_parse, topic_filter, topic_parts
from yiwang.incidents.services import iot

from .factories import build_incident_world
from .test_iot import iot_types, register


def _broker() -> tuple[str, int]:
    url = urlparse(settings.MQTT_URL)
    return url.hostname or "127.0.0.1", url.port or 1883


def _broker_up() -> bool:
    import socket

    try:
        with socket.create_connection(_broker(), timeout=1):
            return True
    except OSError:
        return False


broker = pytest.mark.skipif(not _broker_up(), reason="no MQTT broker at settings.MQTT_URL")


def publish(messages: list[tuple[str, bytes]]) -> None:
    """Publishes with QoS 1 and waits until the broker acknowledged every message."""
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"pub-{uuid.uuid4().hex[:10]}")
    client.connect(*_broker(), keepalive=10)
    client.loop_start()
    try:
        infos = [client.publish(topic, payload, qos=1) for topic, payload in messages]
        for info in infos:
            info.wait_for_publish(timeout=10)
            assert info.is_published()
    finally:
        client.disconnect()
        client.loop_stop()


def run_in_thread(consumer: Consumer) -> tuple[threading.Thread, dict]:
    result: dict = {}

    def target():
        try:
            result.update(consumer.run())
        finally:
            connection.close()

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    assert consumer.subscribed.wait(timeout=10), "the consumer did not subscribe"
    return thread, result


def _prefix() -> tuple[str, str]:
    run = uuid.uuid4().hex[:12]
    return f"yiwang-test/{run}/sensors", f"test{run}"


# --- pure parts --------------------------------------------------------------------------------------------------
def test_topics_and_payloads():
    assert topic_filter() == "$share/yiwang/yiwang/sensors/+/+"
    assert topic_filter("a/b", shared=False) == "a/b/+/+"
    assert topic_parts("yiwang/sensors/water_level/WL-1") == ("water_level", "WL-1")
    assert topic_parts("yiwang/sensors/water_level") is None
    assert topic_parts("other/water_level/WL-1") is None
    assert payload_parse(b'{"value": 2.5, "ts": "2026-03-02T10:00:00+08:00"}') == {
        "value": 2.5,
        "ts": "2026-03-02T10:00:00+08:00",
    }
    assert payload_parse(b"3.5") == {"value": 3.5}
    assert payload_parse(b"\xff{") is None and payload_parse(b"[1]") is None


@pytest.mark.django_db
def test_handler_ignores_foreign_topics_and_bad_json(iworld):
    assert handle_message("elsewhere/x", b"{}").status == iot.IGNORED
    outcome = handle_message("yiwang/sensors/water_level/WL-1", b"not json")
    assert outcome.status == iot.IGNORED and "JSON" in outcome.reason


def test_unreachable_broker_is_retried_not_fatal(django_db_blocker):
    consumer = Consumer(url="mqtt://127.0.0.1:1", seconds=1.5)
    started = time.monotonic()
    # The consumer hands its database connection back when it stops (close_old_connections). An earlier test in
    # this worker may have left that connection open, and checking it is a database access: allow it.
    with django_db_blocker.unblock():
        stats = consumer.run()
    assert stats["connects"] == 0 and stats["received"] == 0
    assert time.monotonic() - started < 5


# --- through the broker ------------------------------------------------------------------------------------------
@broker
@pytest.mark.django_db(transaction=True)
def test_mqtt_alarm_through_the_broker_opens_exactly_one_incident_despite_repeats():
    world = build_incident_world()
    iot_types(world)
    register(world, "WL-MQTT", "water_level")
    prefix, group = _prefix()
    consumer = Consumer(prefix=prefix, group=group, max_messages=23, seconds=30)
    thread, stats = run_in_thread(consumer)
    topic = f"{prefix}/water_level/WL-MQTT"
    publish(
        [(topic, json.dumps({"value": 1.0}).encode())]  # normal first
        + [
            (topic, json.dumps({"value": 2.5 + n / 10, "ts": "2026-03-02T10:00:00+08:00"}).encode())
            for n in range(20)
        ]
        + [(topic, b"{broken"), (f"{prefix}/water_level/UNKNOWN-9", b'{"value": 9}')]
    )
    thread.join(timeout=40)
    assert not thread.is_alive()
    assert stats["received"] == 23 and stats["errors"] == 0
    assert stats["outcomes"] == {"normal": 1, "alarm": 1, "repeat": 19, "ignored": 2}
    incident = Incident.objects.get()  # exactly one
    assert incident.channel == "iot" and incident.device.code == "WL-MQTT"
    device = Device.objects.get(code="WL-MQTT")
    assert device.alarm_incident_id == incident.pk and device.alarm_repeats == 19


@broker
@pytest.mark.django_db(transaction=True)
def test_below_threshold_messages_through_the_broker_open_nothing():
    world = build_incident_world()
    iot_types(world)
    register(world, "NZ-MQTT", "noise")
    prefix, group = _prefix()
    consumer = Consumer(prefix=prefix, group=group, max_messages=6, seconds=30)
    thread, stats = run_in_thread(consumer)
    topic = f"{prefix}/noise/NZ-MQTT"
    # trigger_count 3: two high readings, a quiet one, two high again — never three in a row
    publish([(topic, json.dumps({"db": v}).encode()) for v in (55, 80, 85, 60, 90, 95)])
    thread.join(timeout=40)
    assert stats["outcomes"] == {"normal": 2, "over": 4}
    assert not Incident.objects.exists()
    assert Device.objects.get(code="NZ-MQTT").over_count == 2


@broker
@pytest.mark.django_db(transaction=True)
def test_two_shared_consumers_split_the_messages_and_still_raise_one_incident():
    world = build_incident_world()
    iot_types(world)
    for n in range(4):
        register(world, f"WL-S{n}", "water_level")
    prefix, group = _prefix()
    consumers = [Consumer(prefix=prefix, group=group, seconds=8) for _ in range(2)]
    runs = [run_in_thread(c) for c in consumers]
    publish([(f"{prefix}/water_level/WL-S{n % 4}", json.dumps({"value": 3.0}).encode()) for n in range(40)])
    deadline = time.monotonic() + 20
    while sum(c.stats.received for c in consumers) < 40 and time.monotonic() < deadline:
        time.sleep(0.1)
    for c in consumers:
        c.stop()
    for thread, _stats in runs:
        thread.join(timeout=20)
    received = [stats["received"] for _thread, stats in runs]
    assert sum(received) == 40 and all(r > 0 for r in received), received  # each message once, both worked
    assert Incident.objects.count() == 4  # one per device
    assert sum(Device.objects.values_list("alarm_repeats", flat=True)) == 36


@broker
@pytest.mark.django_db(transaction=True)
def test_the_management_command_consumes_and_reports(monkeypatch):
    from yiwang.incidents.management.commands import mqtt_consume

    built: list[Consumer] = []
    ready = threading.Event()

    class Watched(Consumer):
        """The command's own consumer, made visible so the test can wait for its SUBACK."""

        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            built.append(self)
            ready.set()

    monkeypatch.setattr(mqtt_consume, "Consumer", Watched)
    world = build_incident_world()
    iot_types(world)
    register(world, "MH-CMD", "manhole", grid="440199001002001")
    prefix, group = _prefix()
    out = io.StringIO()

    def target():
        try:
            call_command(
                "mqtt_consume",
                "--topic-prefix",
                prefix,
                "--group",
                group,
                "--max-messages",
                "2",
                "--seconds",
                "20",
                stdout=out,
                stderr=io.StringIO(),
            )
        finally:
            connection.close()

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    assert ready.wait(timeout=10), "the command built no consumer"
    assert built[0].subscribed.wait(timeout=10), "the command's consumer did not subscribe"
    publish(
        [(f"{prefix}/manhole/MH-CMD", b'{"open": true}'), (f"{prefix}/manhole/MH-CMD", b'{"open": true}')]
    )
    thread.join(timeout=30)
    stats = json.loads(out.getvalue().strip().splitlines()[-1])
    assert stats["received"] == 2 and stats["outcomes"] == {"alarm": 1, "repeat": 1}
    assert Incident.objects.get().assigned_department == world.cgj
