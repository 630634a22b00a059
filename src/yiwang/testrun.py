"""`make test`: the whole suite on SQLite, then on PostgreSQL when one is reachable.

PostgreSQL comes from YIWANG_TEST_POSTGRES (a database URL) or the local default
postgres://postgres@127.0.0.1:5432/yiwang; pytest-django creates and drops its own test_<name> database.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time

LOCAL_POSTGRES = "postgres://postgres@127.0.0.1:5432/yiwang"
CHROMIUM = "/usr/bin/chromium"


def postgres_url() -> str | None:
    url = os.environ.get("YIWANG_TEST_POSTGRES") or LOCAL_POSTGRES
    try:
        import psycopg
        from dj_database_url import parse

        db = parse(url)
        with psycopg.connect(
            host=db["HOST"] or "127.0.0.1",
            port=db["PORT"] or 5432,
            user=db["USER"] or "postgres",
            password=db["PASSWORD"] or None,
            dbname="postgres",
            connect_timeout=3,
        ):
            return url
    except Exception as exc:  # unreachable is a normal outcome here, reported below
        print(f"[make test] PostgreSQL not reachable at {url}: {exc}", flush=True)
        return None


def ensure_chromium() -> None:
    """Browser journeys need Debian's chromium; install it when we may (root), as CI does."""
    if os.path.exists(CHROMIUM) or shutil.which("chromium"):
        return
    if hasattr(os, "geteuid") and os.geteuid() == 0 and shutil.which("apt-get"):
        print("[make test] installing Debian chromium for the browser journeys", flush=True)
        subprocess.run(["apt-get", "update", "-qq"], check=False)
        subprocess.run(["apt-get", "install", "-y", "-qq", "chromium"], check=False)


def run_suite(label: str, env_extra: dict, args: list[str]) -> int:
    env = {**os.environ, **env_extra}
    started = time.monotonic()
    print(f"\n[make test] === suite on {label} ===", flush=True)
    code = subprocess.call([sys.executable, "-m", "pytest", *args], env=env)
    print(f"[make test] {label}: exit {code} in {time.monotonic() - started:.0f}s", flush=True)
    return code


def main() -> int:
    ensure_chromium()
    args = sys.argv[1:] or ["-q", "-n", os.environ.get("YIWANG_TEST_WORKERS", "2"), "--dist", "loadfile"]
    var = tempfile.mkdtemp(prefix="yiwang-test-var-")
    results = {
        "sqlite": run_suite(
            "SQLite", {"YIWANG_VAR_DIR": var, "YIWANG_DATABASE_URL": f"sqlite:///{var}/yiwang.sqlite3"}, args
        )
    }
    url = postgres_url()
    if url:
        results["postgresql"] = run_suite(
            "PostgreSQL", {"YIWANG_VAR_DIR": var, "YIWANG_DATABASE_URL": url}, args
        )
    elif os.environ.get("CI") or os.environ.get("YIWANG_TEST_POSTGRES"):
        print(
            "[make test] PostgreSQL is required here (CI or YIWANG_TEST_POSTGRES set) but is unreachable",
            flush=True,
        )
        results["postgresql"] = 1
    shutil.rmtree(var, ignore_errors=True)
    print(f"[make test] results: {results}", flush=True)
    return 0 if all(code == 0 for code in results.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
