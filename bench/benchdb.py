"""The set-up every PostgreSQL benchmark shares: its own reusable database and var directory, Django configured
against them, keys and migrations in place. Scripts call `setup_django(default_url=..., var=...)`."""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def ensure_database(url: str) -> None:
    """Creates the benchmark's PostgreSQL database when it is missing (kept between runs)."""
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


def setup_django(*, default_url: str, var: Path) -> dict:
    """Points Django at the benchmark database (YIWANG_DATABASE_URL overrides), migrates it and returns the
    environment a `yiwang serve` subprocess needs."""
    var.mkdir(parents=True, exist_ok=True)
    env = {
        "YIWANG_DATABASE_URL": os.environ.get("YIWANG_DATABASE_URL", default_url),
        "YIWANG_VAR_DIR": str(var),
        "YIWANG_KEYSTORE": os.environ.get("YIWANG_KEYSTORE", str(var / "keystore.json")),
        "YIWANG_LOG_LEVEL": "WARNING",
    }
    os.environ.update(env)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "yiwang.settings")
    for path in (ROOT / "src", ROOT / "bench", ROOT):  # ROOT: some benches build data with tests.factories
        if str(path) not in sys.path:
            sys.path.insert(0, str(path))
    if env["YIWANG_DATABASE_URL"].startswith("postgres"):
        ensure_database(env["YIWANG_DATABASE_URL"])
    import django

    django.setup()
    from django.core.management import call_command

    call_command("keys", "init", verbosity=0)
    call_command("migrate", verbosity=0)
    return env
