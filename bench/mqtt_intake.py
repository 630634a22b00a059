"""IoT intake through Mosquitto: sensor messages consumed per second (with thresholds and debounce) and the delay
from publishing an alarm to its incident being committed.

    .venv/bin/python bench/mqtt_intake.py [--devices 200] [--messages 5000] [--consumers 2] [--quick]

PostgreSQL: postgres://postgres@127.0.0.1:5432/yiwang_bench_mqtt unless YIWANG_DATABASE_URL says otherwise
(created and migrated on first run, the incident test world loaded once). Each run registers N fresh devices
(water level, alarm at once, 10-minute debounce): 90 % report normal levels only, 5 % are in alarm for the whole
run and 5 % flap (every other reading over the threshold). M readings are published with QoS 1 to
`bench/<run>/<type>/<device>` on the broker at YIWANG_MQTT_URL while C consumer processes (the same
`yiwang.incidents.mqtt.Consumer` as `yiwang mqtt-consume`, forked, one shared subscription) take them.
The publisher keeps at most 400 messages waiting (Mosquitto's default max_queued_messages of 1000 would drop
the rest), so messages/s = M / (last message handled − first published) is the consumers' rate. Alarm delay = incident committed − publish time of
that device's first over-threshold reading. Every alarming or flapping device must yield exactly one incident.
Human-readable lines first; the last stdout line is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import platform
import random
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import benchdb  # shared database set-up (bench/benchdb.py)

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/yiwang_bench_mqtt"
VAR = Path(tempfile.gettempdir()) / "yiwang-bench-mqtt"
TYPE = "bench_water"


def say(text: str) -> None:
    print(text, flush=True)


def ensure_world():
    from tests.incidents.factories import build_incident_world

    from yiwang.incidents.models import DeviceType, IncidentCategory

    if not IncidentCategory.objects.filter(code="AQYH02").exists():
        build_incident_world()
    category = IncidentCategory.objects.get(code="AQYH02")
    kind, _ = DeviceType.objects.get_or_create(
        code=TYPE,
        defaults={
            "name": "水位监测",
            "unit": "m",
            "threshold": 2.0,
            "trigger_count": 1,
            "debounce_seconds": 600,
            "category": category,
        },
    )
    return kind


def register_devices(run: str, n: int) -> list[str]:
    from tests.incidents.factories import GRIDS, point_in

    from yiwang.incidents.services.iot import device_register

    grids = list(GRIDS)
    codes = []
    for i in range(n):
        lon, lat = point_in(grids[i % len(grids)], dx=0.001 + (i % 8) / 1000, dy=0.001 + (i // 8 % 8) / 1000)
        code = f"B{run}-{i:05d}"
        device_register(actor=None, code=code, device_type_code=TYPE, lon=lon, lat=lat, name=f"水位计{i}")
        codes.append(code)
    return codes


def consumer_process(prefix, group, limit, counter, ready, stop, results):
    """A forked consumer: reports readiness, counts handled messages, returns (stats, alarm times)."""
    from yiwang.incidents.mqtt import Consumer  # the parent closed its connections before forking
    from yiwang.incidents.services.iot import ALARM

    alarms: list[tuple[str, float]] = []

    def on_outcome(topic, outcome):
        with counter.get_lock():
            counter.value += 1
        if outcome.status == ALARM:
            alarms.append((outcome.device_code, time.time()))

    consumer = Consumer(prefix=prefix, group=group, seconds=limit, on_outcome=on_outcome)

    def watch():
        if consumer.subscribed.wait(timeout=30):
            ready.release()
        stop.wait()
        consumer.stop()

    threading.Thread(target=watch, daemon=True).start()
    stats = consumer.run()
    results.put({"stats": stats, "alarms": alarms})


BACKLOG = 400  # Mosquitto drops QoS 1 messages past max_queued_messages (1000) per subscriber: stay below


def publish_all(prefix: str, plan: list[tuple[str, float]], counter) -> tuple[float, float, dict[str, float]]:
    """Publishes the readings (QoS 1), keeping at most BACKLOG unconsumed messages queued at the broker;
    returns (first publish, last acknowledged, first over-threshold publish time per device)."""
    from urllib.parse import urlparse

    import paho.mqtt.client as mqtt
    from django.conf import settings

    url = urlparse(settings.MQTT_URL)
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"bench-pub-{uuid.uuid4().hex[:8]}")
    client.max_inflight_messages_set(200)
    client.connect(url.hostname or "127.0.0.1", url.port or 1883, keepalive=30)
    client.loop_start()
    first_over: dict[str, float] = {}
    infos = []
    started = time.time()
    for n, (code, value) in enumerate(plan):
        while n - counter.value >= BACKLOG:
            time.sleep(0.002)
        now = time.time()
        if value > 2.0 and code not in first_over:
            first_over[code] = now
        infos.append(client.publish(f"{prefix}/{TYPE}/{code}", json.dumps({"value": value}), qos=1))
    for info in infos:
        info.wait_for_publish(timeout=60)
    acked = time.time()
    client.disconnect()
    client.loop_stop()
    return started, acked, first_over


IDLE_ALARMS = 10


def publish_one_at_a_time(prefix: str, codes: list[str], counter) -> dict[str, float]:
    """After the load: one alarm per device, each published only when the previous one has been handled, so
    the delay is publish → incident with nothing queued ahead of it. Returns the publish time per device."""
    from urllib.parse import urlparse

    import paho.mqtt.client as mqtt
    from django.conf import settings

    url = urlparse(settings.MQTT_URL)
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"bench-one-{uuid.uuid4().hex[:8]}")
    client.connect(url.hostname or "127.0.0.1", url.port or 1883, keepalive=30)
    client.loop_start()
    published = {}
    for code in codes:
        handled = counter.value
        published[code] = time.time()
        client.publish(f"{prefix}/{TYPE}/{code}", json.dumps({"value": 3.0}), qos=1).wait_for_publish(
            timeout=30
        )
        deadline = time.time() + 30
        while counter.value == handled and time.time() < deadline:
            time.sleep(0.001)
        time.sleep(0.05)
    client.disconnect()
    client.loop_stop()
    return published


def pct(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q / 100 * (len(values) - 1))))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--devices", type=int, default=200)
    parser.add_argument("--messages", type=int, default=5000)
    parser.add_argument("--consumers", type=int, default=2)
    parser.add_argument("--timeout", type=float, default=300, help="give up after this many seconds")
    parser.add_argument("--quick", action="store_true", help="50 devices, 1,000 messages, 1 consumer")
    parser.add_argument("--seed", type=int, default=6)
    args = parser.parse_args()
    if args.quick:
        args.devices, args.messages, args.consumers = 50, 1000, 1
    benchdb.setup_django(default_url=DEFAULT_URL, var=VAR)
    from django.db import connection

    from yiwang.incidents.models import Incident

    rng = random.Random(args.seed)
    run = uuid.uuid4().hex[:8]
    ensure_world()
    t = time.perf_counter()
    codes = register_devices(run, args.devices)
    quiet = register_devices(f"{run}q", IDLE_ALARMS)  # alarmed one at a time once the load is over
    say(f"registered {len(codes)} devices in {time.perf_counter() - t:.1f}s (run {run})")
    n_alarm = max(1, args.devices * 5 // 100)
    alarming, flapping = set(codes[:n_alarm]), set(codes[n_alarm : 2 * n_alarm])
    plan, flips = [], {}
    for _ in range(args.messages):
        code = rng.choice(codes)
        if code in alarming:
            value = 2.5 + rng.random()
        elif code in flapping:
            flips[code] = not flips.get(code, False)
            value = 2.6 if flips[code] else 1.0
        else:
            value = round(0.5 + rng.random(), 3)
        plan.append((code, value))
    expected = len({c for c, v in plan if v > 2.0})

    prefix, group = f"bench/{run}", f"bench{run}"
    connection.close()  # nothing open across the fork
    ctx = mp.get_context("fork")
    counter, ready, stop, results = ctx.Value("i", 0), ctx.Semaphore(0), ctx.Event(), ctx.Queue()
    procs = [
        ctx.Process(
            target=consumer_process, args=(prefix, group, args.timeout, counter, ready, stop, results)
        )
        for _ in range(args.consumers)
    ]
    for p in procs:
        p.start()
    for _ in procs:
        if not ready.acquire(timeout=30):
            raise SystemExit("a consumer did not subscribe within 30 s")
    say(
        f"{args.consumers} consumer(s) subscribed to $share/{group}/{prefix}/+/+; publishing {len(plan)} readings"
    )
    first_pub, acked, first_over = publish_all(prefix, plan, counter)
    deadline = time.time() + args.timeout
    while counter.value < len(plan) and time.time() < deadline:
        time.sleep(0.02)
    done, handled = time.time(), counter.value
    quiet_published = publish_one_at_a_time(prefix, quiet, counter)
    stop.set()
    outs = [results.get(timeout=60) for _ in procs]
    for p in procs:
        p.join(timeout=30)
    alarms = [(code, at) for out in outs for code, at in out["alarms"]]
    delays = [(at - first_over[code]) * 1000 for code, at in alarms if code in first_over]
    quiet_delays = [(at - quiet_published[code]) * 1000 for code, at in alarms if code in quiet_published]
    opened = Incident.objects.filter(device__code__startswith=f"B{run}-").count()
    elapsed = max(done - first_pub, 1e-9)
    result = {
        "benchmark": "mqtt_intake",
        "database": connection.vendor,
        "devices": args.devices,
        "messages": len(plan),
        "consumers": args.consumers,
        "handled": handled,
        "messages_per_second": round(handled / elapsed, 1),
        "publish_per_second": round(len(plan) / max(acked - first_pub, 1e-9), 1),
        "alarm_devices": expected,
        "incidents_opened": opened,
        "exactly_one_per_device": opened == expected,
        "alarm_delay_ms_p50": round(pct(delays, 50), 1),
        "alarm_delay_ms_p99": round(pct(delays, 99), 1),
        "idle_alarm_delay_ms_p50": round(pct(quiet_delays, 50), 1),
        "idle_alarm_delay_ms_max": round(max(quiet_delays, default=0.0), 1),
        "idle_alarms_opened": len(quiet_delays),
        "consumer_outcomes": [out["stats"]["outcomes"] for out in outs],
        "machine": f"{platform.machine()} {os.cpu_count()} cpu, Python {sys.version.split()[0]}",
    }
    say(
        f"{handled}/{len(plan)} messages in {elapsed:.2f}s → {result['messages_per_second']} msg/s; "
        f"{opened} incidents for {expected} alarming devices; alarm delay p50 {result['alarm_delay_ms_p50']} ms, "
        f"p99 {result['alarm_delay_ms_p99']} ms under load; one alarm on a quiet consumer "
        f"p50 {result['idle_alarm_delay_ms_p50']} ms"
    )
    print(json.dumps(result, ensure_ascii=False), flush=True)


if __name__ == "__main__":
    main()
