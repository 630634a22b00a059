"""Several nodes under kill -9, the short version of bench/chaos.py (issue 12 §3).

Two `yiwang serve` processes on two loopback ports, one Huey consumer on Redis, one MQTT consumer with a
persistent session and the evidence sequencer run against a PostgreSQL database of the test's own (created and
dropped here; the nodes are separate processes, so pytest-django's transactional test database cannot serve
them). A short mixed load — applications with idempotency keys, accepts, hotline intakes, MQTT alarms at QoS 1 —
runs while one web node and the MQTT consumer are killed with SIGKILL and restarted. Then the invariants: every
request answered 2xx exists exactly once, no number is used twice, nothing is dispatched twice, every alarm the
broker acknowledged opened exactly one incident, the outbox is delivered, every acknowledged write is in the
evidence tree, and `yiwang audit verify` passes.

PostgreSQL only: SQLite is one file for one machine, and several nodes are exactly what it does not do.
"""

from __future__ import annotations

import os
import socket
import tempfile
import time
import uuid
from pathlib import Path

import pytest
from dj_database_url import parse

from .cluster import Cluster, Load, chaos_schedule, database_drop, postgres_reachable, redis_flush

DB_URL = os.environ.get("YIWANG_DATABASE_URL", "")
REDIS_URL = "redis://127.0.0.1:6379/12"
SECONDS = 14


def _reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


pytestmark = [
    pytest.mark.skipif(
        not DB_URL.startswith("postgres"),
        reason="several nodes need a database server: runs on PostgreSQL only (SQLite is one file for one machine)",
    ),
    pytest.mark.skipif(
        not _reachable("127.0.0.1", 6379), reason="no Redis at 127.0.0.1:6379 for the Huey queue"
    ),
    pytest.mark.skipif(not _reachable("127.0.0.1", 1883), reason="no MQTT broker at 127.0.0.1:1883"),
]


@pytest.fixture
def template(django_db_setup, django_db_blocker) -> str:
    """pytest-django's migrated test database, every connection to it closed, to copy from."""
    from django.db import connection, connections

    with django_db_blocker.unblock():
        name = connection.settings_dict["NAME"]
        connections.close_all()
    return name


@pytest.fixture
def cluster():
    if not postgres_reachable(DB_URL):
        pytest.skip("PostgreSQL unreachable")
    db = parse(DB_URL)
    run = uuid.uuid4().hex[:8]
    url = f"postgres://{db['USER'] or 'postgres'}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/yiwang_mn_{run}"
    var = Path(tempfile.mkdtemp(prefix=f"yiwang-mn-{run}-"))
    nodes = Cluster(
        database_url=url,
        var=var,
        redis_url=REDIS_URL,
        run=run,
        web_ports=[_free_port(), _free_port()],
        huey=1,
        mqtt=1,
    )
    try:
        yield nodes
    finally:
        nodes.stop_all()
        redis_flush(REDIS_URL)
        database_drop(url)


@pytest.mark.django_db(transaction=True)  # only so that pytest-django creates the database `template` copies
def test_two_web_nodes_a_consumer_and_the_sequencer_lose_nothing_under_kill_9(cluster, template):
    began = time.monotonic()
    marks = {}
    plan = cluster.setup(world="light", devices=60, intakes=400, template=template)
    marks["setup"] = time.monotonic() - began
    cluster.start_all()
    cluster.wait_web()
    cluster.wait_mqtt_sessions()
    marks["nodes_up"] = time.monotonic() - began
    load = Load(cluster, plan, submitters=2, intakers=1, alarms_per_s=4)
    load.warm_up()
    events: list = []
    t0 = time.monotonic()
    load.start()
    chaos_schedule(cluster, SECONDS, ["web0", "mqtt0"], t0, events)
    time.sleep(max(0.0, t0 + SECONDS - time.monotonic()))
    record = load.finish()
    marks["load_done"] = time.monotonic() - began
    print(marks, record["counts"], record["latency"])

    assert [e.get("killed") for e in events if "killed" in e] == ["web0", "mqtt0"]
    assert cluster.nodes["web0"].kills == 1 and cluster.nodes["mqtt0"].kills == 1
    # The load reached both nodes and did work of every kind.
    assert len(record["submitted"]) > 5 and len(record["accepted"]) > 3, record["counts"]
    assert len(record["intakes"]) > 3 and len(record["alarmed_devices"]) > 10, record["counts"]

    checks = cluster.check(record, wait=90)
    print("settled", checks["settled_seconds"])
    cluster.stop_all()
    assert checks["ok"], checks["failures"]
    assert checks["alarms"]["incidents"] == len(record["alarmed_devices"])
    verify = cluster.audit_verify()
    assert verify["ok"], verify["output"]
