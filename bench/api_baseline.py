"""API baseline: an authenticated no-op API call (GET /api/ping, Bearer token) against a bare Django view
(GET /healthz) on the same production server, so later figures can be stated as a ratio to the stack's own limit.

Runs on PostgreSQL (default postgres://postgres@127.0.0.1:5432/yiwang_bench_api; override YIWANG_DATABASE_URL),
starts `yiwang serve` on 127.0.0.1:<port>, loads it with wrk (Debian package `wrk`) over loopback for a bounded
duration, stops the server. Last stdout line: one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/yiwang_bench_api"


def machine() -> dict:
    model = ""
    try:
        model = next(
            line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")
        )
    except (OSError, StopIteration):
        pass
    return {"cpu": model, "cores": os.cpu_count(), "python": platform.python_version()}


def ensure_database(url: str) -> None:
    import psycopg
    from dj_database_url import parse

    db = parse(url)
    with psycopg.connect(
        host=db["HOST"] or "127.0.0.1",
        port=db["PORT"] or 5432,
        user=db["USER"] or "postgres",
        dbname="postgres",
        autocommit=True,
    ) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [db["NAME"]]).fetchone():
            conn.execute(f'CREATE DATABASE "{db["NAME"]}"')


def yiwang(args: list[str], env: dict, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "yiwang.cli", *args],
        env=env,
        check=True,
        capture_output=True,
        text=True,
        **kwargs,
    )


def issue_token(env: dict) -> str:
    script = (
        "from yiwang.core.models import Account;"
        "from yiwang.core.services.identity import api_token_issue_for_account;"
        "a, _ = Account.objects.get_or_create(username='bench-api', defaults={'kind': 'citizen'});"
        "print(api_token_issue_for_account(account=a).token)"
    )
    return yiwang(["shell", "--no-imports", "-c", script], env).stdout.strip().splitlines()[-1]


def wait_ready(url: str, timeout: float = 90) -> None:  # a loaded machine takes a while to start granian
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=1) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise SystemExit(f"server did not come up at {url}")


_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1000.0}


def _ms(text: str) -> float:
    value, unit = re.match(r"([\d.]+)(us|ms|s)", text).groups()
    return round(float(value) * _UNITS[unit], 3)


def run_wrk(url: str, seconds: int, connections: int, threads: int, headers: dict) -> dict:
    cmd = ["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{seconds}s", "--latency", url]
    for key, value in headers.items():
        cmd[1:1] = ["-H", f"{key}: {value}"]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 30).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p50 = _ms(re.search(r"\s50%\s+(\S+)", out).group(1))
    p99 = _ms(re.search(r"\s99%\s+(\S+)", out).group(1))
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    return {
        "requests_per_s": rps,
        "p50_ms": p50,
        "p99_ms": p99,
        "errors": int(non2xx.group(1)) if non2xx else 0,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--port", type=int, default=8799)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk is required: apt-get install -y wrk")

    url = os.environ.get("YIWANG_DATABASE_URL", DEFAULT_DB)
    var = tempfile.mkdtemp(prefix="yiwang-bench-api-")
    env = {
        **os.environ,
        "YIWANG_DATABASE_URL": url,
        "YIWANG_VAR_DIR": var,
        "YIWANG_KEYSTORE": f"{var}/keystore.json",
        "YIWANG_LOG_LEVEL": "WARNING",
    }
    env.pop("DJANGO_SETTINGS_MODULE", None)
    if url.startswith("postgres"):
        ensure_database(url)
    yiwang(["keys", "init"], env)
    yiwang(["migrate", "-v0"], env)
    token = issue_token(env)

    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "yiwang.cli",
            "serve",
            "--port",
            str(args.port),
            "--workers",
            str(args.workers),
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{args.port}"
    try:
        wait_ready(f"{base}/healthz")
        # warm up both paths, then measure each for the same bounded duration
        run_wrk(f"{base}/healthz", 2, args.connections, 2, {})
        run_wrk(f"{base}/api/ping", 2, args.connections, 2, {"Authorization": f"Bearer {token}"})
        bare = run_wrk(f"{base}/healthz", args.seconds, args.connections, 2, {})
        api = run_wrk(
            f"{base}/api/ping", args.seconds, args.connections, 2, {"Authorization": f"Bearer {token}"}
        )
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=20)
        shutil.rmtree(var, ignore_errors=True)

    print(
        f"bare Django view   : {bare['requests_per_s']:.0f} req/s  p50 {bare['p50_ms']} ms  p99 {bare['p99_ms']} ms"
    )
    print(
        f"authenticated API  : {api['requests_per_s']:.0f} req/s  p50 {api['p50_ms']} ms  p99 {api['p99_ms']} ms"
    )
    result = {
        "bench": "api_baseline",
        "database": "postgresql" if url.startswith("postgres") else "sqlite",
        "server": f"granian wsgi, {args.workers} workers",
        "load": {"tool": "wrk", "connections": args.connections, "seconds": args.seconds},
        "bare_view": bare,
        "api_noop": api,
        "api_to_bare_ratio": round(api["requests_per_s"] / bare["requests_per_s"], 3),
        "machine": machine(),
    }
    print(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    main()
