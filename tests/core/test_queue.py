"""Huey against real storage: a consumer process takes work another process enqueued — SQLite by default,
Redis when YIWANG_REDIS_URL is set."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import uuid

import pytest

ENQUEUE = (
    "import os; from yiwang.core.tasks import consumer_echo;"
    "r = consumer_echo(os.environ['ECHO']);"
    "out = r.get(blocking=True, timeout=30);"
    "from huey.contrib.djhuey import HUEY;"
    "print('ECHO', out['value'], out['pid'], type(HUEY.storage).__name__)"
)


def _redis_available() -> bool:
    try:
        import redis

        return bool(redis.Redis.from_url("redis://127.0.0.1:6379/15", socket_connect_timeout=1).ping())
    except Exception:
        return False


def _round_trip(env_extra: dict, tmp_path) -> tuple[str, int, str]:
    env = {
        **os.environ,
        "YIWANG_VAR_DIR": str(tmp_path),
        "YIWANG_KEYSTORE": str(tmp_path / "ks.json"),
        **env_extra,
    }
    env.pop("DJANGO_SETTINGS_MODULE", None)
    env.pop("YIWANG_HUEY_IMMEDIATE", None)
    consumer = subprocess.Popen(
        [sys.executable, "-m", "yiwang.cli", "run_huey", "--workers", "1", "--no-periodic"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        value = uuid.uuid4().hex
        done = subprocess.run(
            [sys.executable, "-m", "yiwang.cli", "shell", "--no-imports", "-c", ENQUEUE],
            env={**env, "ECHO": value},
            capture_output=True,
            text=True,
            timeout=90,
        )
        assert done.returncode == 0, done.stderr[-2000:]
        line = next(line for line in done.stdout.splitlines() if line.startswith("ECHO "))
        _, echoed, pid, storage = line.split()
        assert echoed == value
        return echoed, int(pid), storage
    finally:
        os.killpg(consumer.pid, signal.SIGTERM)
        consumer.wait(timeout=20)


def test_sqlite_queue_round_trip(tmp_path):
    _, pid, storage = _round_trip({}, tmp_path)
    assert pid != os.getpid()
    assert storage == "SqliteStorage"


@pytest.mark.skipif(not _redis_available(), reason="no Redis at 127.0.0.1:6379")
def test_redis_queue_round_trip(tmp_path):
    import redis

    url = "redis://127.0.0.1:6379/15"
    try:
        _, pid, storage = _round_trip({"YIWANG_REDIS_URL": url}, tmp_path)
        assert pid != os.getpid()
        assert storage == "RedisStorage"
    finally:
        client = redis.Redis.from_url(url)
        for key in client.keys("huey.*yiwang*"):
            client.delete(key)
