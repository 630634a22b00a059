"""Periodic tasks with several Huey consumers on one Redis: each due task is queued once per minute, not once
per consumer (core/queue.py)."""

from __future__ import annotations

import datetime as dt
import uuid
from pathlib import Path

import pytest
from huey import crontab

from yiwang.core.queue import ClusterRedisHuey

REDIS = "redis://127.0.0.1:6379/14"


def _redis_available() -> bool:
    try:
        import redis

        return bool(redis.Redis.from_url(REDIS, socket_connect_timeout=1).ping())
    except Exception:
        return False


pytestmark = pytest.mark.skipif(not _redis_available(), reason="needs Redis at 127.0.0.1:6379")


@pytest.fixture
def consumers():
    """Two Huey instances of one name on one Redis, as two consumer processes would have, with one periodic
    task registered on each (the same module imported by both)."""
    name = f"test-periodic-{uuid.uuid4().hex[:8]}"
    nodes = [ClusterRedisHuey(name, url=REDIS) for _ in range(2)]
    for huey in nodes:
        huey.periodic_task(crontab(minute="*"), name="sweep")(lambda: None)
    yield nodes
    conn = nodes[0].storage.conn
    for key in conn.scan_iter(f"huey.{name}.*"):
        conn.delete(key)
    nodes[0].storage.flush_queue()


def test_two_consumers_queue_a_due_periodic_task_once_per_minute(consumers):
    first, second = consumers
    tick = dt.datetime(2026, 12, 6, 9, 30, 0)
    assert [t.name for t in first.read_periodic(tick)] == ["sweep"]
    assert second.read_periodic(tick) == []
    # The same minute seen a few seconds later (the schedulers' clocks differ) is still claimed.
    assert second.read_periodic(tick + dt.timedelta(seconds=20)) == []
    # The next minute is due again, and whichever consumer asks first gets it.
    assert [t.name for t in second.read_periodic(tick + dt.timedelta(minutes=1))] == ["sweep"]
    assert first.read_periodic(tick + dt.timedelta(minutes=1)) == []


def test_a_task_not_due_is_not_claimed(consumers):
    first, _ = consumers
    hourly = ClusterRedisHuey(first.name, url=REDIS)
    hourly.periodic_task(crontab(minute="0"), name="hourly")(lambda: None)
    assert hourly.read_periodic(dt.datetime(2026, 12, 6, 9, 30)) == []
    assert [t.name for t in hourly.read_periodic(dt.datetime(2026, 12, 6, 10, 0))] == ["hourly"]


def test_the_platform_uses_the_cluster_class_on_redis():
    # settings.py picks the Redis configuration only when YIWANG_REDIS_URL is set; read what it would pick.
    text = (Path(__file__).resolve().parents[2] / "src/yiwang/settings.py").read_text()
    assert '"huey_class": "yiwang.core.queue.ClusterRedisHuey"' in text
    assert '"huey_class": "huey.RedisHuey"' not in text
