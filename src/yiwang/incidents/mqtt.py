"""The MQTT consumer behind `yiwang mqtt-consume`: sensor readings from the broker into `reading_ingest`.

Topics follow `<prefix>/<device_type_code>/<device_code>` (prefix `yiwang/sensors`), payload JSON
`{"value": <number or boolean>, "ts": "<ISO 8601>"}` (a bare number is accepted too). The consumer subscribes
with QoS 1; with `shared` (the default) it uses the MQTT v5 shared subscription
`$share/<group>/<prefix>/+/+`, so several consumers (processes or machines) split the messages between them
instead of each receiving all of them.

Nothing is lost (issue 12 §3):
- **Persistent session.** A consumer with a stable `client_id` connects with MQTT v5 clean start off and a
  session expiry interval (`settings.MQTT_SESSION_EXPIRY`, one day by default): the broker keeps its subscription
  and queues the QoS 1 messages meant for it while it is down or restarting, and delivers them when it returns.
  Each consumer needs its own id (`yiwang mqtt-consume --client-id`, `YIWANG_MQTT_CLIENT_ID`, or the command's
  default `yiwang-mqtt-<host>-<group>`); a second consumer started with an id already connected takes the session
  over (a broker that says so — reason code 0x8E — makes the one taken over stop with an error instead of
  fighting for it; Mosquitto 2.0 closes the connection without saying why). A consumer built without a
  client id (tests, benchmarks) gets a unique one and a clean session that ends with the connection — a
  persistent session under a throw-away id would keep collecting its share of a shared subscription for nobody.
  The broker bounds what it queues for a session that is away (Mosquitto: `max_queued_messages`, 1000 by
  default, dropped silently past it; `persistence true` to survive a broker restart): size it for the longest
  consumer outage to ride out. Mosquitto 2.0 also keeps handing a shared subscription's messages to a member
  that is away with a live session, so they wait for its return rather than go to the member still connected.
- **Acknowledged after commit.** A QoS 1 message is acknowledged (paho manual ack) only after the handler
  returned, i.e. after the reading's transaction committed: a consumer killed before that gets it redelivered
  when its session resumes (at least once). A redelivered alarm finds the device's alarm incident open and is
  counted as a repeat (device row lock + debounce in `services/iot.py`), never a second incident.
- **Database away.** When the database is unreachable the message is *not* acknowledged: the consumer drops the
  connection (keeping the session), waits with backoff and reconnects, and the broker delivers it again. Any
  other error in a message (a bug the message triggers) is logged, counted and acknowledged, so one poisonous
  message cannot block the queue.

Bad JSON and unknown devices are logged and counted, never fatal. A lost connection is retried with
exponential backoff (1 s doubling to 30 s). `stop()` (SIGTERM/SIGINT in the command) ends the loop after the
message in hand; `max_messages` and `seconds` bound it for tests and benchmarks (messages past the bound are
left unacknowledged: with a persistent session they wait for this consumer's next run). The loop runs in the
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
from django.db import InterfaceError, OperationalError, close_old_connections, connection
from django.utils import timezone
from django.utils.translation import gettext as _

log = logging.getLogger("yiwang.incidents.mqtt")

DEFAULT_PREFIX = "yiwang/sensors"
DEFAULT_GROUP = "yiwang"
BACKOFF_MIN, BACKOFF_MAX = 1.0, 30.0
SESSION_TAKEN_OVER = 142  # MQTT v5 DISCONNECT reason code: another connection with this client id took over


def default_client_id(group: str = DEFAULT_GROUP) -> str:
    """The client id `yiwang mqtt-consume` uses when none is configured: stable across restarts of the one
    consumer a host runs by default (`yiwang serve --with-worker`); give further consumers their own id."""
    import socket

    return f"yiwang-mqtt-{socket.gethostname()}-{group}"[:128]


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
    unacked: int = 0  # left unacknowledged for redelivery (database away)
    connects: int = 0
    resumed: int = 0  # connects where the broker still had this consumer's session
    started: float = field(default_factory=time.monotonic)

    def as_dict(self) -> dict:
        elapsed = max(time.monotonic() - self.started, 1e-9)
        return {
            "received": self.received,
            "outcomes": dict(self.outcomes),
            "errors": self.errors,
            "unacked": self.unacked,
            "connects": self.connects,
            "resumed": self.resumed,
            "seconds": round(elapsed, 2),
            "per_second": round(self.received / elapsed, 1),
        }


def handle_message(topic: str, raw: bytes, *, prefix: str = DEFAULT_PREFIX, received_at=None):
    """One message → `reading_ingest` (or an "ignored" outcome for a foreign topic or unreadable JSON)."""
    from .services.iot import reading_ignored, reading_ingest

    parts = topic_parts(topic, prefix)
    if parts is None:
        return reading_ignored("", _("不是传感器主题：%(topic)s") % {"topic": topic[:200]}, "bad_topic")
    type_code, device_code = parts
    payload = payload_parse(raw)
    if payload is None:
        return reading_ignored(device_code, _("消息不是有效的 JSON 对象"), "bad_json")
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
        session_expiry: int | None = None,
        max_messages: int | None = None,
        seconds: float | None = None,
        on_outcome=None,
    ):
        self.url = urlparse(url or settings.MQTT_URL)
        self.prefix = prefix.rstrip("/")
        self.filter = topic_filter(self.prefix, shared=shared, group=group)
        self.qos = qos
        # A stable id gets a persistent session; without one, a unique id and a session that ends with it.
        self.persistent = bool(client_id)
        self.client_id = client_id or f"yiwang-consumer-{time.time_ns():x}"
        if not self.persistent:
            self.session_expiry = 0
        elif session_expiry is not None:
            self.session_expiry = max(int(session_expiry), 0)
        else:
            self.session_expiry = int(settings.MQTT_SESSION_EXPIRY)
        self.taken_over = False  # another consumer connected with this client id: this one stopped
        self.max_messages = max_messages
        self.seconds = seconds
        self.on_outcome = on_outcome  # callable(topic, outcome) — the bench measures delays with it
        self.stats = ConsumerStats()
        self.subscribed = threading.Event()
        self._stop = threading.Event()
        self._client = None
        self._redeliver = False  # a message was left unacknowledged: reconnect so the broker resends it

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
        self._redeliver = False
        client.subscribe(self.filter, qos=self.qos)
        if getattr(flags, "session_present", False):
            # The broker kept our session, subscription included: what it queued arrives now.
            self.stats.resumed += 1
            self.subscribed.set()
        log.info("mqtt connected", extra={"filter": self.filter, "client_id": self.client_id})

    def _on_subscribe(self, client, userdata, mid, reason_codes, properties=None):
        if all(not rc.is_failure for rc in reason_codes):
            self.subscribed.set()
        else:
            log.error("mqtt subscription refused", extra={"filter": self.filter})

    def _on_disconnect(self, client, userdata, flags, reason_code, properties=None):
        self.subscribed.clear()
        if (
            getattr(reason_code, "value", None) == SESSION_TAKEN_OVER
        ):  # sent by EMQX; Mosquitto 2.0 just closes
            self.taken_over = True
            self._stop.set()
            log.error(
                "mqtt session taken over: another consumer uses this client id; stopping",
                extra={"client_id": self.client_id},
            )
            return
        if not self._stop.is_set():
            log.warning("mqtt disconnected", extra={"reason": str(reason_code)})

    def _on_message(self, client, userdata, message):
        if self._done() or self._redeliver:
            # Over the bound, or the database is away: left unacknowledged, so the broker delivers it again
            # (with a persistent session, to this consumer when it reconnects).
            return
        self.stats.received += 1
        close_old_connections()
        outcome, acknowledge = None, True
        try:
            outcome = handle_message(message.topic, message.payload, prefix=self.prefix)
        except (OperationalError, InterfaceError):  # the database is away: not handled, so not acknowledged
            self.stats.errors += 1
            self.stats.unacked += 1
            acknowledge, self._redeliver = False, True
            log.warning("mqtt message left for redelivery: database unavailable", exc_info=True)
            connection.close()
        except Exception:  # a bug this message triggers: logged and acknowledged, never blocks the queue
            self.stats.errors += 1
            log.exception("mqtt message failed", extra={"topic": message.topic[:200]})
            connection.close()
        finally:
            close_old_connections()
        if acknowledge and message.qos > 0:
            self._ack(client, message)  # after the reading's transaction committed: at least once
        if outcome is None:
            return
        self.stats.outcomes[outcome.status] += 1
        if self.on_outcome is not None:
            self.on_outcome(message.topic, outcome)

    def _ack(self, client, message) -> None:
        client.ack(message.mid, message.qos)

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

    def _connect_properties(self):
        from paho.mqtt.packettypes import PacketTypes
        from paho.mqtt.properties import Properties

        properties = Properties(PacketTypes.CONNECT)
        properties.SessionExpiryInterval = self.session_expiry
        return properties

    def run(self) -> dict:
        import paho.mqtt.client as mqtt

        client = self._client = self._client_new()
        host, port = self.url.hostname or "127.0.0.1", self.url.port or 1883
        clean_start = not self.persistent
        backoff, connected = BACKOFF_MIN, False
        try:
            while not self._done():
                if not connected:
                    try:
                        if self.stats.connects == 0 and not client.is_connected():
                            client.connect(
                                host,
                                port,
                                keepalive=30,
                                clean_start=clean_start,
                                properties=self._connect_properties(),
                            )
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
                if self._redeliver and rc == mqtt.MQTT_ERR_SUCCESS:
                    # Keep the session, drop the connection: the broker resends what was left unacknowledged.
                    client.disconnect()
                    client.loop(timeout=0.2)
                    rc = mqtt.MQTT_ERR_NO_CONN
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
