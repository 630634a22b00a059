"""Several nodes under kill -9 (issue 12 §3): two `yiwang serve` processes on two loopback ports (the load spread
over both), two Huey consumers on Redis, two MQTT consumers (persistent sessions) and the evidence sequencer, all
against one PostgreSQL database of the run's own, under a mixed load — applications through POST /api/cases with
idempotency keys, accepts by the window clerk, hotline intakes, licence issues, MQTT alarms at QoS 1. During the
load one web node, one Huey consumer, one MQTT consumer and the sequencer are killed with SIGKILL (the whole
process group) and restarted. Afterwards it waits for the asynchronous parts to settle and checks:

- every application answered 2xx exists exactly once (its idempotency key, the case the answer named), every
  accept answered 2xx happened once, every intake and licence answered 2xx exists;
- no case or incident number is used twice; no incident is dispatched twice;
- every alarm the broker acknowledged opened exactly one incident (repeats included);
- the work committed transactions handed to Huey ran: the SMS outbox is sent, every accepted case notified;
- `yiwang audit verify` passes, and every acknowledged write has its evidence entry, integrated into the tree.

    .venv/bin/python bench/chaos.py [--seconds 60] [--keep]

Database postgres://postgres@127.0.0.1:5432/yiwang_chaos (created, dropped at the end unless --keep), Redis
database 11 (flushed at start and end), var directory /tmp/yiwang-chaos (node logs in logs/). Bounded: the load
stops by itself, every child is killed on exit. Human lines go to stderr; the last stdout line is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.platform.cluster import (  # noqa: E402 — the harness lives beside the test that shares it
    Cluster,
    Load,
    chaos_schedule,
    database_drop,
    redis_flush,
)

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/yiwang_chaos"
REDIS_URL = "redis://127.0.0.1:6379/11"
VAR = Path(tempfile.gettempdir()) / "yiwang-chaos"
PORTS = [8811, 8812]


def say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument(
        "--settle", type=float, default=150, help="longest wait for queues to drain afterwards"
    )
    parser.add_argument("--database", default=DEFAULT_URL)
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards (for inspection)")
    args = parser.parse_args()

    run = uuid.uuid4().hex[:8]
    cluster = Cluster(database_url=args.database, var=VAR, redis_url=REDIS_URL, run=run, web_ports=PORTS)
    result: dict = {"bench": "chaos", "run": run, "seconds": args.seconds}
    try:
        started = time.monotonic()
        say("creating the database, migrating, loading the demo (scale 0.05) …")
        plan = cluster.setup(world="demo", devices=int(args.seconds * 5) + 20, intakes=int(args.seconds * 60))
        result["setup_seconds"] = round(time.monotonic() - started, 1)
        cluster.start_all()
        cluster.wait_web()
        cluster.wait_mqtt_sessions()
        say(f"nodes up: {', '.join(cluster.nodes)}; load for {args.seconds:.0f} s …")
        load = Load(cluster, plan)
        events: list = []
        t0 = time.monotonic()
        load.warm_up()
        load.start()
        chaos_schedule(cluster, args.seconds, ["web0", "huey0", "mqtt0", "sequencer0"], t0, events)
        time.sleep(max(0.0, t0 + args.seconds - time.monotonic()))
        record = load.finish()
        result["load_seconds"] = round(time.monotonic() - t0, 1)
        result["chaos"] = events
        result["requests"] = record["counts"]
        result["retries"] = record["retries"]
        result["latency"] = record["latency"]
        result["alive_after_load"] = cluster.alive()
        say(f"load done: {record['counts']}; waiting for the queues to settle …")
        checks = cluster.check(record, wait=args.settle)
        cluster.stop_all()
        verify = cluster.audit_verify()
        result["checks"] = checks
        result["audit_verify"] = verify
        result["ok"] = bool(checks.get("ok")) and verify["ok"]
        say(f"invariants: {'all hold' if checks.get('ok') else checks.get('failures')}")
        say(f"yiwang audit verify: {'ok' if verify['ok'] else verify['output']}")
    finally:
        cluster.stop_all()
        try:
            redis_flush(REDIS_URL)
        except Exception as exc:  # noqa: BLE001 — reported, the run's result stands
            say(f"redis flush failed: {exc}")
        if not args.keep:
            database_drop(args.database)
    result["machine"] = {"cpus": __import__("os").cpu_count(), "python": platform.python_version()}
    print(json.dumps(result, ensure_ascii=False))
    sys.exit(0 if result.get("ok") else 1)


if __name__ == "__main__":
    main()
