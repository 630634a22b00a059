"""The tamper-evident audit chain: links and hashes, tamper detection (a DBA with raw SQL), transaction
semantics, signed checkpoints (every N, on demand, across key rotation), the CLI, the Huey task, concurrency."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, transaction
from django.db.transaction import TransactionManagementError
from gmssl import sm3 as gm_sm3
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from yiwang.core import audit as audit_mod
from yiwang.core import crypto
from yiwang.core.audit import (
    GENESIS_HASH,
    AuditChainBroken,
    AuditError,
    VerifyResult,
    audit_checkpoint_create,
    audit_record,
    audit_verify,
    entry_digest,
)
from yiwang.core.keystore import Keystore, keystore, keystore_init
from yiwang.core.models import AuditCheckpoint, AuditEntry, AuditHead, CalendarDay
from yiwang.core.tasks import audit_checkpoint_hourly, audit_verify_daily

pytestmark = pytest.mark.django_db

ENTRY = AuditEntry._meta.db_table
HEAD = AuditHead._meta.db_table
CHECKPOINT = AuditCheckpoint._meta.db_table
MANAGE_PY = Path(__file__).resolve().parents[2] / "manage.py"


@pytest.fixture(autouse=True)
def _no_automatic_checkpoints(settings):
    # Each test opts in to checkpoints explicitly, so broken_seq expectations do not depend on the default N.
    settings.YIWANG_AUDIT_CHECKPOINT_EVERY = 0


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


def col(name: str) -> str:
    return connection.ops.quote_name(name)


def broken(result: VerifyResult, seq: int) -> None:
    assert result.ok is False, result
    assert result.broken_seq == seq, result.message()
    assert f"第 {seq} 条" in result.message()


def rewrite_from(seq: int, **changes) -> None:
    """What a DBA who knows the algorithm can do: edit one entry and recompute every hash after it and the head."""
    prev = AuditEntry.objects.get(seq=seq - 1).entry_hash if seq > 1 else GENESIS_HASH
    for entry in AuditEntry.objects.filter(seq__gte=seq).order_by("seq"):
        if entry.seq == seq:
            for field, value in changes.items():
                setattr(entry, field, value)
        entry.prev_hash = prev
        fields = {name: getattr(entry, name) for name in audit_mod._HASHED_FIELDS}
        entry.entry_hash = entry_digest(fields)
        sql(
            f"UPDATE {ENTRY} SET {col('prev_hash')} = %s, {col('entry_hash')} = %s, {col('action')} = %s "
            f"WHERE {col('seq')} = %s",
            [entry.prev_hash, entry.entry_hash, entry.action, entry.seq],
        )
        prev = entry.entry_hash
    sql(f"UPDATE {HEAD} SET {col('last_hash')} = %s", [prev])


# --- the chain ------------------------------------------------------------------------------------------
def test_entries_link_and_hash():
    entries = append(5)
    stored = list(AuditEntry.objects.order_by("seq"))
    assert [e.seq for e in stored] == [1, 2, 3, 4, 5]
    assert stored[0].prev_hash == GENESIS_HASH
    for before, entry in zip(stored, stored[1:], strict=False):
        assert entry.prev_hash == before.entry_hash
    for entry in stored:
        fields = {name: getattr(entry, name) for name in audit_mod._HASHED_FIELDS}
        assert entry_digest(fields) == entry.entry_hash
    assert len({e.entry_hash for e in stored}) == 5
    head = AuditHead.objects.get()
    assert (head.last_seq, head.last_hash) == (5, entries[-1].entry_hash)


def test_hash_is_recomputable_by_an_auditor_with_another_sm3():
    """The documented canonical form, hashed with the independent pure-Python gmssl SM3."""
    (entry,) = append(1)
    entry.refresh_from_db()
    canonical = {name: getattr(entry, name) for name in audit_mod._HASHED_FIELDS}
    canonical["occurred_at"] = entry.occurred_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    payload = json.dumps(canonical, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()
    assert gm_sm3.sm3_hash(list(payload)) == entry.entry_hash


_json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=8,
)


@hypothesis_settings(max_examples=200, deadline=None)
@given(
    text=st.text(),
    before=st.none() | st.dictionaries(st.text(), _json_values),
    after=st.none() | st.dictionaries(st.text(), _json_values),
    seq=st.integers(1, 10**12),
    moment=st.datetimes(
        min_value=datetime(2000, 1, 1), max_value=datetime(2200, 1, 1), timezones=st.just(UTC)
    ),
)
def test_canonical_form_is_the_documented_json(text, before, after, seq, moment):
    """entry_digest builds the JSON field by field for speed; it must equal the documented json.dumps form."""
    fields = {name: text for name in audit_mod._HASHED_FIELDS}
    fields.update(seq=seq, before=before, after=after, occurred_at=moment)
    documented = dict(fields, occurred_at=moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ"))
    payload = json.dumps(documented, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()
    assert entry_digest(fields) == crypto.sm3_hex(payload)


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
    assert audit_verify().ok


def test_verify_intact_chain():
    append(7)
    result = audit_verify(batch=3)  # several batches, so the walk crosses batch boundaries
    assert result.ok is True
    assert (result.entries, result.checkpoints, result.broken_seq) == (7, 0, None)
    assert "7" in result.message()


def test_verify_empty_chain():
    assert audit_verify() == VerifyResult(True, 0, 0)


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
    assert audit_verify().ok


# --- tampering by a DBA with direct SQL access ---------------------------------------------------------
TAMPER_VALUES = {
    "action": "person.delete",
    "actor_account": "mallory",
    "actor_department": "D9999",
    "actor_ip": "10.6.6.6",
    "object_type": "licence",
    "object_id": "999999",
    "purpose": "无",
    "request_id": "forged-request-id",
    "before": json.dumps({"状态": "旧", "v": 42}),
    "after": json.dumps({"状态": "新", "v": 43}),
    "prev_hash": "f" * 64,
    "entry_hash": "e" * 64,
    "seq": 100,
}


@pytest.mark.parametrize("seq", [1, 3, 5], ids=["first", "middle", "last"])
@pytest.mark.parametrize("column", [*TAMPER_VALUES, "occurred_at"])
def test_editing_any_hashed_column_of_any_row_is_detected(column, seq):
    append(5)
    assert audit_verify().ok
    if column == "occurred_at":
        moved = AuditEntry.objects.get(seq=seq).occurred_at - timedelta(seconds=1)
        value = connection.ops.adapt_datetimefield_value(moved)
    else:
        value = TAMPER_VALUES[column]
    sql(f"UPDATE {ENTRY} SET {col(column)} = %s WHERE {col('seq')} = %s", [value, seq])
    broken(audit_verify(), seq)


def test_erasing_a_before_image_is_detected():
    append(4)
    sql(f"UPDATE {ENTRY} SET {col('before')} = NULL WHERE {col('seq')} = 2")
    broken(audit_verify(), 2)


def test_a_one_microsecond_change_is_detected():
    append(3)
    moved = AuditEntry.objects.get(seq=2).occurred_at + timedelta(microseconds=1)
    sql(
        f"UPDATE {ENTRY} SET {col('occurred_at')} = %s WHERE {col('seq')} = 2",
        [connection.ops.adapt_datetimefield_value(moved)],
    )
    broken(audit_verify(), 2)


@pytest.mark.parametrize("seq", [1, 3, 4])
def test_deleting_a_row_is_detected(seq):
    append(5)
    sql(f"DELETE FROM {ENTRY} WHERE {col('seq')} = %s", [seq])
    result = audit_verify(batch=2)
    broken(result, seq)
    assert "缺失" in result.reason


def test_deleting_the_last_row_is_detected_through_the_head():
    append(5)
    sql(f"DELETE FROM {ENTRY} WHERE {col('seq')} = 5")
    result = audit_verify()
    broken(result, 5)
    assert "链头" in result.reason


def test_deleting_the_last_rows_and_rewinding_the_head_is_detected_by_a_signed_checkpoint():
    entries = append(5)
    audit_checkpoint_create()
    sql(f"DELETE FROM {ENTRY} WHERE {col('seq')} >= 4")
    sql(f"UPDATE {HEAD} SET {col('last_seq')} = 3, {col('last_hash')} = %s", [entries[2].entry_hash])
    result = audit_verify()
    broken(result, 4)
    assert "检查点" in result.reason


def test_deleting_every_row_is_detected():
    append(3)
    sql(f"DELETE FROM {ENTRY}")
    broken(audit_verify(), 1)


@pytest.mark.parametrize(("a", "b"), [(1, 2), (2, 4), (4, 5)])
def test_reordering_two_rows_is_detected(a, b):
    append(5)
    # Swap the two seq values (through a free value: seq is unique).
    sql(f"UPDATE {ENTRY} SET {col('seq')} = -1 WHERE {col('seq')} = %s", [a])
    sql(f"UPDATE {ENTRY} SET {col('seq')} = %s WHERE {col('seq')} = %s", [a, b])
    sql(f"UPDATE {ENTRY} SET {col('seq')} = %s WHERE {col('seq')} = -1", [b])
    broken(audit_verify(), a)


def test_a_row_planted_outside_the_chain_is_detected():
    append(3)
    forged = AuditEntry.objects.get(seq=2)
    forged.pk, forged.seq, forged.entry_hash = None, 0, "d" * 64
    forged.save()
    broken(audit_verify(), 0)


def test_a_row_appended_behind_the_heads_back_is_detected():
    entries = append(3)
    fields = {name: getattr(entries[-1], name) for name in audit_mod._HASHED_FIELDS}
    fields.update(seq=4, prev_hash=entries[-1].entry_hash, action="forged.append")
    AuditEntry.objects.create(**fields, entry_hash=entry_digest(fields))
    result = audit_verify()
    broken(result, 4)
    assert "链头" in result.reason


def test_rewriting_the_rest_of_the_chain_is_caught_by_a_signed_checkpoint():
    append(5)
    audit_checkpoint_create()
    rewrite_from(3, action="forged.action")
    # Every hash and link is consistent again; only the SM2 signature over entry 5 still tells the truth.
    result = audit_verify()
    broken(result, 5)
    assert "检查点" in result.reason


# --- checkpoints and the head -------------------------------------------------------------------------
def _sign_with_other_key(seq: int, entry_hash: str) -> str:
    attacker = crypto.sm2_generate()
    return crypto.sm2_sign(attacker, audit_mod._checkpoint_payload(seq, entry_hash)).hex()


@pytest.mark.parametrize("forgery", ["other_key", "flipped_bit", "unknown_key_id", "garbage", "entry_hash"])
def test_a_forged_checkpoint_is_detected(forgery):
    append(4)
    checkpoint = audit_checkpoint_create()
    assert checkpoint.seq == 4 and audit_verify().checkpoints == 1
    column, value = {
        "other_key": ("signature", _sign_with_other_key(4, checkpoint.entry_hash)),
        "flipped_bit": (
            "signature",
            checkpoint.signature[:-1] + ("0" if checkpoint.signature[-1] != "0" else "1"),
        ),
        "unknown_key_id": ("key_id", "platform-99"),
        "garbage": ("signature", "zz-not-hex"),
        "entry_hash": ("entry_hash", "c" * 64),
    }[forgery]
    sql(f"UPDATE {CHECKPOINT} SET {col(column)} = %s WHERE {col('seq')} = 4", [value])
    result = audit_verify()
    broken(result, 4)
    assert "检查点" in result.reason


def test_a_checkpoint_forged_for_a_rewritten_chain_is_detected():
    append(5)
    audit_checkpoint_create()
    rewrite_from(2, action="forged.action")
    head = AuditHead.objects.get()
    sql(
        f"UPDATE {CHECKPOINT} SET {col('entry_hash')} = %s, {col('signature')} = %s WHERE {col('seq')} = 5",
        [head.last_hash, _sign_with_other_key(5, head.last_hash)],
    )
    broken(audit_verify(), 5)


@pytest.mark.parametrize(
    ("edit", "seq"),
    [("last_hash", 5), ("last_seq_ahead", 6), ("last_seq_behind", 5), ("deleted", 5)],
)
def test_editing_the_head_is_detected(edit, seq):
    append(5)
    statement = {
        "last_hash": (f"UPDATE {HEAD} SET {col('last_hash')} = %s", ["a" * 64]),
        "last_seq_ahead": (f"UPDATE {HEAD} SET {col('last_seq')} = 6", []),
        "last_seq_behind": (f"UPDATE {HEAD} SET {col('last_seq')} = 4", []),
        "deleted": (f"DELETE FROM {HEAD}", []),
    }[edit]
    sql(*statement)
    broken(audit_verify(), seq)


def test_a_missing_head_refuses_appends_instead_of_restarting_the_chain():
    append(2)
    sql(f"DELETE FROM {HEAD}")
    with pytest.raises(AuditError):
        with transaction.atomic():
            audit_record(actor=None, action="test.after_head_deleted")
    assert AuditEntry.objects.count() == 2


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
    assert AuditHead.objects.get().last_seq == 2
    assert audit_verify().ok
    with transaction.atomic():  # and the next append continues the chain without a gap
        audit_record(actor=None, action="test.next")
    assert audit_verify().entries == 3


def test_an_audit_failure_aborts_the_change(monkeypatch):
    append(1)

    def broken_digest(fields):
        raise RuntimeError("SM3 unavailable")

    monkeypatch.setattr(audit_mod, "entry_digest", broken_digest)
    with pytest.raises(RuntimeError, match="SM3"):
        with transaction.atomic():
            _holiday()
            audit_record(actor=None, action="calendar.set", object_type="calendar_day")
    assert not CalendarDay.objects.exists()
    assert AuditEntry.objects.count() == 1


def test_a_caller_cannot_swallow_an_audit_failure_and_keep_its_change(monkeypatch):
    def broken_digest(fields):
        raise RuntimeError("SM3 unavailable")

    monkeypatch.setattr(audit_mod, "entry_digest", broken_digest)
    with transaction.atomic():
        _holiday()
        try:
            audit_record(actor=None, action="calendar.set", object_type="calendar_day")
        except RuntimeError:
            pass  # a careless caller carries on...
        with pytest.raises(TransactionManagementError):
            _holiday(2)  # ...but the transaction is already doomed
    assert not CalendarDay.objects.exists()
    assert not AuditEntry.objects.exists()


def test_a_signing_failure_at_a_checkpoint_aborts_the_change(monkeypatch, settings):
    settings.YIWANG_AUDIT_CHECKPOINT_EVERY = 2
    append(1)

    def no_key(self, payload):
        raise RuntimeError("platform key unavailable")

    monkeypatch.setattr(Keystore, "platform_sign", no_key)
    with pytest.raises(RuntimeError, match="platform key"):
        with transaction.atomic():
            _holiday()
            audit_record(actor=None, action="calendar.set", object_type="calendar_day")
    assert not CalendarDay.objects.exists()
    assert AuditEntry.objects.count() == 1 and not AuditCheckpoint.objects.exists()


# --- checkpoints ----------------------------------------------------------------------------------------
def test_a_checkpoint_every_n_entries(settings):
    settings.YIWANG_AUDIT_CHECKPOINT_EVERY = 3
    append(8)
    checkpoints = list(AuditCheckpoint.objects.order_by("seq"))
    assert [cp.seq for cp in checkpoints] == [3, 6]
    public = crypto.sm2_load_public(keystore().platform_public_keys()[checkpoints[0].key_id])
    for cp in checkpoints:
        assert cp.entry_hash == AuditEntry.objects.get(seq=cp.seq).entry_hash
        assert crypto.sm2_verify(
            public, bytes.fromhex(cp.signature), audit_mod._checkpoint_payload(cp.seq, cp.entry_hash)
        )
    result = audit_verify()
    assert result.ok and (result.entries, result.checkpoints) == (8, 2)


def test_a_checkpoint_on_demand():
    assert audit_checkpoint_create() is None  # empty chain: nothing to sign
    append(4)
    checkpoint = audit_checkpoint_create()
    assert (checkpoint.seq, checkpoint.entry_hash) == (4, AuditHead.objects.get().last_hash)
    assert audit_checkpoint_create() == checkpoint  # the head is already signed
    assert AuditCheckpoint.objects.count() == 1
    append(1)
    assert audit_checkpoint_create().seq == 5
    assert audit_verify().checkpoints == 2


def test_a_checkpoint_is_refused_over_a_tampered_tail():
    append(3)
    audit_checkpoint_create()
    append(3)
    sql(f"UPDATE {ENTRY} SET {col('purpose')} = '改过' WHERE {col('seq')} = 5")
    with pytest.raises(AuditChainBroken) as exc:
        audit_checkpoint_create()
    assert exc.value.result.broken_seq == 5
    assert list(AuditCheckpoint.objects.values_list("seq", flat=True)) == [3]


def test_a_checkpoint_is_refused_when_the_previous_one_is_forged():
    append(3)
    audit_checkpoint_create()
    append(1)
    sql(f"UPDATE {CHECKPOINT} SET {col('signature')} = %s", [_sign_with_other_key(3, "b" * 64)])
    with pytest.raises(AuditChainBroken) as exc:
        audit_checkpoint_create()
    assert exc.value.result.broken_seq == 3


def test_the_every_n_checkpoint_skips_a_tampered_tail_but_the_change_commits(settings, caplog):
    settings.YIWANG_AUDIT_CHECKPOINT_EVERY = 4
    append(3)
    sql(f"UPDATE {ENTRY} SET {col('purpose')} = '改过' WHERE {col('seq')} = 2")
    with transaction.atomic():
        _holiday()
        audit_record(actor=None, action="calendar.set")
    assert CalendarDay.objects.count() == 1 and AuditEntry.objects.count() == 4
    assert not AuditCheckpoint.objects.exists()
    assert "refused" in caplog.text
    broken(audit_verify(), 2)


def test_checkpoints_verify_after_the_platform_key_is_rotated(settings, tmp_path):
    settings.YIWANG_KEYSTORE = tmp_path / "keystore.json"
    store, created = keystore_init(settings.YIWANG_KEYSTORE)
    assert created
    settings.YIWANG_AUDIT_CHECKPOINT_EVERY = 3
    append(3)
    new_key_id = keystore().rotate_platform_key()
    append(3)
    assert list(AuditCheckpoint.objects.order_by("seq").values_list("key_id", flat=True)) == [
        "platform-1",
        new_key_id,
    ]
    result = audit_verify()
    assert result.ok and result.checkpoints == 2
    # The old checkpoint really is checked against the retired key: drop that key and it no longer verifies.
    data = json.loads(settings.YIWANG_KEYSTORE.read_text())
    data["retired_platform_keys"] = []
    settings.YIWANG_KEYSTORE.write_text(json.dumps(data))
    os.utime(settings.YIWANG_KEYSTORE, (1, 1))  # a different mtime, so keystore() reloads
    result = audit_verify()
    broken(result, 3)
    assert "platform-1" in result.reason


# --- the `audit` command ------------------------------------------------------------------------------
def test_command_verify_intact(capsys):
    append(3)
    call_command("audit", "verify")
    assert "审计链完整" in capsys.readouterr().out


def test_command_verify_broken_exits_1_naming_the_entry():
    append(4)
    sql(f"UPDATE {ENTRY} SET {col('action')} = 'x' WHERE {col('seq')} = 2")
    with pytest.raises(CommandError) as exc:
        call_command("audit", "verify")
    assert exc.value.returncode == 1
    assert "第 2 条" in str(exc.value)


def test_command_checkpoint(capsys):
    call_command("audit", "checkpoint")
    assert "审计链为空" in capsys.readouterr().out
    append(2)
    call_command("audit", "checkpoint")
    assert "第 2 条" in capsys.readouterr().out
    assert AuditCheckpoint.objects.get().seq == 2
    sql(f"UPDATE {ENTRY} SET {col('action')} = 'x' WHERE {col('seq')} = 2")
    append(1)
    with pytest.raises(CommandError) as exc:
        call_command("audit", "checkpoint")
    assert exc.value.returncode == 1


def _manage(*args: str) -> subprocess.CompletedProcess:
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        url = f"sqlite:///{db['NAME']}"
    else:
        url = f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    env = {**os.environ, "YIWANG_DATABASE_URL": url, "YIWANG_KEYSTORE": str(django_settings.YIWANG_KEYSTORE)}
    return subprocess.run(
        [sys.executable, str(MANAGE_PY), *args], env=env, capture_output=True, text=True, timeout=120
    )


@pytest.mark.django_db(transaction=True)
def test_manage_py_audit_verify_exit_codes():
    append(3)
    intact = _manage("audit", "verify")
    assert intact.returncode == 0, intact.stderr
    assert "审计链完整" in intact.stdout
    sql(f"DELETE FROM {ENTRY} WHERE {col('seq')} = 2")
    tampered = _manage("audit", "verify")
    assert tampered.returncode == 1
    assert "第 2 条" in tampered.stderr


# --- the Huey tasks -------------------------------------------------------------------------------------
def test_hourly_checkpoint_task():
    assert audit_checkpoint_hourly.call_local() is None  # empty chain
    append(3)
    audit_checkpoint_hourly()  # enqueued and run through Huey (immediate in tests; periodic results aren't kept)
    assert AuditCheckpoint.objects.get().seq == 3
    append(1)
    assert audit_checkpoint_hourly.call_local() == 4
    task = audit_checkpoint_hourly.task_class()
    assert task.validate_datetime(datetime(2026, 3, 2, 10, 0))
    assert not task.validate_datetime(datetime(2026, 3, 2, 10, 30))


def test_hourly_checkpoint_task_refuses_a_tampered_chain(caplog):
    append(3)
    sql(f"UPDATE {ENTRY} SET {col('action')} = 'x' WHERE {col('seq')} = 1")
    assert audit_checkpoint_hourly.call_local() is None
    assert not AuditCheckpoint.objects.exists()
    assert "refused" in caplog.text


def test_daily_verify_task(caplog):
    append(2)
    assert audit_verify_daily.call_local()["ok"] is True
    sql(f"DELETE FROM {ENTRY} WHERE {col('seq')} = 1")
    report = audit_verify_daily.call_local()
    assert (report["ok"], report["broken_seq"]) == (False, 1)
    assert "broken" in caplog.text


# --- concurrency (PostgreSQL: real row locks between connections) ---------------------------------------
@pytest.mark.django_db(transaction=True)
def test_concurrent_appends_never_fork_the_chain(settings):
    if connection.vendor != "postgresql":
        pytest.skip("row locks between connections are what is being tested; PostgreSQL only")
    settings.YIWANG_AUDIT_CHECKPOINT_EVERY = 10
    start = threading.Barrier(2)
    errors: list[BaseException] = []

    def writer(name: str) -> None:
        try:
            start.wait()  # both race for the very first append, which also creates the head row
            for i in range(50):
                with transaction.atomic():
                    audit_record(actor=None, action="test.concurrent", object_id=f"{name}-{i}")
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=writer, args=(name,)) for name in ("a", "b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
    assert list(AuditEntry.objects.order_by("seq").values_list("seq", flat=True)) == list(range(1, 101))
    assert AuditEntry.objects.filter(object_id__startswith="a-").count() == 50
    result = audit_verify()
    assert result.ok, result.message()
    assert (result.entries, result.checkpoints) == (100, 10)


@pytest.mark.django_db(transaction=True)
def test_verify_while_appends_continue_reports_no_false_tamper(settings):
    if connection.vendor != "postgresql":
        pytest.skip("needs a second connection writing at the same time; PostgreSQL only")
    settings.YIWANG_AUDIT_CHECKPOINT_EVERY = 25
    append(10)
    done = threading.Event()
    errors: list[BaseException] = []

    def writer() -> None:
        try:
            for i in range(300):
                with transaction.atomic():
                    audit_record(actor=None, action="test.live", object_id=str(i))
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)
        finally:
            done.set()
            connection.close()

    thread = threading.Thread(target=writer)
    thread.start()
    results = []
    while not done.is_set():
        results.append(audit_verify(batch=7))  # small batches: the walk and the head race often
    thread.join()
    assert not errors, errors
    assert results and all(r.ok for r in results), [r.message() for r in results if not r.ok]
    assert audit_verify().entries == 310
