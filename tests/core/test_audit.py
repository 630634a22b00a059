"""The evidence log's append side: one lock-free INSERT in the caller's transaction, the canonical form and its
leaf hash, transaction semantics, the `audit` command, the Huey tasks, and appends that never wait on each
other (PostgreSQL, two connections). Tampering, the tree and proofs: tests/core/test_evidence_*.py."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
import uuid
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, connections, transaction
from django.db.transaction import TransactionManagementError
from django.test.utils import CaptureQueriesContext
from gmssl import sm3 as gm_sm3
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from yiwang.core import audit as audit_mod
from yiwang.core.audit import audit_record, audit_verify
from yiwang.core.evidence import merkle
from yiwang.core.evidence.canonical import canonical_log
from yiwang.core.evidence.sequencer import sequencer_run_once, tree_head_sign
from yiwang.core.evidence.store import entry_canonical
from yiwang.core.evidence.verify import log_verify
from yiwang.core.models import AuditEntry, CalendarDay, EvidenceLeaf, TreeHead
from yiwang.core.tasks import audit_verify_daily, evidence_tree_head_sign

from .tamper import forge_column

pytestmark = pytest.mark.django_db

ENTRY = AuditEntry._meta.db_table
MANAGE_PY = Path(__file__).resolve().parents[2] / "manage.py"


def append(n: int, **extra) -> list[AuditEntry]:
    entries = []
    for i in range(n):
        with transaction.atomic():
            entries.append(
                audit_record(
                    actor=None,
                    action=f"test.action{i % 3}",
                    object_type="thing",
                    object_id=str(1000 + i),
                    before={"状态": "旧", "v": i},
                    after={"状态": "新", "v": i + 1, "nested": {"b": [1, 2.5, None], "a": True}},
                    purpose="测试用途",
                    **extra,
                )
            )
    return entries


def sql(statement: str, params: list | tuple = ()) -> None:
    with connection.cursor() as cursor:
        cursor.execute(statement, params)


# --- the append --------------------------------------------------------------------------------------------
def test_an_append_is_one_insert_that_reads_and_locks_nothing():
    append(2)
    sequencer_run_once()
    with CaptureQueriesContext(connection) as queries, transaction.atomic():
        audit_record(actor=None, action="test.one")
    statements = [q["sql"].lstrip().upper() for q in queries.captured_queries]
    statements = [s for s in statements if not s.startswith(("SAVEPOINT", "RELEASE", "BEGIN", "COMMIT"))]
    assert len(statements) == 1 and statements[0].startswith("INSERT"), statements
    assert "FOR UPDATE" not in " ".join(statements)


@pytest.mark.django_db(transaction=True)
def test_an_append_outside_a_transaction_is_its_own_statement_and_reads_back_as_written():
    with CaptureQueriesContext(connection) as queries:
        entry = audit_record(
            actor=None, action="test.alone", object_id="7", after={"键": [1, None]}, purpose="用途"
        )
    statements = [q["sql"].lstrip().upper() for q in queries.captured_queries]
    assert len(statements) == 1 and statements[0].startswith("INSERT"), statements
    stored = AuditEntry.objects.get(uuid=entry.uuid)
    assert stored.seq == entry.seq and not entry._state.adding
    assert (stored.after, stored.before, stored.object_id, stored.purpose) == (
        {"键": [1, None]},
        None,
        "7",
        "用途",
    )
    assert stored.occurred_at == entry.occurred_at and stored.leaf_hash == entry.leaf_hash
    assert entry_canonical(stored).decode() == entry.canonical


def test_an_entry_is_pending_with_the_leaf_hash_of_its_canonical_bytes():
    (entry,) = append(1)
    entry.refresh_from_db()
    assert entry.leaf_index is None and entry.format == 2
    assert entry.leaf_hash == merkle.leaf_hash(entry_canonical(entry)).hex()
    # an auditor recomputes it with another SM3 implementation, from the documented JSON form
    documented = {
        "action": entry.action,
        "actor_account": entry.actor_account,
        "actor_department": entry.actor_department,
        "actor_ip": entry.actor_ip,
        "after": entry.after,
        "before": entry.before,
        "format": 2,
        "object_id": entry.object_id,
        "object_type": entry.object_type,
        "occurred_at": entry.occurred_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "purpose": entry.purpose,
        "request_id": entry.request_id,
        "uuid": str(entry.uuid),
    }
    payload = json.dumps(documented, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()
    assert entry_canonical(entry) == payload
    assert gm_sm3.sm3_hash(list(b"\x00" + payload)) == entry.leaf_hash


def test_identical_events_get_different_leaves():
    a, b = (audit_record(actor=None, action="test.same") for _ in range(2))
    assert a.uuid != b.uuid and a.leaf_hash != b.leaf_hash


def test_entries_still_appear_at_once_in_seq_order():
    entries = append(3)
    assert list(AuditEntry.objects.values_list("seq", flat=True)) == [e.seq for e in entries]
    assert entries[0].seq < entries[1].seq < entries[2].seq


_json_scalars = st.none() | st.booleans() | st.integers(-(2**53), 2**53) | st.text()
_json_values = st.recursive(
    _json_scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
    max_leaves=8,
)


@hypothesis_settings(max_examples=200, deadline=None)
@given(
    text=st.text(),
    before=st.none() | st.dictionaries(st.text(), _json_values),
    after=st.none() | st.dictionaries(st.text(), _json_values),
    moment=st.datetimes(
        min_value=datetime(2000, 1, 1), max_value=datetime(2200, 1, 1), timezones=st.just(UTC)
    ),
    uid=st.uuids(),
)
def test_canonical_form_is_the_documented_json(text, before, after, moment, uid):
    """canonical_log builds the JSON field by field for speed; it must equal the documented json.dumps form."""
    names = ("action", "actor_account", "actor_department", "actor_ip", "object_id", "object_type")
    documented = {name: text for name in (*names, "purpose", "request_id")}
    documented.update(
        before=before,
        after=after,
        format=2,
        uuid=str(uid),
        occurred_at=moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
    )
    payload = json.dumps(documented, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()
    built = canonical_log(text, text, text, text, after, before, text, text, moment, text, text, str(uid))
    assert built == payload


def test_actor_fields_are_recorded():
    from tests.factories import staff_with_roles
    from yiwang.core.principal import Principal

    staff = staff_with_roles("district_admin")
    with transaction.atomic():
        by_account = audit_record(actor=staff.account, action="test.account")
        by_principal = audit_record(actor=Principal.for_account(staff.account), action="test.principal")
        by_system = audit_record(actor=None, action="test.system")
    for entry in (by_account, by_principal):
        assert entry.actor_account == staff.account.username
        assert entry.actor_department == staff.department.code
    assert by_system.actor_account == "system"
    assert log_verify().ok


def test_values_that_jsonb_would_rewrite_still_verify():
    """PostgreSQL jsonb stores exact decimals (1e16 comes back as an integer, -0.0 as 0.0): the entry is
    hashed as the column gives it back, so a round trip never looks like tampering."""
    with transaction.atomic():
        entry = audit_record(
            actor=None,
            action="test.values",
            before={"big": 1e16, "huge": 1.5e300, "neg0": -0.0, "tiny": 1e-7, "nan": float("nan")},
            after={"dec": Decimal("1.10"), "when": datetime(2026, 1, 2, 3, 4, 5), "day": date(2026, 1, 2)},
            object_id=uuid.UUID(int=7),
        )
    entry.refresh_from_db()
    assert entry.before["big"] == 10**16 and entry.before["nan"] == "nan"
    assert entry.leaf_hash == merkle.leaf_hash(entry_canonical(entry)).hex()
    assert log_verify().ok
    sequencer_run_once()
    assert log_verify().ok


def test_the_former_audit_verify_name_still_answers():
    append(2)
    result = audit_verify(batch=10)
    assert result.ok and result.pending == 2


# --- transaction semantics ----------------------------------------------------------------------------
def _holiday(day: int = 1) -> CalendarDay:
    return CalendarDay.objects.create(date=date(2031, 10, day), kind=CalendarDay.Kind.HOLIDAY, name="国庆节")


def test_a_failed_change_leaves_no_audit_entry():
    append(2)
    with pytest.raises(RuntimeError):
        with transaction.atomic():
            day = _holiday()
            audit_record(actor=None, action="calendar.set", object_type="calendar_day", object_id=day.pk)
            raise RuntimeError("the change fails after it was recorded")
    assert not CalendarDay.objects.exists()
    assert AuditEntry.objects.count() == 2
    assert sequencer_run_once() == 2
    assert log_verify().ok


def _broken_hash(entry):
    raise RuntimeError("SM3 unavailable")


def test_an_audit_failure_aborts_the_change(monkeypatch):
    append(1)
    monkeypatch.setattr(audit_mod, "leaf_hash", _broken_hash)
    with pytest.raises(RuntimeError, match="SM3"):
        with transaction.atomic():
            _holiday()
            audit_record(actor=None, action="calendar.set", object_type="calendar_day")
    assert not CalendarDay.objects.exists()
    assert AuditEntry.objects.count() == 1


def test_a_caller_cannot_swallow_an_insert_failure_and_keep_its_change(monkeypatch):
    # the entry's INSERT fails in the database (here: its table is missing)
    monkeypatch.setattr(
        audit_mod, "insert_sql", lambda *a, **k: "INSERT INTO no_such_table_for_the_audit_test VALUES (%s)"
    )
    with transaction.atomic():
        _holiday()
        try:
            audit_record(actor=None, action="calendar.set", object_type="calendar_day")
        except Exception:  # noqa: BLE001 - a careless caller carries on...
            pass
        with pytest.raises(TransactionManagementError):
            _holiday(2)  # ...but the transaction is already doomed
    assert not CalendarDay.objects.exists()
    assert not AuditEntry.objects.exists()


# --- the `audit` command ------------------------------------------------------------------------------
def test_command_verify_intact(capsys):
    append(3)
    call_command("audit", "sequence")
    call_command("audit", "verify", "--workers", "1")
    assert "存证日志完整" in capsys.readouterr().out


def test_command_verify_broken_exits_1_naming_the_entry():
    entries = append(4)
    sequencer_run_once()
    forge_column(entries[1].seq, "action", "'x'")
    with pytest.raises(CommandError) as exc:
        call_command("audit", "verify")
    assert exc.value.returncode == 1
    assert f"第 {entries[1].seq} 条记录（叶子序号 1）" in str(exc.value)


def test_command_sequence_integrates_and_signs(capsys):
    append(2)
    call_command("audit", "sequence")
    out = capsys.readouterr().out
    assert "已上链 2 条记录" in out and "树大小 2" in out
    assert TreeHead.objects.get().tree_size == 2


def _manage(*args: str, timeout: float = 120, **popen) -> subprocess.CompletedProcess | subprocess.Popen:
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        url = f"sqlite:///{db['NAME']}"
    else:
        url = f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    env = {**os.environ, "YIWANG_DATABASE_URL": url, "YIWANG_KEYSTORE": str(django_settings.YIWANG_KEYSTORE)}
    env["YIWANG_VAR_DIR"] = str(django_settings.VAR_DIR)
    command = [sys.executable, str(MANAGE_PY), *args]
    if popen:
        return subprocess.Popen(command, env=env, **popen)
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=timeout)


@pytest.mark.django_db(transaction=True)
def test_manage_py_audit_verify_exit_codes():
    entries = append(3)
    sequencer_run_once()
    intact = _manage("audit", "verify", "--workers", "2")
    assert intact.returncode == 0, intact.stderr
    assert "存证日志完整" in intact.stdout
    sql(f"DELETE FROM {EvidenceLeaf._meta.db_table} WHERE seq = %s", [entries[1].seq])
    sql(f"DELETE FROM {ENTRY} WHERE seq = %s", [entries[1].seq])
    tampered = _manage("audit", "verify")
    assert tampered.returncode == 1
    assert "叶子 1 缺失" in tampered.stderr


@pytest.mark.django_db(transaction=True)
def test_the_sequencer_command_integrates_and_stops_cleanly_on_sigterm():
    import signal

    append(3)
    process = _manage(
        "audit", "sequencer", "--interval", "0.2", stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and AuditEntry.objects.filter(leaf__isnull=True).exists():
            time.sleep(0.2)
        assert not AuditEntry.objects.filter(leaf__isnull=True, action__startswith="test.").exists()
        process.send_signal(signal.SIGTERM)
        out, _err = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0
    assert "排序器已停止" in out.decode()


# --- the Huey tasks -------------------------------------------------------------------------------------
def test_periodic_tree_head_task():
    assert evidence_tree_head_sign.call_local() is None  # nothing integrated
    append(3)
    sequencer_run_once()
    assert evidence_tree_head_sign.call_local() == 3  # the first head is due at once
    assert evidence_tree_head_sign.call_local() is None  # nothing new


def test_daily_verify_task(caplog):
    entries = append(2)
    sequencer_run_once()
    assert audit_verify_daily.call_local()["ok"] is True
    forge_column(entries[0].seq, "purpose", "'x'")
    report = audit_verify_daily.call_local()
    assert (report["ok"], report["broken_seq"], report["broken_index"]) == (False, entries[0].seq, 0)
    assert "broken" in caplog.text


# --- signing cadence ----------------------------------------------------------------------------------
def test_a_head_every_n_entries_and_after_the_interval(settings, clock):
    settings.YIWANG_EVIDENCE_SIGN_EVERY = 5
    settings.YIWANG_EVIDENCE_SIGN_INTERVAL_SECONDS = 60
    clock.set(2031, 3, 3, 10, 0)
    append(2)
    sequencer_run_once()
    assert tree_head_sign().tree_size == 2  # the first head
    append(2)
    sequencer_run_once()
    assert tree_head_sign() is None  # 3 new (2 + the head record) < 5, and within the minute
    append(2)
    sequencer_run_once()
    assert tree_head_sign().tree_size == 7  # 5 new
    append(1)
    sequencer_run_once()
    assert tree_head_sign() is None
    clock.set(2031, 3, 3, 10, 2)
    assert tree_head_sign().tree_size == 9  # a minute passed
    clock.set(2031, 3, 3, 10, 4)
    sequencer_run_once()
    assert tree_head_sign() is None  # idle: the only new leaf is the previous head's own record
    assert tree_head_sign(force=True).tree_size == 10


def test_no_key_means_no_head_but_the_log_still_integrates(settings, tmp_path):
    settings.YIWANG_KEYSTORE = tmp_path / "absent.json"
    append(2)
    assert sequencer_run_once() == 2
    assert tree_head_sign(force=True) is None
    assert not TreeHead.objects.exists()


# --- concurrency (PostgreSQL: two connections) --------------------------------------------------------
def _other_connection():
    return connections.create_connection("default")


@pytest.mark.django_db(transaction=True)
def test_appends_do_not_block_each_other_while_a_transaction_stays_open():
    if connection.vendor != "postgresql":
        pytest.skip("waiting between two connections is what is being tested; PostgreSQL only")
    opened, release = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def long_transaction() -> None:
        try:
            with transaction.atomic():
                audit_record(actor=None, action="test.long", object_id="long")
                opened.set()
                release.wait(30)
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)
        finally:
            connection.close()

    holder = threading.Thread(target=long_transaction)
    holder.start()
    assert opened.wait(10)
    started = time.monotonic()
    with transaction.atomic():
        short = audit_record(actor=None, action="test.short", object_id="short")
    took = time.monotonic() - started
    # Committed while the other transaction is still open: nothing waited on it.
    assert holder.is_alive() and not release.is_set()
    assert took < 5
    other = _other_connection()
    with other.cursor() as cursor:
        cursor.execute(f"SELECT object_id FROM {ENTRY} WHERE seq = %s", [short.seq])
        assert cursor.fetchone() == ("short",)
    other.close()
    # Several sequencer runs while the long transaction is open integrate only what has committed...
    for _ in range(3):
        sequencer_run_once()
    assert AuditEntry.objects.get(object_id="short").leaf_index == 0
    assert not AuditEntry.objects.filter(object_id="long").exists()
    release.set()
    holder.join()
    assert not errors, errors
    # ...and the late commit (a lower seq, committed after a higher one) is integrated, never skipped.
    long = AuditEntry.objects.get(object_id="long")
    assert long.seq < short.seq and long.leaf_index is None
    assert sequencer_run_once() == 1
    long.refresh_from_db()
    assert long.leaf_index == 1
    result = log_verify(workers=1)
    assert result.ok and result.entries == 2, result.message()


@pytest.mark.django_db(transaction=True)
def test_many_concurrent_appends_and_a_live_sequencer_verify(settings):
    if connection.vendor != "postgresql":
        pytest.skip("needs several connections writing at the same time; PostgreSQL only")
    settings.YIWANG_EVIDENCE_SIGN_EVERY = 25
    errors: list[BaseException] = []
    start = threading.Barrier(3)

    def writer(name: str) -> None:
        try:
            start.wait()
            for i in range(60):
                with transaction.atomic():
                    audit_record(actor=None, action="test.concurrent", object_id=f"{name}-{i}")
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=writer, args=(name,)) for name in ("a", "b")]
    for thread in threads:
        thread.start()
    start.wait()
    results = []
    while any(t.is_alive() for t in threads):
        sequencer_run_once()
        tree_head_sign()
        results.append(log_verify(workers=1))
    for thread in threads:
        thread.join()
    assert not errors, errors
    sequencer_run_once()
    tree_head_sign(force=True)
    assert all(r.ok for r in results), [r.message() for r in results if not r.ok]
    final = log_verify(workers=2)
    assert final.ok, final.message()
    indices = sorted(
        AuditEntry.objects.filter(action="test.concurrent").values_list("leaf__leaf_index", flat=True)
    )
    assert len(indices) == 120 and None not in indices
