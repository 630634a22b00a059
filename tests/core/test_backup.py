"""Backup → restore round trip: nothing lost, checksums enforced, audit chain still verifies."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from tests.factories import PersonFactory
from yiwang.core.audit import audit_record
from yiwang.core.backup import BackupError, backup_check, backup_create
from yiwang.core.evidence.sequencer import sequencer_run_once, tree_head_sign
from yiwang.core.models import AuditEntry, Person

pytestmark = pytest.mark.django_db(transaction=True)


def _cli(args: list[str], env_extra: dict) -> subprocess.CompletedProcess:
    env = {**os.environ, **env_extra}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    return subprocess.run(
        [sys.executable, "-m", "yiwang.cli", *args], env=env, capture_output=True, text=True, timeout=300
    )


def _seed(n: int = 5) -> list[str]:
    ids = []
    for i in range(n):
        person = PersonFactory()
        audit_record(
            actor=None,
            action="test.person_created",
            object_type="person",
            object_id=str(person.public_id),
            after={"i": i},
        )
        ids.append(person.id_number)
    return ids


@pytest.fixture
def restore_target(tmp_path):
    """An empty database of the same vendor as the one under test, and env pointing the CLI at it."""
    env = {
        "YIWANG_KEYSTORE": str(tmp_path / "restored-keys" / "keystore.json"),
        "YIWANG_VAR_DIR": str(tmp_path / "var"),
    }
    if connection.vendor == "sqlite":
        env["YIWANG_DATABASE_URL"] = f"sqlite:///{tmp_path / 'restored.sqlite3'}"
        yield env
        return
    import psycopg

    db = connection.settings_dict
    name = f"yiwang_restore_{uuid.uuid4().hex[:10]}"
    conninfo = f"host={db['HOST'] or '127.0.0.1'} port={db['PORT'] or 5432} user={db['USER'] or 'postgres'} dbname=postgres"
    with psycopg.connect(conninfo, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    env["YIWANG_DATABASE_URL"] = (
        f"postgres://{db['USER'] or 'postgres'}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{name}"
    )
    try:
        yield env
    finally:
        with psycopg.connect(conninfo, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_round_trip_loses_nothing_and_audit_verifies(tmp_path, restore_target):
    id_numbers = _seed()
    sequencer_run_once()
    head = tree_head_sign(force=True)
    entries = AuditEntry.objects.count()  # the head's own record is still pending: it is restored too
    backup = tmp_path / "snapshot"
    result = backup_create(target=backup)
    assert set(result.files) >= {"keystore.json"}
    assert oct((backup / "keystore.json").stat().st_mode & 0o777) == "0o600"
    manifest = backup_check(source=backup)
    assert manifest["evidence_head"]["tree_size"] == manifest["evidence_integrated"] == head.tree_size

    restored = _cli(["restore", str(backup)], restore_target)
    assert restored.returncode == 0, restored.stderr
    assert "存证日志完整" in restored.stdout

    verified = _cli(["audit", "verify"], restore_target)
    assert verified.returncode == 0, verified.stdout + verified.stderr

    # The restored rows decrypt with the restored keystore: nothing lost, nothing garbled.
    probe = (
        "from yiwang.core.models import Person, AuditEntry;"
        "print(AuditEntry.objects.count());"
        "print('\\n'.join(sorted(p.id_number for p in Person.objects.all())))"
    )
    shown = _cli(["shell", "--no-imports", "-c", probe], restore_target)
    assert shown.returncode == 0, shown.stderr
    lines = shown.stdout.split()
    assert int(lines[0]) == entries
    assert lines[1:] == sorted(id_numbers)
    assert Person.objects.count() == len(id_numbers)


def test_restore_refuses_a_tampered_snapshot(tmp_path):
    _seed(1)
    backup = tmp_path / "snapshot"
    result = backup_create(target=backup)
    db_file = next(name for name in result.files if name.startswith("database"))
    with (backup / db_file).open("r+b") as fh:
        fh.seek(-1, os.SEEK_END)
        last = fh.read(1)
        fh.seek(-1, os.SEEK_END)
        fh.write(bytes([last[0] ^ 0x01]))
    with pytest.raises(BackupError, match="SM3"):
        backup_check(source=backup)


def test_restore_refuses_an_altered_manifest(tmp_path):
    _seed(1)
    backup = tmp_path / "snapshot"
    backup_create(target=backup)
    manifest = (backup / "manifest.json").read_text().replace('"format": 1', '"format": 2')
    (backup / "manifest.json").write_text(manifest)
    with pytest.raises(BackupError, match="signature"):
        backup_check(source=backup)


def test_restore_refuses_a_database_that_is_not_empty(tmp_path):
    _seed(1)
    backup = tmp_path / "snapshot"
    backup_create(target=backup)
    from yiwang.core.backup import backup_restore

    with pytest.raises(BackupError, match="not empty"):
        backup_restore(source=backup, force_keystore=True)
    assert Path(settings.YIWANG_KEYSTORE).exists()


def test_backup_refuses_a_non_empty_target(tmp_path):
    (tmp_path / "occupied").mkdir()
    (tmp_path / "occupied" / "x").write_text("x")
    with pytest.raises(BackupError, match="not empty"):
        backup_create(target=tmp_path / "occupied")


def test_sqlite_snapshot_is_a_valid_database(tmp_path):
    if connection.vendor != "sqlite":
        pytest.skip("SQLite online-backup specific")
    _seed(2)
    backup_create(target=tmp_path / "s")
    conn = sqlite3.connect(tmp_path / "s" / "database.sqlite3")
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert conn.execute("SELECT COUNT(*) FROM core_person").fetchone()[0] == 2
