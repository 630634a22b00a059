"""Benchmark: entries per second that `audit_verify()` re-walks over a chain of N entries (default 1,000,000).

Runs against PostgreSQL: postgres://postgres@127.0.0.1:5432/yiwang_bench_audit unless YIWANG_DATABASE_URL says
otherwise; the database is created if missing and migrated. The chain is computed here with the platform's own
`entry_digest` (SM3) and bulk-loaded with COPY, with a signed checkpoint every YIWANG_AUDIT_CHECKPOINT_EVERY
entries, as audit_record() would have made them; an existing chain of exactly N entries that verifies against
the keystore is reused. Without YIWANG_KEYSTORE the script uses (and creates) a keystore in the temp directory.

    .venv/bin/python bench/audit_verify.py [--entries N] [--batch B] [--repeat R] [--rebuild]

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


def synthetic_fields(seq: int, prev_hash: str, start: datetime) -> dict:
    """One plausible entry: a staff member reading a person, accepting a case, etc. (~300-400 bytes)."""
    kind = seq % len(ACTIONS)
    staff = seq % 997
    change = kind in (1, 2, 3, 4)
    return {
        "seq": seq,
        "prev_hash": prev_hash,
        "occurred_at": start + timedelta(microseconds=seq * 31_536_017),  # about one year over 1M entries
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


def existing_chain_usable(n: int) -> bool:
    from yiwang.core import audit
    from yiwang.core.keystore import keystore
    from yiwang.core.models import AuditCheckpoint, AuditHead

    head = AuditHead.objects.filter(pk=1).first()
    if head is None or head.last_seq != n:
        return False
    newest = AuditCheckpoint.objects.order_by("-seq").first()
    if newest is None:
        return True
    # The checkpoints must verify with this keystore (a lost temp keystore means rebuilding).
    return not audit._checkpoint_problem(newest, newest.entry_hash, audit._public_keys(keystore()))


def build_chain(n: int) -> float:
    from django.conf import settings
    from django.db import connection
    from django.utils import timezone

    from yiwang.core import audit
    from yiwang.core.keystore import keystore
    from yiwang.core.models import AuditCheckpoint, AuditEntry, AuditHead

    started = time.monotonic()
    tables = [m._meta.db_table for m in (AuditEntry, AuditCheckpoint, AuditHead)]
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {', '.join(tables)}")
    columns = ["seq", "entry_hash"] + [c for c in audit._SORTED_FIELDS if c != "seq"]
    copy_sql = f"COPY {AuditEntry._meta.db_table} ({', '.join(columns)}) FROM STDIN"
    store = keystore()
    every = settings.YIWANG_AUDIT_CHECKPOINT_EVERY or 1000
    checkpoints = []
    start = datetime(2025, 1, 1, tzinfo=UTC)
    prev = audit.GENESIS_HASH
    connection.ensure_connection()
    raw = connection.connection
    with raw.transaction(), raw.cursor() as cursor, cursor.copy(copy_sql) as copy:
        for seq in range(1, n + 1):
            fields = synthetic_fields(seq, prev, start)
            fields["before"], fields["after"] = (
                audit._json_safe(fields["before"]),
                audit._json_safe(fields["after"]),
            )
            entry_hash = audit.entry_digest(fields)
            row = [seq, entry_hash]
            for name in columns[2:]:
                value = fields[name]
                if name in ("before", "after") and value is not None:
                    value = json.dumps(value, ensure_ascii=False)  # COPY text: jsonb parses it
                row.append(value)
            copy.write_row(row)
            if seq % every == 0 or seq == n:
                signature = store.platform_sign(audit._checkpoint_payload(seq, entry_hash))
                checkpoints.append((seq, entry_hash, store.platform_key_id, signature.hex()))
            prev = entry_hash
            if seq % 100_000 == 0:
                say(f"  built {seq:,} entries ({time.monotonic() - started:.1f} s)")
    now = timezone.now()
    AuditCheckpoint.objects.bulk_create(
        [
            AuditCheckpoint(seq=s, entry_hash=h, key_id=k, signature=sig, created_at=now)
            for s, h, k, sig in checkpoints
        ],
        batch_size=5000,
    )
    AuditHead.objects.create(pk=1, last_seq=n, last_hash=prev)
    with connection.cursor() as cursor:
        cursor.execute(f"VACUUM ANALYZE {AuditEntry._meta.db_table}")
    return time.monotonic() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument(
        "--batch", type=int, default=None, help="rows per keyset query (default: audit_verify's)"
    )
    parser.add_argument("--repeat", type=int, default=1, help="timed verify runs; the best is reported")
    parser.add_argument(
        "--rebuild", action="store_true", help="rebuild the chain even if one of N entries exists"
    )
    args = parser.parse_args()

    setup_django()
    from django.core.management import call_command

    from yiwang.core.audit import audit_verify
    from yiwang.core.keystore import keystore_init

    call_command("migrate", verbosity=0)
    _, created = keystore_init()
    if created:
        say(f"created keystore {os.environ['YIWANG_KEYSTORE']}")
    say(f"database {os.environ['YIWANG_DATABASE_URL']}")

    if not args.rebuild and existing_chain_usable(args.entries):
        say(f"reusing the existing chain of {args.entries:,} entries")
    else:
        say(f"building a chain of {args.entries:,} entries (SM3 per entry, COPY, signed checkpoints)...")
        seconds = build_chain(args.entries)
        say(f"built in {seconds:.1f} s ({args.entries / seconds:,.0f} entries/s)")

    runs = []
    kwargs = {"batch": args.batch} if args.batch else {}
    for i in range(max(1, args.repeat)):
        started = time.perf_counter()
        result = audit_verify(**kwargs)
        elapsed = time.perf_counter() - started
        runs.append(elapsed)
        say(
            f"verify run {i + 1}: {result.message()} — {elapsed:.2f} s, {result.entries / elapsed:,.0f} entries/s"
        )
        if not result.ok or result.entries != args.entries:
            raise SystemExit(f"unexpected verify result: {result}")
    best = min(runs)
    print(
        json.dumps(
            {
                "bench": "audit_verify",
                "entries": result.entries,
                "checkpoints": result.checkpoints,
                "seconds": round(best, 3),
                "entries_per_s": round(result.entries / best),
                "runs_seconds": [round(r, 3) for r in runs],
                "database": "postgresql",
                "machine": machine(),
            },
            ensure_ascii=False,
        ),
        flush=True,
    )


if __name__ == "__main__":
    main()
