"""Staff inbox with 1,000,000 cases: one department, filtered by state, ordered by step due date, 20 per page,
page 1 and page 500 by keyset — median and p99 over 200 requests with 1 client and with 16 clients, through the
real API (GET /api/cases, Bearer token of the demo approver) on the production server (granian).

For scale: Open Zaak publishes a median of 480–860 ms for its case list with 1,000,000 cases and one user on 4 CPUs;
the target here is ≤ 15 ms on this machine.

    .venv/bin/python bench/inbox.py [--cases 1000000] [--requests 200] [--rebuild]

PostgreSQL: postgres://postgres@127.0.0.1:5432/yiwang_bench_inbox unless YIWANG_DATABASE_URL says otherwise.
The database is created, migrated and loaded (demo district + catalogue + COPY-generated cases) on first run and
reused afterwards. Human-readable lines first; the last stdout line is one JSON object.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode

import benchdb  # shared database set-up (bench/benchdb.py)
from benchdb import ensure_database  # noqa: F401  (re-exported for older imports)

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/yiwang_bench_inbox"
VAR = Path(tempfile.gettempdir()) / "yiwang-bench-inbox"
PORT = int(os.environ.get("YIWANG_BENCH_PORT", "8798"))  # another bench may hold the default


def setup_django() -> dict:
    return benchdb.setup_django(default_url=DEFAULT_URL, var=VAR)


def say(text: str) -> None:
    print(text, flush=True)


def machine() -> dict:
    cpu = ""
    try:
        cpu = next(
            line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")
        )
    except (OSError, StopIteration):
        pass
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "loadavg_1m": os.getloadavg()[0],
    }


def load_cases(n: int, rebuild: bool) -> dict:
    """Demo district + catalogue, then n cases spread over every published item (COPY)."""
    from django.db import connection

    from yiwang.cases.models import Case
    from yiwang.catalog.demo import demo_load_catalog
    from yiwang.catalog.models import ServiceItem
    from yiwang.core.models import Account
    from yiwang.demo import DISTRICT_CODE, DISTRICT_NAME, demo_load

    demo_load(scale=1)
    demo_load_catalog(district_code=DISTRICT_CODE, district_name=DISTRICT_NAME)
    if rebuild:
        with connection.cursor() as cursor:
            cursor.execute(
                "TRUNCATE cases_casestatus, cases_casefile, cases_supplementrequest, cases_case CASCADE"
            )
    have = Case.objects.count()
    if have >= n:
        return {"cases": have, "built": False}
    items = list(ServiceItem.objects.filter(status="published").select_related("department"))
    citizen = Account.objects.get(username="citizen")
    rng = random.Random(20261121)
    steps_by_item = {
        item.pk: [s["code"] for s in item.process.get("steps", [])] or ["intake"] for item in items
    }
    columns = [
        "public_id",
        "number",
        "item_id",
        "department_id",
        "applicant_account_id",
        "applicant_person_id",
        "channel",
        "idempotency_key",
        "form_data",
        "state",
        "current_step",
        "submitted_at",
        "accepted_at",
        "due_date",
        "step_due_date",
        "step_started_at",
        "paused_working_days",
        "decision",
        "decision_reason",
        "lock_version",
        "created_at",
        "updated_at",
    ]
    states = ["in_progress"] * 6 + ["submitted", "supplement", "approved", "approved", "denied", "rejected"]
    today = date.today()
    start = time.monotonic()
    copy_sql = f"COPY {Case._meta.db_table} ({', '.join(columns)}) FROM STDIN"
    connection.ensure_connection()
    raw = connection.connection  # psycopg 3 connection: COPY straight into the table
    with raw.cursor() as cursor, cursor.copy(copy_sql) as copy:
        for i in range(have, n):
            item = items[i % len(items)]
            steps = steps_by_item[item.pk]
            state = rng.choice(states)
            step = steps[0] if state == "submitted" else rng.choice(steps)
            submitted = datetime.now(UTC) - timedelta(days=rng.randint(0, 400), seconds=rng.randint(0, 86400))
            due = submitted.date() + timedelta(days=item.committed_days + rng.randint(0, 10))
            step_due = today + timedelta(days=rng.randint(-20, 30))
            copy.write_row(
                [
                    str(uuid.uuid4()),
                    f"{item.department.code}-B{i:09d}",
                    item.pk,
                    item.department_id,
                    citizen.pk,
                    citizen.person_id,
                    "online",
                    "",
                    "{}",
                    state,
                    step,
                    submitted,
                    submitted,
                    due,
                    step_due,
                    submitted,
                    0,
                    "approved" if state == "approved" else ("denied" if state == "denied" else ""),
                    "",
                    0,
                    submitted,
                    submitted,
                ]
            )
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {Case._meta.db_table}")
    return {"cases": n, "built": True, "build_seconds": round(time.monotonic() - start, 1)}


def staff_token(username: str) -> str:
    from yiwang.core.models import Account
    from yiwang.core.services.identity import api_token_issue_for_account

    return api_token_issue_for_account(account=Account.objects.get(username=username)).token


def get(conn: http.client.HTTPConnection, path: str, token: str) -> tuple[float, dict]:
    started = time.perf_counter()
    conn.request("GET", path, headers={"Authorization": f"Bearer {token}"})
    response = conn.getresponse()
    body = response.read()
    elapsed = (time.perf_counter() - started) * 1000
    if response.status != 200:
        raise SystemExit(f"GET {path} → {response.status}: {body[:300]!r}")
    return elapsed, json.loads(body)


def cursor_of_page(query: dict, token: str, page: int) -> str | None:
    conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=30)
    cursor = None
    for _ in range(page - 1):
        params = {**query, **({"cursor": cursor} if cursor else {})}
        _, body = get(conn, f"/api/cases?{urlencode(params)}", token)
        cursor = body.get("next_cursor")
        if not cursor:
            raise SystemExit(f"the inbox has fewer than {page} pages")
    conn.close()
    return cursor


def measure(path: str, token: str, requests: int, clients: int) -> dict:
    latencies: list[float] = []
    lock = threading.Lock()
    per_client = [requests // clients + (1 if i < requests % clients else 0) for i in range(clients)]

    def worker(count: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=30)
        get(conn, path, token)  # warm the connection
        mine = [get(conn, path, token)[0] for _ in range(count)]
        conn.close()
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=worker, args=(count,)) for count in per_client]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    latencies.sort()
    return {
        "clients": clients,
        "requests": len(latencies),
        "median_ms": round(statistics.median(latencies), 2),
        "p99_ms": round(latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))], 2),
        "requests_per_s": round(len(latencies) / wall, 1),
    }


def measure_bare(requests: int) -> dict:
    """The bare Django view (GET /healthz) on the same server in the same run, 1 client: the floor under a page."""
    conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=30)
    latencies = []
    for _ in range(requests + 1):
        started = time.perf_counter()
        conn.request("GET", "/healthz")
        conn.getresponse().read()
        latencies.append((time.perf_counter() - started) * 1000)
    conn.close()
    latencies = sorted(latencies[1:])
    return {
        "requests": len(latencies),
        "median_ms": round(statistics.median(latencies), 2),
        "p99_ms": round(latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))], 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--user", default="approver")
    parser.add_argument("--rebuild", action="store_true")
    args = parser.parse_args()
    env = setup_django()
    say(f"loading {args.cases:,} cases (reused when present)...")
    loaded = load_cases(args.cases, args.rebuild)
    say(f"  {loaded}")
    token = staff_token(args.user)

    server_env = {**os.environ, **env}
    server_env.pop("DJANGO_SETTINGS_MODULE", None)
    server = subprocess.Popen(
        [sys.executable, "-m", "yiwang.cli", "serve", "--port", str(PORT), "--workers", "2"],
        env=server_env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=2)
                conn.request("GET", "/healthz")
                if conn.getresponse().status == 200:
                    break
            except OSError:
                time.sleep(0.3)
        query = {"state": "in_progress", "limit": 20}
        page1 = f"/api/cases?{urlencode(query)}"
        _, first = get(http.client.HTTPConnection("127.0.0.1", PORT, timeout=30), page1, token)
        say(f"inbox of {args.user}: first page has {len(first.get('items', []))} rows")
        cursor500 = cursor_of_page(query, token, 500)
        page500 = f"/api/cases?{urlencode({**query, 'cursor': cursor500})}"
        results = {}
        bare = measure_bare(args.requests)
        say(
            f"bare Django view (GET /healthz), 1 client: median {bare['median_ms']} ms, p99 {bare['p99_ms']} ms"
        )
        for label, path in (("page_1", page1), ("page_500", page500)):
            for clients in (1, 16):
                result = measure(path, token, args.requests, clients)
                results[f"{label}_{clients}_clients"] = result
                say(
                    f"{label:9s} {clients:2d} clients: median {result['median_ms']} ms, p99 {result['p99_ms']} ms, "
                    f"{result['requests_per_s']} req/s"
                )
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=20)
    print(
        json.dumps(
            {
                "bench": "inbox",
                "database": "postgresql",
                "cases": loaded["cases"],
                "user": args.user,
                "filter": query,
                "bare_view_1_client": bare,
                "results": results,
                "machine": machine(),
            },
            ensure_ascii=False,
        )
    )


if __name__ == "__main__":
    main()
