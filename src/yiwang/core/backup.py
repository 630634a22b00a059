"""Online backup and restore: a consistent database snapshot plus the keystore, with an SM3 manifest.

SQLite uses the online backup API (a consistent copy while the server writes); PostgreSQL uses pg_dump (one
snapshot transaction). The manifest lists each file's SM3 digest and is signed with the platform SM2 key, so a
restore refuses a snapshot that was altered. Restore only ever targets an empty database.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from django.conf import settings
from django.db import connection

from . import crypto
from .keystore import Keystore

MANIFEST = "manifest.json"
SIGNATURE = "manifest.sig"
SQLITE_FILE = "database.sqlite3"
PG_FILE = "database.pgdump"
KEYSTORE_FILE = "keystore.json"
CHUNK = 1 << 20


class BackupError(RuntimeError):
    pass


def _sm3_file(path: Path) -> str:
    from tongsuopy.crypto import hashes

    digest = hashes.Hash(hashes.SM3())
    with path.open("rb") as fh:
        while chunk := fh.read(CHUNK):
            digest.update(chunk)
    return digest.finalize().hex()


def _pg_conninfo(db: dict) -> tuple[list[str], dict]:
    args = [
        "-h",
        db.get("HOST") or "127.0.0.1",
        "-p",
        str(db.get("PORT") or 5432),
        "-U",
        db.get("USER") or "postgres",
    ]
    env = {}
    if db.get("PASSWORD"):
        env["PGPASSWORD"] = db["PASSWORD"]
    return args, env


def _run(cmd: list[str], env_extra: dict) -> None:
    import os

    result = subprocess.run(
        cmd, env={**os.environ, **env_extra}, capture_output=True, text=True, timeout=3600
    )
    if result.returncode != 0:
        raise BackupError(f"{cmd[0]} failed: {result.stderr.strip()[:500]}")


@dataclass
class BackupResult:
    path: Path
    vendor: str
    files: dict


def backup_create(*, target: Path) -> BackupResult:
    """Writes the snapshot into `target` (a new or empty directory)."""
    target = Path(target)
    if target.exists() and any(target.iterdir()):
        raise BackupError(f"{target} is not empty")
    target.mkdir(parents=True, exist_ok=True)
    db = connection.settings_dict
    vendor = connection.vendor
    if vendor == "sqlite":
        source = sqlite3.connect(db["NAME"])
        dest = sqlite3.connect(target / SQLITE_FILE)
        try:
            with dest:
                source.backup(dest)
        finally:
            dest.close()
            source.close()
        db_file = SQLITE_FILE
    elif vendor == "postgresql":
        args, env = _pg_conninfo(db)
        _run(
            [
                "pg_dump",
                *args,
                "--format=custom",
                "--no-owner",
                "--no-privileges",
                "-f",
                str(target / PG_FILE),
                db["NAME"],
            ],
            env,
        )
        db_file = PG_FILE
    else:
        raise BackupError(f"unsupported database {vendor}")
    shutil.copy2(settings.YIWANG_KEYSTORE, target / KEYSTORE_FILE)
    (target / KEYSTORE_FILE).chmod(0o600)
    files = {
        name: {"sm3": _sm3_file(target / name), "bytes": (target / name).stat().st_size}
        for name in (db_file, KEYSTORE_FILE)
    }
    from .evidence.sequencer import tree_head_latest
    from .evidence.store import integrated_size

    head = tree_head_latest()
    manifest = {
        "format": 1,
        "created_at": datetime.now(UTC).isoformat(),
        "vendor": vendor,
        "database_file": db_file,
        "files": files,
        # The newest signed tree head at backup time: after a restore the log must verify and extend it.
        "evidence_head": {"tree_size": head.tree_size, "root_hash": head.root_hash} if head else None,
        "evidence_integrated": integrated_size(),
    }
    body = json.dumps(manifest, indent=1, sort_keys=True).encode()
    (target / MANIFEST).write_bytes(body)
    store = Keystore.load(target / KEYSTORE_FILE)
    (target / SIGNATURE).write_text(
        json.dumps({"key_id": store.platform_key_id, "sm2": store.platform_sign(body).hex()})
    )
    return BackupResult(path=target, vendor=vendor, files=files)


def backup_check(*, source: Path) -> dict:
    """Checks the manifest signature and every file's SM3 digest; returns the manifest."""
    source = Path(source)
    body = (source / MANIFEST).read_bytes()
    manifest = json.loads(body)
    signature = json.loads((source / SIGNATURE).read_text())
    store = Keystore.load(source / KEYSTORE_FILE)
    public = store.platform_public_keys().get(signature["key_id"])
    if public is None or not crypto.sm2_verify(
        crypto.sm2_load_public(public), bytes.fromhex(signature["sm2"]), body
    ):
        raise BackupError("manifest signature does not verify: the backup was altered")
    for name, meta in manifest["files"].items():
        path = source / name
        if not path.exists():
            raise BackupError(f"{name} is missing from the backup")
        if _sm3_file(path) != meta["sm3"]:
            raise BackupError(f"{name} does not match its SM3 checksum")
    return manifest


def _database_is_empty() -> bool:
    with connection.cursor() as cursor:
        tables = connection.introspection.table_names(cursor)
    if "core_auditentry" not in tables:
        return True
    from .models import Account, AuditEntry

    return not AuditEntry.objects.exists() and not Account.objects.exists()


def backup_restore(*, source: Path, force_keystore: bool = False) -> dict:
    """Restores into the configured database, which must be empty; installs the backup's keystore."""
    manifest = backup_check(source=source)
    if manifest["vendor"] != connection.vendor:
        raise BackupError(f"backup is {manifest['vendor']}, the configured database is {connection.vendor}")
    if not _database_is_empty():
        raise BackupError("the target database is not empty; restore only into an empty database")
    keystore_path = Path(settings.YIWANG_KEYSTORE)
    backup_keys = (Path(source) / KEYSTORE_FILE).read_bytes()
    if keystore_path.exists() and keystore_path.read_bytes() != backup_keys and not force_keystore:
        raise BackupError(
            f"a different keystore exists at {keystore_path}; move it away or pass --force-keystore"
        )
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        connection.close()
        target = Path(db["NAME"])
        for suffix in ("-wal", "-shm"):
            Path(f"{target}{suffix}").unlink(missing_ok=True)
        src = sqlite3.connect(Path(source) / SQLITE_FILE)
        dest = sqlite3.connect(target)
        try:
            with dest:
                src.backup(dest)
        finally:
            dest.close()
            src.close()
    else:
        connection.close()
        args, env = _pg_conninfo(db)
        _run(
            [
                "pg_restore",
                *args,
                "--no-owner",
                "--no-privileges",
                "--clean",
                "--if-exists",
                "-d",
                db["NAME"],
                str(Path(source) / PG_FILE),
            ],
            env,
        )
    keystore_path.parent.mkdir(parents=True, exist_ok=True)
    keystore_path.write_bytes(backup_keys)
    keystore_path.chmod(0o600)
    return manifest
