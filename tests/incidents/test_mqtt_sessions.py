"""MQTT loses nothing (issue 12 §3): persistent sessions against the real broker (Mosquitto at settings.MQTT_URL).

A consumer with a stable client id keeps its session at the broker while it is away: readings published then are
delivered when it returns; a message it handled but did not acknowledge (killed in between) is delivered again
and counted as a repeat, never a second incident. Each test uses its own topic prefix, group and client ids."""

from __future__ import annotations

import io
import json
import socket
import time
import uuid

import pytest
from django.core.management import call_command
from django.db import OperationalError, connection

from yiwang.incidents import mqtt as mqtt_module
from yiwang.incidents.models import Device, Incident
from yiwang.incidents.mqtt import Consumer

from .factories import build_incident_world
from .test_iot import iot_types, register
from .test_mqtt_broker import _prefix, broker, publish, run_in_thread

pytestmark = [broker, pytest.mark.django_db(transaction=True)]


def _cid(label: str) -> str:
    return f"test-{label}-{uuid.uuid4().hex[:10]}"


def _alarm(prefix: str, code: str, value: float = 3.0) -> tuple[str, bytes]:
    return f"{prefix}/water_level/{code}", json.dumps({"value": value}).encode()


def _world(codes: list[str]):
    world = build_incident_world()
    iot_types(world)
    for code in codes:
        register(world, code, "water_level")
    return world


def _subscribe_once(prefix: str, group: str, client_id: str) -> None:
    """Runs the consumer until it has subscribed, then stops it: the broker now holds its session."""
    consumer = Consumer(prefix=prefix, group=group, client_id=client_id, session_expiry=120, seconds=20)
    thread, _stats = run_in_thread(consumer)
    consumer.stop()
    thread.join(timeout=10)
    assert not thread.is_alive()


def test_readings_published_while_the_consumer_is_away_are_delivered_when_it_returns():
    codes = [f"WL-AWAY{n}" for n in range(5)]
    _world(codes)
    prefix, group = _prefix()
    client_id = _cid("away")
    _subscribe_once(prefix, group, client_id)
    # Nobody is connected now: five alarms and a repeat of the first.
    publish([_alarm(prefix, code) for code in codes] + [_alarm(prefix, codes[0], 3.5)])
    assert not Incident.objects.exists()

    consumer = Consumer(prefix=prefix, group=group, client_id=client_id, session_expiry=120, seconds=20)
    consumer.max_messages = 6
    thread, stats = run_in_thread(consumer)
    thread.join(timeout=30)
    assert not thread.is_alive()
    assert stats["resumed"] == 1, stats  # the broker still had the session
    assert stats["received"] == 6 and stats["outcomes"] == {"alarm": 5, "repeat": 1}, stats
    assert Incident.objects.count() == 5  # every alarm exactly once
    assert set(Incident.objects.values_list("device__code", flat=True)) == set(codes)


def test_a_consumer_without_a_stable_id_keeps_no_session():
    """The contrast: a throw-away id (tests, benches) starts clean and leaves no session behind."""
    _world(["WL-EPH"])
    prefix, group = _prefix()
    consumer = Consumer(prefix=prefix, group=group, seconds=20)
    assert not consumer.persistent and consumer.session_expiry == 0
    thread, _stats = run_in_thread(consumer)
    consumer.stop()
    thread.join(timeout=10)
    publish([_alarm(prefix, "WL-EPH")])
    again = Consumer(prefix=prefix, group=group, client_id=consumer.client_id, session_expiry=120, seconds=3)
    thread, stats = run_in_thread(again)
    thread.join(timeout=10)
    assert stats["resumed"] == 0 and stats["received"] == 0


class KilledBeforeAck(Consumer):
    """Handles the first message (its transaction commits), then dies before acknowledging it: the socket is
    shut without a DISCONNECT, as when the process is killed with SIGKILL."""

    def _ack(self, client, message):
        self.stop()
        sock = client.socket()
        if sock is not None:
            sock.shutdown(socket.SHUT_RDWR)


def test_a_message_handled_but_not_acknowledged_is_redelivered_and_opens_no_second_incident():
    _world(["WL-KILL", "WL-NEXT"])
    prefix, group = _prefix()
    client_id = _cid("kill")
    _subscribe_once(prefix, group, client_id)
    publish([_alarm(prefix, "WL-KILL"), _alarm(prefix, "WL-NEXT")])

    victim = KilledBeforeAck(prefix=prefix, group=group, client_id=client_id, session_expiry=120, seconds=20)
    thread, stats = run_in_thread(victim)
    thread.join(timeout=20)
    assert not thread.is_alive()
    assert stats["outcomes"] == {"alarm": 1}  # handled and committed, never acknowledged
    first = Incident.objects.get()

    seen: list[tuple[str, str]] = []
    again = Consumer(
        prefix=prefix,
        group=group,
        client_id=client_id,
        session_expiry=120,
        max_messages=2,
        seconds=20,
        on_outcome=lambda topic, outcome: seen.append((outcome.device_code, outcome.status)),
    )
    thread, stats = run_in_thread(again)
    thread.join(timeout=30)
    assert not thread.is_alive()
    assert stats["resumed"] == 1
    # The killed message came back once and was a repeat; the next one (never handled) opened its incident.
    assert sorted(seen) == [
        (first.device.code, "repeat"),
        ("WL-NEXT" if first.device.code == "WL-KILL" else "WL-KILL", "alarm"),
    ]
    assert Incident.objects.count() == 2
    assert Device.objects.get(code=first.device.code).alarm_repeats == 1


def test_a_database_error_leaves_the_message_for_redelivery(monkeypatch):
    _world(["WL-DBDOWN"])
    prefix, group = _prefix()
    real = mqtt_module.handle_message
    failures = []

    def flaky(topic, raw, **kwargs):
        if not failures:
            failures.append(topic)
            raise OperationalError("server closed the connection unexpectedly")
        return real(topic, raw, **kwargs)

    monkeypatch.setattr(mqtt_module, "handle_message", flaky)
    # Bounded, with room for a busy CI machine: the consumer stops after the redelivery or after 60 s.
    consumer = Consumer(prefix=prefix, group=group, client_id=_cid("db"), session_expiry=120, seconds=60)
    consumer.max_messages = 2  # the failed delivery and the redelivery
    thread, stats = run_in_thread(consumer)
    publish([_alarm(prefix, "WL-DBDOWN")])
    thread.join(timeout=75)
    assert not thread.is_alive()
    assert failures and stats["unacked"] == 1 and stats["connects"] == 2 and stats["resumed"] == 1, stats
    assert stats["outcomes"] == {"alarm": 1}
    assert Incident.objects.count() == 1


def test_two_persistent_consumers_with_their_own_ids_still_split_a_shared_subscription():
    codes = [f"WL-P{n}" for n in range(4)]
    _world(codes)
    prefix, group = _prefix()
    consumers = [
        Consumer(prefix=prefix, group=group, client_id=_cid(f"share{n}"), session_expiry=120, seconds=15)
        for n in range(2)
    ]
    runs = [run_in_thread(c) for c in consumers]
    publish([_alarm(prefix, codes[n % 4]) for n in range(40)])
    deadline = time.monotonic() + 20
    while sum(c.stats.received for c in consumers) < 40 and time.monotonic() < deadline:
        time.sleep(0.1)
    for c in consumers:
        c.stop()
    for thread, _stats in runs:
        thread.join(timeout=20)
    received = [stats["received"] for _thread, stats in runs]
    assert sum(received) == 40 and all(r > 0 for r in received), received
    assert Incident.objects.count() == 4


def test_a_consumer_the_broker_says_was_taken_over_stops():
    """EMQX (and MQTT v5 brokers that say why) send reason code 0x8E to the connection a second consumer with the
    same client id displaced: that consumer stops rather than taking the session back. (Mosquitto 2.0 closes the
    connection without a reason; the consumer then simply reconnects.)"""
    from paho.mqtt.packettypes import PacketTypes
    from paho.mqtt.reasoncodes import ReasonCode

    consumer = Consumer(client_id=_cid("twin"))
    consumer._on_disconnect(None, None, None, ReasonCode(PacketTypes.DISCONNECT, identifier=0x80))
    assert not consumer.taken_over and not consumer._done()
    consumer._on_disconnect(None, None, None, ReasonCode(PacketTypes.DISCONNECT, identifier=0x8E))
    assert consumer.taken_over and consumer._done()


def _command(prefix: str, group: str, *args: str) -> tuple[dict, str]:
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command(
            "mqtt_consume", "--topic-prefix", prefix, "--group", group, *args, stdout=out, stderr=err
        )
    finally:
        connection.close()
    return json.loads(out.getvalue().strip().splitlines()[-1]), err.getvalue()


def test_the_command_keeps_its_session_under_the_configured_client_id(settings):
    _world(["WL-CMD"])
    prefix, group = _prefix()
    settings.MQTT_CLIENT_ID = _cid("cmd")
    stats, banner = _command(prefix, group, "--session-expiry", "120", "--seconds", "2")
    assert settings.MQTT_CLIENT_ID in banner and stats["connects"] == 1 and stats["resumed"] == 0
    publish([_alarm(prefix, "WL-CMD")])  # while the command is not running
    stats, _banner = _command(
        prefix, group, "--session-expiry", "120", "--max-messages", "1", "--seconds", "20"
    )
    assert stats["resumed"] == 1 and stats["outcomes"] == {"alarm": 1}, stats
    assert Incident.objects.get().device.code == "WL-CMD"
