"""Reachability of the parts the platform runs on. Each probe is bounded by a short timeout."""

from __future__ import annotations

import socket
import time
from urllib.parse import urlparse

from django.conf import settings
from django.db import connection

PROBE_TIMEOUT = 1.5


def _timed(probe) -> dict:
    started = time.perf_counter()
    try:
        detail = probe()
        result = {"status": "ok"}
        if detail:
            result.update(detail)
    except Exception as exc:  # a probe reports, it never raises
        result = {"status": "down", "error": f"{type(exc).__name__}: {exc}"[:200]}
    result["ms"] = round((time.perf_counter() - started) * 1000, 1)
    return result


def _database() -> dict:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return {"vendor": connection.vendor}


def _huey() -> dict:
    from huey.contrib.djhuey import HUEY

    return {"storage": type(HUEY.storage).__name__, "pending": HUEY.pending_count()}


def _redis() -> dict | None:
    import redis

    client = redis.Redis.from_url(
        settings.REDIS_URL, socket_timeout=PROBE_TIMEOUT, socket_connect_timeout=PROBE_TIMEOUT
    )
    client.ping()
    return None


def _mqtt() -> dict:
    """A real MQTT CONNECT/CONNACK handshake, not just an open port."""
    import paho.mqtt.client as mqtt

    url = urlparse(settings.MQTT_URL)
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"yiwang-health-{time.monotonic_ns()}")
    if url.username:
        client.username_pw_set(url.username, url.password)
    client.connect(url.hostname or "127.0.0.1", url.port or 1883, keepalive=5)
    deadline = time.monotonic() + PROBE_TIMEOUT
    while not client.is_connected() and time.monotonic() < deadline:
        client.loop(timeout=0.1)
    connected = client.is_connected()
    client.disconnect()
    if not connected:
        raise ConnectionError("no CONNACK from broker")
    return {"broker": f"{url.hostname}:{url.port or 1883}"}


def liveness() -> str:
    """ "ok" when this process answers and reaches its database, else "down"; nothing else is revealed."""
    return "ok" if _timed(_database)["status"] == "ok" else "down"


def health_report() -> dict:
    socket.setdefaulttimeout(PROBE_TIMEOUT)
    try:
        components = {"database": _timed(_database), "huey": _timed(_huey)}
        components["redis"] = _timed(_redis) if settings.REDIS_URL else {"status": "not_configured"}
        components["mqtt"] = _timed(_mqtt) if settings.MQTT_URL else {"status": "not_configured"}
    finally:
        socket.setdefaulttimeout(None)
    degraded = any(c["status"] == "down" for c in components.values())
    return {"status": "degraded" if degraded else "ok", "components": components}
