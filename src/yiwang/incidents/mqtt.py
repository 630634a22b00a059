"""The MQTT consumer behind `yiwang mqtt-consume`: sensor readings from the broker into `reading_ingest`.

Topics follow `<prefix>/<device_type_code>/<device_code>` (prefix `yiwang/sensors`), payload JSON
`{"value": <number or boolean>, "ts": "<ISO 8601>"}` (a bare number is accepted too). The consumer subscribes
with QoS 1; with `shared` (the default) it uses the MQTT v5 shared subscription
`$share/<group>/<prefix>/+/+`, so several consumers (processes or machines) split the messages between them
instead of each receiving all of them. The consumer acknowledges a QoS 1 message (manual ack) after the handler
returned, i.e. after the reading's transaction committed: a consumer killed mid-message gets it redelivered (at least once; the
device row lock and debounce make a redelivered alarm a repeat, not a second incident).

Bad JSON, unknown devices and database errors are logged and counted, never fatal. A lost connection is
retried with exponential backoff (1 s doubling to 30 s). `stop()` (SIGTERM/SIGINT in the command) ends the loop
after the message in hand; `max_messages` and `seconds` bound it for tests and benchmarks. The loop runs in the
calling thread, so database connections belong to it and are recycled between messages
(`close_old_connections`).
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from urllib.parse import urlparse

from django.conf import settings
from django.db import close_old_connections, connection
from django.utils import timezone
from django.utils.translation import gettext as _

log = logging.getLogger("yiwang.incidents.mqtt")

DEFAULT_PREFIX = "yiwang/sensors"
DEFAULT_GROUP = "yiwang"
BACKOFF_MIN, BACKOFF_MAX = 1.0, 30.0


def topic_filter(prefix: str = DEFAULT_PREFIX, *, shared: bool = True, group: str = DEFAULT_GROUP) -> str:
    base = f"{prefix.rstrip('/')}/+/+"
    return f"$share/{group}/{base}" if shared else base


def topic_parts(topic: str, prefix: str = DEFAULT_PREFIX) -> tuple[str, str] | None:
    """(device type code, device code) of a reading topic, or None when it is not one."""
    head = prefix.rstrip("/") + "/"
    if not topic.startswith(head):
        return None
    parts = topic[len(head) :].split("/")
    if len(parts) != 2 or not all(parts):
        return None
    return parts[0], parts[1]


def payload_parse(raw: bytes) -> dict | None:
    """The JSON object of a message (a bare number becomes {"value": n}); None when it is not readable."""
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None
    if isinstance(data, bool | int | float):
        return {"value": data}
    return data if isinstance(data, dict) else None


@dataclass
class ConsumerStats:
    received: int = 0
    outcomes: Counter = field(default_factory=Counter)
    errors: int = 0
    connects: int = 0
    started: float = field(default_factory=time.monotonic)

    def as_dict(self) -> dict:
        elapsed = max(time.monotonic() - self.started, 1e-9)
        return {
            "received": self.received,
            "outcomes": dict(self.outcomes),
            "errors": self.errors,
            "connects": self.connects,
            "seconds": round(elapsed, 2),
            "per_second": round(self.received / elapsed, 1),
        }


def handle_message(topic: str, raw: bytes, *, prefix: str = DEFAULT_PREFIX, received_at=None):
    """One message → `reading_ingest` (or an "ignored" outcome for a foreign topic or unreadable JSON)."""
    from .services.iot import _ignored, reading_ingest

    parts = topic_parts(topic, prefix)
    if parts is None:
        return _ignored("", _("不是传感器主题：%(topic)s") % {"topic": topic[:200]}, "bad_topic")
    type_code, device_code = parts
    payload = payload_parse(raw)
    if payload is None:
        return _ignored(device_code, _("消息不是有效的 JSON 对象"), "bad_json")
    return reading_ingest(
        device_code=device_code,
        payload=payload,
        received_at=received_at or timezone.now(),
        device_type_code=type_code,
    )


class Consumer:
    """One MQTT consumer. `run()` blocks until stopped or a bound is reached and returns its statistics."""

    def __init__(
        self,
        *,
        url: str | None = None,
        prefix: str = DEFAULT_PREFIX,
        shared: bool = True,
        group: str = DEFAULT_GROUP,
        qos: int = 1,
        client_id: str = "",
        max_messages: int | None = None,
        seconds: float | None = None,
        on_outcome=None,
    ):
        self.url = urlparse(url or settings.MQTT_URL)
        self.prefix = prefix.rstrip("/")
        self.filter = topic_filter(self.prefix, shared=shared, group=group)
        self.qos = qos
        self.client_id = client_id or f"yiwang-consumer-{time.time_ns():x}"
        self.max_messages = max_messages
        self.seconds = seconds
        self.on_outcome = on_outcome  # callable(topic, outcome) — the bench measures delays with it
        self.stats = ConsumerStats()
        self.subscribed = threading.Event()
        self._stop = threading.Event()
        self._client = None

    # --- control ---------------------------------------------------------------------------------------
    def stop(self) -> None:
        self._stop.set()

    def _done(self) -> bool:
        if self._stop.is_set():
            return True
        if self.max_messages is not None and self.stats.received >= self.max_messages:
            return True
        return self.seconds is not None and time.monotonic() - self.stats.started >= self.seconds

    # --- paho callbacks ------------------------------------------------------------------------------------
    def _on_connect(self, client, userdata, flags, reason_code, properties=None):
        if reason_code.is_failure:
            log.warning("mqtt connect refused", extra={"reason": str(reason_code)})
            return
        self.stats.connects += 1
        client.subscribe(self.filter, qos=self.qos)
        log.info("mqtt connected", extra={"filter": self.filter, "client_id": self.client_id})

    def _on_subscribe(self, client, userdata, mid, reason_codes, properties=None):
        if all(not rc.is_failure for rc in reason_codes):
            self.subscribed.set()
        else:
            log.error("mqtt subscription refused", extra={"filter": self.filter})

    def _on_disconnect(self, client, userdata, flags, reason_code, properties=None):
        self.subscribed.clear()
        if not self._stop.is_set():
            log.warning("mqtt disconnected", extra={"reason": str(reason_code)})

    def _on_message(self, client, userdata, message):
        if self._done():
            return  # over the bound: left unacknowledged, so this consumer never claims it was handled
        self.stats.received += 1
        close_old_connections()
        outcome = None
        try:
            outcome = handle_message(message.topic, message.payload, prefix=self.prefix)
        except Exception:  # a consumer survives every message; the database may be away for a moment
            self.stats.errors += 1
            log.exception("mqtt message failed", extra={"topic": message.topic[:200]})
            connection.close()
        finally:
            close_old_connections()
            # Acknowledged after the reading's transaction (or its logged failure): at least once.
            if message.qos > 0:
                client.ack(message.mid, message.qos)
        if outcome is None:
            return
        self.stats.outcomes[outcome.status] += 1
        if self.on_outcome is not None:
            self.on_outcome(message.topic, outcome)

    # --- the loop ----------------------------------------------------------------------------------------
    def _client_new(self):
        import paho.mqtt.client as mqtt

        client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2,
            client_id=self.client_id,
            protocol=mqtt.MQTTv5,
            manual_ack=True,
        )
        if self.url.username:
            client.username_pw_set(self.url.username, self.url.password)
        client.on_connect = self._on_connect
        client.on_subscribe = self._on_subscribe
        client.on_disconnect = self._on_disconnect
        client.on_message = self._on_message
        return client

    def run(self) -> dict:
        import paho.mqtt.client as mqtt

        client = self._client = self._client_new()
        host, port = self.url.hostname or "127.0.0.1", self.url.port or 1883
        backoff, connected = BACKOFF_MIN, False
        try:
            while not self._done():
                if not connected:
                    try:
                        if self.stats.connects == 0 and not client.is_connected():
                            client.connect(host, port, keepalive=30)
                        else:
                            client.reconnect()
                        connected, backoff = True, BACKOFF_MIN
                    except OSError as exc:
                        log.warning(
                            "mqtt broker unreachable", extra={"broker": f"{host}:{port}", "error": str(exc)}
                        )
                        self._stop.wait(backoff)
                        backoff = min(backoff * 2, BACKOFF_MAX)
                        continue
                rc = client.loop(timeout=0.2)
                if rc != mqtt.MQTT_ERR_SUCCESS:
                    connected = False
                    self._stop.wait(backoff)
                    backoff = min(backoff * 2, BACKOFF_MAX)
        finally:
            try:
                if client.is_connected():
                    client.disconnect()
                    client.loop(timeout=0.2)
            finally:
                close_old_connections()
                connection.close()
        return self.stats.as_dict()
