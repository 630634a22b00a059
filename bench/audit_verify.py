"""Benchmark: the evidence log — build, sequencer integration and `log_verify()` rates (entries/s) over N entries.

Runs against PostgreSQL: postgres://postgres@127.0.0.1:5432/yiwang_bench_audit unless YIWANG_DATABASE_URL says
otherwise; the database is created if missing and migrated. N entries are built as audit_record() makes them
(format 2, canonical bytes stored, SM3 leaf hash computed here) and bulk-loaded with COPY as pending entries (the
queue trigger queues them); the sequencer then integrates them (timed: entries/s, inserting EvidenceLeaf rows) and a tree head is signed every YIWANG_EVIDENCE_SIGN_EVERY
entries; finally log_verify(workers=W) recomputes everything (timed). An existing integrated log of exactly N
entries under a head that verifies with the keystore is reused. Without YIWANG_KEYSTORE the script uses (and
creates) a keystore in the temp directory.

    .venv/bin/python bench/audit_verify.py [--entries N] [--workers W] [--repeat R] [--rebuild]

Human-readable lines first; the last stdout line is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/yiwang_bench_audit"
ACTIONS = (
    "person.lookup",
    "case.accept",
    "case.approve",
    "incident.dispatch",
    "licence.issue",
    "account.login",
)
OBJECT_TYPES = ("person", "case", "case", "incident", "licence", "account")


def say(text: str) -> None:
    print(text, flush=True)


def setup_django() -> None:
    os.environ.setdefault("YIWANG_DATABASE_URL", DEFAULT_URL)
    if not os.environ.get("YIWANG_KEYSTORE"):
        os.environ["YIWANG_KEYSTORE"] = str(
            Path(tempfile.gettempdir()) / "yiwang-bench-audit" / "keystore.json"
        )
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "yiwang.settings")
    sys.path.insert(0, str(ROOT / "src"))
    ensure_database(os.environ["YIWANG_DATABASE_URL"])
    import django

    django.setup()


def ensure_database(url: str) -> None:
    import psycopg
    from dj_database_url import parse
    from psycopg import sql

    db = parse(url)
    if not db["ENGINE"].endswith("postgresql"):
        raise SystemExit(f"this benchmark runs on PostgreSQL; YIWANG_DATABASE_URL is {url}")
    params = {
        "host": db["HOST"] or "127.0.0.1",
        "port": db["PORT"] or 5432,
        "user": db["USER"] or "postgres",
        "password": db["PASSWORD"] or None,
    }
    with psycopg.connect(**params, dbname="postgres", autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [db["NAME"]]).fetchone():
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(db["NAME"])))
            say(f"created database {db['NAME']}")


def machine() -> dict:
    from django.db import connection

    cpu = platform.processor()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        server = cursor.fetchone()[0]
    import tongsuopy

    return {
        "cpu": cpu,
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "os": f"{platform.system()} {platform.release()}",
        "postgresql": server,
        "tongsuopy": getattr(tongsuopy, "__version__", "?"),
        "loadavg_1m": round(os.getloadavg()[0], 2),  # other work on the machine skews the figure
    }


def synthetic_entry(seq: int, start: datetime) -> dict:
    """One plausible entry: a staff member reading a person, accepting a case, etc. (~300-400 bytes)."""
    kind = seq % len(ACTIONS)
    staff = seq % 997
    change = kind in (1, 2, 3, 4)
    return {
        "uuid": uuid.UUID(int=(seq * 0x9E3779B97F4A7C15) % (1 << 128)),
        "occurred_at": start + timedelta(microseconds=seq * 3_153_601),  # about one year over 10M entries
        "actor_account": f"staff{staff:04d}",
        "actor_department": f"D{staff % 31:04d}",
        "actor_ip": f"10.{seq % 7}.{staff % 256}.{seq % 251}",
        "action": ACTIONS[kind],
        "object_type": OBJECT_TYPES[kind],
        "object_id": f"{seq * 7919 % 10_000_000:08d}",
        "before": {"status": "submitted", "handler": f"staff{(staff + 1) % 997:04d}"} if change else None,
        "after": {"status": "accepted", "handler": f"staff{staff:04d}", "note": "材料齐全，予以受理"}
        if change
        else None,
        "purpose": "窗口受理核验申请人身份" if kind == 0 else "",
        "request_id": f"{seq:032x}",
    }


def existing_log_usable(n: int) -> bool:
    from yiwang.core import crypto
    from yiwang.core.evidence import merkle
    from yiwang.core.evidence.sequencer import tree_head_latest
    from yiwang.core.evidence.store import integrated_size
    from yiwang.core.evidence.verify import _public_keys
    from yiwang.core.models import AuditEntry

    head = tree_head_latest()
    if head is None or integrated_size() < n or AuditEntry.objects.filter(leaf__isnull=True).count() > 10:
        return False
    key = _public_keys().get(head.key_id)
    payload = merkle.tree_head_payload(head.tree_size, bytes.fromhex(head.root_hash), head.timestamp_ms)
    return key is not None and crypto.sm2_verify(key, bytes.fromhex(head.signature), payload)


def build_entries(n: int) -> float:
    """COPY n pending format-2 entries (as audit_record would insert them); returns the seconds taken."""
    from django.db import connection

    from yiwang.core.audit import ENTRY_COLUMNS
    from yiwang.core.evidence.canonical import canonical_log
    from yiwang.core.evidence.fasthash import leaf_hash
    from yiwang.core.models import AuditEntry, EvidenceLeaf, EvidenceNode, EvidencePending, TreeHead

    started = time.monotonic()
    tables = [m._meta.db_table for m in (EvidenceLeaf, EvidencePending, AuditEntry, EvidenceNode, TreeHead)]
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY")
    columns = ENTRY_COLUMNS
    copy_sql = f"COPY {AuditEntry._meta.db_table} ({', '.join(columns)}) FROM STDIN"
    start = datetime(2025, 1, 1, tzinfo=UTC)
    raw = connection.connection
    with raw.cursor() as cursor, cursor.copy(copy_sql) as copy:
        for seq in range(1, n + 1):
            e = synthetic_entry(seq, start)
            canonical = canonical_log(
                e["action"],
                e["actor_account"],
                e["actor_department"],
                e["actor_ip"],
                e["after"],
                e["before"],
                e["object_id"],
                e["object_type"],
                e["occurred_at"],
                e["purpose"],
                e["request_id"],
                str(e["uuid"]),
            )
            copy.write_row([leaf_hash(canonical).hex(), canonical.decode()])  # the rest is generated
            if seq % 1_000_000 == 0:
                say(f"  {seq:,} entries copied")
    raw.commit()
    with connection.cursor() as cursor:
        for table in (AuditEntry._meta.db_table, EvidencePending._meta.db_table):
            cursor.execute(f"VACUUM ANALYZE {table}")
    return time.monotonic() - started


def integrate(n: int) -> tuple[float, float]:
    """The sequencer integrates every pending entry (timed), then signs one tree head (timed separately: it
    re-hashes the entries the head adds before signing). Returns (integration seconds, signing seconds)."""
    from django.db import connection

    from yiwang.core.evidence.sequencer import integrate_pending, tree_head_sign
    from yiwang.core.models import EvidenceLeaf

    started = time.monotonic()
    count = integrate_pending(batch=10_000)
    integrated = time.monotonic() - started
    with connection.cursor() as cursor:
        cursor.execute(f"VACUUM ANALYZE {EvidenceLeaf._meta.db_table}")
    if count < n:
        raise SystemExit(f"integrated only {count} of {n}")
    started = time.monotonic()
    if tree_head_sign(force=True) is None:
        raise SystemExit("no tree head signed")
    return integrated, time.monotonic() - started


class CpuMeter:
    """CPU seconds used during a run by this process, its children (the verify workers) and the PostgreSQL
    backends serving this database (sampled from /proc every 50 ms; a backend's last sample counts). With the
    machine shared, entries / (CPU seconds / cores) estimates the rate on otherwise idle cores."""

    def __init__(self, dbname: str):
        import threading

        self.dbname = dbname.encode()
        self.tick = os.sysconf("SC_CLK_TCK")
        self.seen: dict[int, float] = {}
        self.base = self._backends()
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._poll, daemon=True)

    def _backends(self) -> dict[int, float]:
        out = {}
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                cmd = Path(f"/proc/{entry}/cmdline").read_bytes()
                if not cmd.startswith(b"postgres: ") or self.dbname not in cmd:
                    continue
                fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
                out[int(entry)] = (int(fields[11]) + int(fields[12])) / self.tick
            except OSError:
                continue
        return out

    def _poll(self) -> None:
        while not self.stop.wait(0.05):
            self.seen.update(self._backends())

    def __enter__(self):
        import resource

        self.own = resource.getrusage(resource.RUSAGE_SELF)
        self.children = resource.getrusage(resource.RUSAGE_CHILDREN)
        self.thread.start()
        return self

    def __exit__(self, *exc):
        import resource

        self.stop.set()
        self.thread.join()
        self.seen.update(self._backends())
        own = resource.getrusage(resource.RUSAGE_SELF)
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        self.python = (
            own.ru_utime
            + own.ru_stime
            - self.own.ru_utime
            - self.own.ru_stime
            + children.ru_utime
            + children.ru_stime
            - self.children.ru_utime
            - self.children.ru_stime
        )
        self.server = sum(cpu - self.base.get(pid, 0.0) for pid, cpu in self.seen.items())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--workers", type=int, default=None, help="verify processes (default: CPU count)")
    parser.add_argument("--repeat", type=int, default=1, help="timed verify runs; the best is reported")
    parser.add_argument(
        "--rebuild", action="store_true", help="rebuild the log even if one of N entries exists"
    )
    args = parser.parse_args()

    setup_django()
    from django.core.management import call_command

    from yiwang.core.evidence import fasthash
    from yiwang.core.evidence.verify import log_verify
    from yiwang.core.keystore import keystore_init

    call_command("migrate", verbosity=0)
    _, created = keystore_init()
    if created:
        say(f"created keystore {os.environ['YIWANG_KEYSTORE']}")
    say(f"database {os.environ['YIWANG_DATABASE_URL']}; SM3 via {fasthash.BACKEND}")

    integration = build = None
    if not args.rebuild and existing_log_usable(args.entries):
        say(f"reusing the existing log of {args.entries:,} entries")
    else:
        say(f"building {args.entries:,} pending entries (canonical form + SM3 leaf hash, COPY)...")
        seconds = build_entries(args.entries)
        say(f"built in {seconds:.1f} s ({args.entries / seconds:,.0f} entries/s)")
        build = {"seconds": round(seconds, 2), "entries_per_s": round(args.entries / seconds)}
        say("integrating (sequencer), then signing the first head...")
        seconds, signing = integrate(args.entries)
        integration = {
            "seconds": round(seconds, 2),
            "entries_per_s": round(args.entries / seconds),
            "batch": 10_000,
            "first_head_sign_seconds": round(signing, 2),  # re-checks every entry the head adds, one process
        }
        say(
            f"integrated in {seconds:.1f} s ({args.entries / seconds:,.0f} entries/s); head signed in {signing:.1f} s"
        )

    from dj_database_url import parse

    runs = []
    cpu = None
    for i in range(max(1, args.repeat)):
        started = time.perf_counter()
        with CpuMeter(parse(os.environ["YIWANG_DATABASE_URL"])["NAME"]) as meter:
            result = log_verify(workers=args.workers)
        elapsed = time.perf_counter() - started
        if cpu is None or meter.python + meter.server < cpu["python_s"] + cpu["postgresql_s"]:
            total = meter.python + meter.server
            cpu = {
                "python_s": round(meter.python, 2),
                "postgresql_s": round(meter.server, 2),
                "us_per_entry": round(total / result.entries * 1e6, 2),
                "entries_per_s_on_idle_cores": round(result.entries / (total / (os.cpu_count() or 1))),
            }
        runs.append(elapsed)
        say(
            f"verify run {i + 1}: {result.message()} — {elapsed:.2f} s, {result.entries / elapsed:,.0f} entries/s"
        )
        if not result.ok or result.entries < args.entries:
            raise SystemExit(f"unexpected verify result: {result}")
    best = min(runs)
    print(
        json.dumps(
            {
                "bench": "audit_verify",
                "entries": result.entries,
                "heads": result.heads,
                "workers": result.workers,
                "sm3": fasthash.BACKEND,
                "seconds": round(best, 3),
                "entries_per_s": round(result.entries / best),
                "runs_seconds": [round(r, 3) for r in runs],
                "extrapolated_10m_seconds": round(best * 10_000_000 / result.entries, 1),
                "verify_cpu": cpu,
                "build": build,
                "integration": integration,
                "database": "postgresql",
                "machine": machine(),
            },
            ensure_ascii=False,
        ),
        flush=True,
    )


if __name__ == "__main__":
    main()
