"""The evidence log's tree: the stored nodes and proofs (RFC 9162 properties), the sequencer's single-active lock,
tampering of every kind caught by log_verify naming the first bad entry, and the migration of the former chain."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta, timezone

import pytest
from django.db import connection, transaction
from django.db.migrations.executor import MigrationExecutor

from yiwang.core import crypto
from yiwang.core.audit import audit_record
from yiwang.core.evidence import fasthash, merkle, store
from yiwang.core.evidence.canonical import canonical_chain, json_safe
from yiwang.core.evidence.sequencer import (
    SequencerLock,
    sequencer_loop,
    sequencer_run_once,
    tree_head_latest,
    tree_head_sign,
)
from yiwang.core.evidence.verify import log_verify
from yiwang.core.keystore import keystore
from yiwang.core.models import AuditEntry, EvidenceLeaf, EvidenceNode, EvidencePending, TreeHead

from .tamper import detach_columns, forge_column, reattach_columns

pytestmark = pytest.mark.django_db

ENTRY = AuditEntry._meta.db_table
NODE = EvidenceNode._meta.db_table
LEAF = EvidenceLeaf._meta.db_table
PENDING = EvidencePending._meta.db_table
HEAD = TreeHead._meta.db_table


def append(n: int, start: int = 0) -> list[AuditEntry]:
    out = []
    for i in range(start, start + n):
        with transaction.atomic():
            out.append(audit_record(actor=None, action="test.e", object_id=str(i), after={"i": i, "f": 0.5}))
    return out


def sql(statement: str, params=()) -> None:
    with connection.cursor() as cursor:
        cursor.execute(statement, params)


def leaves() -> list[bytes]:
    rows = AuditEntry.objects.filter(leaf__isnull=False).order_by("leaf__leaf_index")
    return [bytes.fromhex(h) for h in rows.values_list("leaf_hash", flat=True)]


def delete_integrated(where: str, params=()) -> None:
    """Deletes integrated entries and their leaf rows (the leaf's foreign key would refuse the entry alone)."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT seq FROM {LEAF} WHERE {where}", params)
        seqs = [r[0] for r in cursor.fetchall()]
    sql(f"DELETE FROM {LEAF} WHERE {where}", params)
    sql(f"DELETE FROM {ENTRY} WHERE seq IN ({','.join(map(str, seqs)) or 'NULL'})")


def move_leaf(old: int, new: int) -> None:
    sql(f"UPDATE {LEAF} SET leaf_index = %s WHERE leaf_index = %s", [new, old])


def broken(result, *, index=None, seq=None, head=None, reason: str = "") -> None:
    assert not result.ok, result.message()
    assert (result.broken_index, result.broken_seq, result.broken_head) == (index, seq, head), (
        result.message()
    )
    assert reason in result.reason, result.reason


# --- SM3 --------------------------------------------------------------------------------------------------
def test_fast_sm3_gives_the_same_digests_as_tongsuo_and_the_standard_vectors():
    assert fasthash.sm3(b"abc").hex() == "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"
    assert (
        fasthash.sm3(b"abcd" * 16).hex() == "debe9ff92275b8a138604889c18e5a4d6fdb70e5387e5765293dcba39c0c5732"
    )
    for data in (b"", b"\x00", bytes(range(256)) * 3):
        assert fasthash.sm3(data) == crypto.sm3(data)
        assert fasthash.leaf_hash(data) == merkle.leaf_hash(data)
    assert fasthash.node_hash(b"a" * 32, b"b" * 32) == merkle.node_hash(b"a" * 32, b"b" * 32)


# --- the stored tree and proofs ---------------------------------------------------------------------------
def test_every_proof_from_the_store_verifies_for_sizes_1_to_70():
    append(70)
    for step in (1, 2, 3, 5, 8, 13, 21, 17):  # integrate in uneven batches
        ids = list(AuditEntry.objects.filter(leaf__isnull=True).order_by("seq").values_list("seq", flat=True))
        if not ids:
            break
        # keep all but `step` pending by integrating with a temporarily hidden tail
        hidden = ids[step:]
        sql(f"DELETE FROM {PENDING} WHERE seq IN ({','.join(map(str, hidden)) or 'NULL'})")
        sequencer_run_once()
        for seq in hidden:
            sql(f"INSERT INTO {PENDING} (seq) VALUES (%s)", [seq])
    sequencer_run_once()
    all_leaves = leaves()
    assert len(all_leaves) == 70
    for n in range(1, 71):
        root = store.root_at(n)
        assert root == merkle.root_of(all_leaves[:n])
        for m in range(n):
            path = store.inclusion_proof(m, n)
            assert merkle.verify_inclusion(m, n, all_leaves[m], path, root)
        for m in range(0, n + 1):
            proof = store.consistency_proof(m, n)
            assert merkle.verify_consistency(m, n, store.root_at(m), root, proof)
    assert store.root_at(0) == merkle.EMPTY_ROOT


def test_stored_nodes_answer_proofs_over_several_chunks(django_assert_max_num_queries):
    append(600)
    assert sequencer_run_once() == 600
    nodes = dict(((lv, ix), h) for lv, ix, h in EvidenceNode.objects.values_list("level", "index", "hash"))
    assert set(nodes) == {(8, 0), (8, 1), (9, 0)}
    all_leaves = leaves()
    assert nodes[(9, 0)] == merkle.root_of(all_leaves[:512]).hex()
    for n in (255, 256, 257, 511, 512, 513, 600):
        root = store.root_at(n)
        assert root == merkle.root_of(all_leaves[:n])
        for m in (0, 1, 255, 256, 300, n - 1):
            if m < n:
                with django_assert_max_num_queries(4):
                    path = store.inclusion_proof(m, n)
                assert merkle.verify_inclusion(m, n, all_leaves[m], path, root)
        for m in (1, 100, 256, 257, 511, n):
            if m <= n:
                with django_assert_max_num_queries(4):
                    proof = store.consistency_proof(m, n)
                assert merkle.verify_consistency(m, n, merkle.root_of(all_leaves[:m]), root, proof)


def test_proofs_only_for_integrated_sizes():
    append(3)
    with pytest.raises(store.ProofError):
        store.root_at(1)
    sequencer_run_once()
    with pytest.raises(store.ProofError):
        store.inclusion_proof(0, 4)
    with pytest.raises(store.ProofError):
        store.consistency_proof(2, 1)


# --- the single sequencer -------------------------------------------------------------------------------------
@pytest.mark.django_db(transaction=True)
def test_a_second_sequencer_stands_by_while_the_first_holds_the_lock():
    append(2)
    first, second = SequencerLock(), SequencerLock()
    try:
        assert first.acquire()
        assert not second.acquire()
        sequencer_loop(interval=0.01, max_rounds=2)  # a second loop: standby, integrates nothing
        assert AuditEntry.objects.filter(leaf__isnull=True).count() == 2
        assert first.held()
    finally:
        first.release()
    sequencer_loop(interval=0.01, max_rounds=1)  # the lock is free: it takes over
    assert not AuditEntry.objects.filter(leaf__isnull=True, action="test.e").exists()
    assert second.acquire()
    second.release()


# --- tampering ----------------------------------------------------------------------------------------------
@pytest.fixture
def log10():
    """Ten integrated entries under a signed head, then two more integrated and one pending."""
    entries = append(10)
    sequencer_run_once()
    head = tree_head_sign(force=True)
    assert head.tree_size == 10
    entries += append(2, start=10)
    sequencer_run_once()  # 10 entries + head record + 2 = 13 leaves
    entries += append(1, start=12)  # pending
    assert log_verify().ok
    return entries


def test_an_intact_log_verifies(log10):
    result = log_verify()
    assert result.ok and (result.entries, result.heads, result.pending) == (13, 1, 1)


@pytest.mark.parametrize(
    "column,value", [("action", "'x'"), ("after", "'{\"i\": 9}'"), ("actor_account", "'m'")]
)
@pytest.mark.parametrize("position", [0, 4, 9, 12])
def test_editing_an_integrated_entry_names_it(log10, column, value, position):
    target = AuditEntry.objects.get(leaf__leaf_index=position)
    forge_column(target.seq, column, value)
    broken(log_verify(), index=position, seq=target.seq, reason="显示字段")


EDIT_ONE_COLUMN = [
    ("actor_department", "%s", "D9"),
    ("actor_ip", "%s", "10.0.0.9"),
    ("object_type", "%s", "case"),
    ("object_id", "%s", "999"),
    ("purpose", "%s", "查看"),
    ("request_id", "%s", "r-forged"),
    ("before", "%s", '{"i": 1}'),
    ("after", "%s", '{"f": 0.5, "i": 5, "x": null}'),  # one key more
    ("after", "%s", '{"f": 0.25, "i": 4}'),
    ("after", "NULL", None),
    ("format", "%s", 1),
    ("leaf_hash", "%s", "ab" * 32),  # the entry's copy of its leaf hash
]


@pytest.mark.parametrize("column,placeholder,value", EDIT_ONE_COLUMN)
def test_editing_only_a_displayed_column_names_the_entry(log10, column, placeholder, value):
    """The stored canonical bytes and the leaf hashes are untouched: only what the /audit/ page shows changes,
    after the column was detached from its generation; verify sees the catalogue changed, then compares the rows
    (the SQL column check on PostgreSQL, the Python rebuild on SQLite) and names that entry."""
    target = AuditEntry.objects.get(leaf__leaf_index=4)
    params = [] if placeholder == "NULL" else [value]
    forge_column(target.seq, column, placeholder, params)
    broken(log_verify(), index=4, seq=target.seq, reason="显示字段")


def _db_moment(moment):
    return connection.ops.adapt_datetimefield_value(moment)


def _db_uuid(value: uuid.UUID) -> str:
    return str(value) if connection.vendor == "postgresql" else value.hex


def test_editing_only_the_time_or_the_uuid_names_the_entry(log10):
    target = AuditEntry.objects.get(leaf__leaf_index=6)
    forge_column(
        target.seq, "occurred_at", "%s", [_db_moment(target.occurred_at + timedelta(microseconds=1))]
    )
    broken(log_verify(), index=6, seq=target.seq, reason="显示字段")
    forge_column(target.seq, "occurred_at", "%s", [_db_moment(target.occurred_at)])
    forge_column(target.seq, "uuid", "%s", [_db_uuid(uuid.uuid4())])
    broken(log_verify(), index=6, seq=target.seq, reason="显示字段")
    forge_column(target.seq, "uuid", "%s", [_db_uuid(target.uuid)])
    # every row agrees again, but the columns are no longer generated: that alone fails verify
    result = log_verify()
    assert not result.ok and result.broken_seq is None and result.broken_index is None
    assert "occurred_at、uuid 已不再由存证内容生成" in result.message()


def test_the_displayed_columns_cannot_be_written_on_their_own(log10):
    """Without detaching them, the database refuses any write of a displayed column, and computes them again
    whenever the canonical bytes change."""
    from django.db import Error

    target = AuditEntry.objects.get(leaf__leaf_index=2)
    for column, value in (("action", "'x'"), ("occurred_at", "NULL"), ("after", "NULL"), ("uuid", "NULL")):
        with pytest.raises(Error), transaction.atomic():
            sql(f"UPDATE {ENTRY} SET {column} = {value} WHERE seq = %s", [target.seq])
    with pytest.raises(Error), transaction.atomic():  # the columns cannot be computed from it
        AuditEntry.objects.filter(seq=target.seq).update(canonical="not json")
    AuditEntry.objects.filter(seq=target.seq).update(
        canonical=target.canonical.replace('"test.e"', '"test.x"')
    )
    assert AuditEntry.objects.get(seq=target.seq).action == "test.x"
    broken(log_verify(), index=2, seq=target.seq, reason="叶子哈希不符")


def test_editing_the_stored_canonical_bytes_names_the_entry(log10):
    target = AuditEntry.objects.get(leaf__leaf_index=7)
    forged = target.canonical.replace('"test.e"', '"test.x"')
    AuditEntry.objects.filter(seq=target.seq).update(canonical=forged)
    broken(log_verify(), index=7, seq=target.seq, reason="叶子哈希不符")
    detach_columns()  # then even text that is not JSON can be written
    AuditEntry.objects.filter(seq=target.seq).update(canonical="not json")  # the SQL cannot parse it
    broken(log_verify(), index=7, seq=target.seq, reason="叶子哈希不符")


def test_the_column_check_accepts_every_value_audit_record_writes(log10, monkeypatch):
    """Strings with quotes, backslashes, control characters and CJK, nested JSON, floats, empty and null values:
    the fast path (SQL on PostgreSQL) says they agree, without handing any range to the Python path."""
    from yiwang.core.evidence import verify as verify_mod

    with transaction.atomic():
        audit_record(
            actor=None,
            action='t."\\\n\t\x01',
            object_type="类型",
            object_id="",
            before={"a": [1, 2.5, None, True, {"b": "é\u2028"}], 'k"': -0.0, "big": 1e16, "small": 1e-7},
            after={"nested": {"z": 1, "a": [{}], "s": ""}},
            purpose="核验\r\n身份",
        )
        audit_record(actor=None, action="test.nulls", before=None, after=None)
    sequencer_run_once()
    if connection.vendor == "postgresql":
        monkeypatch.setattr(verify_mod, "_verify_range_python", lambda *a: pytest.fail("fell back to Python"))
    assert log_verify().ok
    size = EvidenceLeaf.objects.count()
    assert verify_mod.verify_range(0, size, rows=True)["problem"] is None  # the row-by-row check agrees too


def test_the_generated_columns_say_what_audit_record_wrote():
    """What the database generates from the canonical bytes equals what audit_record computed in the process."""
    with transaction.atomic():
        written = [
            audit_record(
                actor=None,
                action='t."\\\n',
                object_type="类型",
                object_id="7",
                before={"a": [1, 2.5, None, True, {"b": "é\u2028"}], "big": 1e16, "small": 1e-7},
                after={"nested": {"z": 1, "a": [{}], "s": ""}},
                purpose="核验\r\n身份",
            ),
            audit_record(actor=None, action="test.nulls", before=None, after=None),
        ]
    names = [f.name for f in AuditEntry._meta.concrete_fields if f.generated]
    assert len(names) == 14
    for entry in written:
        stored = AuditEntry.objects.get(seq=entry.seq)
        assert {n: getattr(stored, n) for n in names} == {n: getattr(entry, n) for n in names}
    assert AuditEntry.objects.get(seq=written[1].seq).after is None
    assert AuditEntry.objects.filter(seq=written[1].seq, after__isnull=True, before__isnull=True).exists()


@pytest.mark.parametrize(
    "moment",
    [
        datetime(2026, 12, 31, 23, 59, 59, 0, tzinfo=UTC),
        datetime(2026, 12, 31, 23, 59, 59, 1, tzinfo=UTC),
        datetime(2026, 12, 31, 23, 59, 59, 999_999, tzinfo=UTC),
        # half a second before UTC's new year, written at +08:00 (where it is already 2027)
        datetime(2027, 1, 1, 7, 59, 59, 500_000, tzinfo=timezone(timedelta(hours=8))),
    ],
)
def test_the_generated_time_is_the_written_instant_to_the_microsecond(clock, moment):
    clock.moment = moment
    with transaction.atomic():
        entry = audit_record(actor=None, action="test.time")
    assert AuditEntry.objects.get(seq=entry.seq).occurred_at == moment
    found = AuditEntry.objects.filter(seq=entry.seq)
    assert found.filter(occurred_at=moment).exists()
    assert found.filter(occurred_at__lte=moment, occurred_at__gte=moment).exists()
    assert not found.filter(occurred_at__lt=moment).exists()
    assert not found.filter(occurred_at__gt=moment).exists()


def test_editing_an_entry_and_its_leaf_hashes_is_caught_by_the_tree(log10):
    target = AuditEntry.objects.get(leaf__leaf_index=3)
    target.action = "forged"
    target.canonical = ""
    canonical = store.entry_canonical(target)  # rebuilt from the (forged) fields
    forged = merkle.leaf_hash(canonical)
    sql(
        f"UPDATE {ENTRY} SET canonical = %s, leaf_hash = %s WHERE seq = %s",
        [canonical.decode(), forged.hex(), target.seq],
    )
    sql(f"UPDATE {LEAF} SET leaf_hash = %s WHERE leaf_index = 3", [forged])
    result = log_verify()
    assert (
        not result.ok
        and result.broken_head == 10
        and result.broken_index is not None
        and result.broken_index <= 3
    )


def test_editing_a_pending_entry_names_it(log10):
    pending = log10[-1]
    forge_column(pending.seq, "purpose", "'x'")
    broken(log_verify(), seq=pending.seq, reason="待上链")


def test_deleting_an_integrated_entry_names_its_place(log10):
    delete_integrated("leaf_index = 5")
    broken(log_verify(), index=5, reason="缺失")


def test_deleting_only_the_entry_row_names_its_place(log10):
    target = AuditEntry.objects.get(leaf__leaf_index=5)
    sql(
        f"DELETE FROM {ENTRY} WHERE seq = %s", [target.seq]
    )  # its leaf row stays (the FK is checked at commit)
    broken(log_verify(), index=5, seq=target.seq, reason="缺失")
    sql(f"DELETE FROM {LEAF} WHERE leaf_index = 5")


def test_deleting_a_queue_row_is_caught(log10):
    pending = log10[-1]
    sql(f"DELETE FROM {PENDING} WHERE seq = %s", [pending.seq])
    broken(log_verify(), seq=pending.seq, reason="队列")


def test_moving_a_queue_row_to_an_integrated_entry_is_caught(log10):
    """The counts would balance (one queue row fewer, one stale one more): the orphan is still named."""
    pending = log10[-1]
    sql(f"DELETE FROM {PENDING} WHERE seq = %s", [pending.seq])
    sql(f"INSERT INTO {PENDING} (seq) VALUES (%s)", [log10[0].seq])
    broken(log_verify(), seq=pending.seq, reason="队列")


def test_the_sequencer_drops_stale_queue_rows_and_requeues_orphans(log10):
    from yiwang.core.evidence.sequencer import requeue_orphans

    pending = log10[-1]
    sql(f"INSERT INTO {PENDING} (seq) VALUES (%s)", [log10[0].seq])  # already integrated
    sql(f"DELETE FROM {PENDING} WHERE seq = %s", [pending.seq])  # an orphan
    assert requeue_orphans() == 1
    assert sequencer_run_once() == 1
    assert not EvidencePending.objects.exists()
    assert AuditEntry.objects.get(seq=pending.seq).leaf_index == 13
    assert log_verify().ok


def test_deleting_the_signed_tail_is_caught_by_the_head(log10):
    delete_integrated("leaf_index >= 7")
    broken(log_verify(), index=7, head=10, reason="签名树头覆盖")


def test_deleting_an_entry_and_renumbering_the_rest_is_caught(log10):
    delete_integrated("leaf_index = 4")
    for index in range(5, 13):
        move_leaf(index, index - 1)
    result = log_verify()
    assert not result.ok and result.broken_head == 10


def test_inserting_an_entry_among_integrated_ones_is_caught_and_located(log10):
    for index in range(12, 3, -1):
        move_leaf(index, index + 1)
    with transaction.atomic():
        forged = audit_record(actor=None, action="test.forged")
    sql(f"DELETE FROM {PENDING} WHERE seq = %s", [forged.seq])
    sql(
        f"INSERT INTO {LEAF} (leaf_index, seq, leaf_hash) VALUES (4, %s, %s)",
        [forged.seq, bytes.fromhex(forged.leaf_hash)],
    )
    broken(log_verify(), index=4, seq=forged.seq, head=10, reason="根哈希")


def test_swapping_two_entries_contents_names_the_first(log10):
    a, b = AuditEntry.objects.get(leaf__leaf_index=2), AuditEntry.objects.get(leaf__leaf_index=6)
    forge_column(a.seq, "object_id", "%s", [b.object_id])
    forge_column(b.seq, "object_id", "%s", [a.object_id])
    broken(log_verify(), index=2, seq=a.seq, reason="改写")


def test_reordering_two_entries_positions_is_caught_and_located(log10):
    b = AuditEntry.objects.get(leaf__leaf_index=6)
    move_leaf(2, -5)
    move_leaf(6, 2)
    move_leaf(-5, 6)
    broken(log_verify(), index=2, seq=b.seq, head=10, reason="根哈希")


def test_reordering_inside_a_stored_chunk_is_caught_by_its_node():
    append(300)
    sequencer_run_once()
    b = AuditEntry.objects.get(leaf__leaf_index=200)
    move_leaf(100, -5)
    move_leaf(200, 100)
    move_leaf(-5, 200)
    broken(log_verify(), index=100, seq=b.seq, reason="树节点")


def test_editing_a_stored_node_is_caught():
    append(260)
    sequencer_run_once()
    sql(f"UPDATE {NODE} SET hash = %s", ["ab" * 32])
    broken(log_verify(), index=0, seq=AuditEntry.objects.get(leaf__leaf_index=0).seq, reason="树节点")


@pytest.mark.parametrize(
    "column,value,reason",
    [
        ("root_hash", "'" + "00" * 32 + "'", "签名验证失败"),
        ("signature", "'3045'", "签名验证失败"),
        ("timestamp_ms", "1", "签名验证失败"),
        ("key_id", "'nobody'", "未知的签名密钥"),
        ("tree_size", "11", "签名验证失败"),
    ],
)
def test_editing_a_head_is_caught(log10, column, value, reason):
    sql(f"UPDATE {HEAD} SET {column} = {value}")
    result = log_verify()
    assert not result.ok and reason in result.reason, result.message()
    assert result.broken_head in (10, 11)


def test_deleting_a_head_is_caught_through_its_record_in_the_log(log10):
    sql(f"DELETE FROM {HEAD}")
    result = log_verify()
    assert not result.ok and result.broken_head == 10 and "已被删除或改写" in result.reason


def test_inserting_a_forged_head_is_caught(log10):
    TreeHead.objects.create(
        tree_size=12, root_hash="11" * 32, timestamp_ms=1, key_id="platform-1", signature="30"
    )
    broken(
        log_verify(), index=10, seq=AuditEntry.objects.get(leaf__leaf_index=10).seq, head=12, reason="签名"
    )


def test_a_head_not_consistent_with_its_predecessor_is_caught(log10):
    """A validly signed head over another history (a fork signed with the real key) must not verify."""
    key = keystore()
    fake_root = merkle.node_hash(bytes.fromhex(TreeHead.objects.get().root_hash), b"\x07" * 32)
    payload = merkle.tree_head_payload(13, fake_root, 2)
    TreeHead.objects.create(
        tree_size=13,
        root_hash=fake_root.hex(),
        timestamp_ms=2,
        key_id=key.platform_key_id,
        signature=key.platform_sign(payload).hex(),
    )
    broken(
        log_verify(), index=10, seq=AuditEntry.objects.get(leaf__leaf_index=10).seq, head=13, reason="不一致"
    )


def test_the_sequencer_refuses_to_sign_over_a_tampered_tail(log10, caplog):
    target = AuditEntry.objects.get(leaf__leaf_index=11)
    forge_column(target.seq, "action", "'x'")
    assert tree_head_sign(force=True) is None
    assert tree_head_latest().tree_size == 10
    assert "refused" in caplog.text


@pytest.mark.django_db(transaction=True)
def test_parallel_verify_finds_the_same_first_bad_entry(monkeypatch):
    from yiwang.core.evidence import verify as verify_mod

    monkeypatch.setattr(verify_mod, "RANGE", 256)  # several ranges, so several worker tasks
    append(700)
    sequencer_run_once()
    tree_head_sign(force=True)
    parallel = log_verify(workers=2)
    assert parallel.ok and parallel.workers == 2 and parallel.entries == 700, parallel.message()
    target = AuditEntry.objects.get(leaf__leaf_index=600)
    try:
        forge_column(target.seq, "action", "'x'")
        delete_integrated("leaf_index = 650")
        result = log_verify(workers=2)
        broken(result, index=600, seq=target.seq, reason="改写")
    finally:
        reattach_columns()  # (DDL commits in this test; the flush after it removes the forged row)


# --- migration of the former chain --------------------------------------------------------------------------
@pytest.mark.django_db(transaction=True)
def test_the_former_chain_migrates_to_the_first_leaves_and_verifies():
    executor = MigrationExecutor(connection)
    before = [("core", "0003_registry_changes_supervisor_role")]
    latest = executor.loader.graph.leaf_nodes()
    try:
        executor.migrate(before)
        prev = "0" * 64
        moment = datetime(2026, 1, 1, tzinfo=UTC)
        with connection.cursor() as cursor:
            for seq in range(1, 301):
                at = moment + timedelta(seconds=seq, microseconds=seq)
                after = json_safe({"n": seq, "big": 1e16, "名": "张三"})
                canon = canonical_chain(
                    "test.legacy",
                    "alice",
                    "D1",
                    "::1",
                    after,
                    None,
                    str(seq),
                    "thing",
                    at,
                    prev,
                    "",
                    f"r{seq}",
                    seq,
                )
                digest = crypto.sm3_hex(canon)
                cursor.execute(
                    f"INSERT INTO {ENTRY} (seq, prev_hash, entry_hash, occurred_at, actor_account, actor_department,"
                    " actor_ip, action, object_type, object_id, before, after, purpose, request_id)"
                    " VALUES (%s, %s, %s, %s, 'alice', 'D1', '::1', 'test.legacy', 'thing', %s, NULL, %s, '', %s)",
                    [
                        seq,
                        prev,
                        digest,
                        at if connection.vendor == "postgresql" else at.strftime("%Y-%m-%d %H:%M:%S.%f"),
                        str(seq),
                        json.dumps(after, ensure_ascii=False),
                        f"r{seq}",
                    ],
                )
                prev = digest
        executor = MigrationExecutor(connection)
        executor.migrate(latest)
        result = log_verify(workers=1)
        assert result.ok and result.entries == 300, result.message()
        migrated = list(
            AuditEntry.objects.order_by("leaf__leaf_index").values_list("seq", "leaf__leaf_index", "format")
        )
        assert migrated == [(seq, seq - 1, 1) for seq in range(1, 301)]
        head = TreeHead.objects.get()
        assert head.tree_size == 300 and bytes.fromhex(head.root_hash) == merkle.root_of(leaves())
        first = AuditEntry.objects.get(seq=1)
        assert merkle.leaf_hash(store.entry_canonical(first)).hex() == first.leaf_hash
        assert isinstance(first.uuid, uuid.UUID)
        with transaction.atomic():
            new = audit_record(actor=None, action="test.after_migration")
        assert new.seq == 301  # the database's sequence continues after the migrated entries
        sequencer_run_once()
        assert tree_head_sign(force=True).tree_size == 301
        from yiwang.core.evidence import verify as verify_mod

        # both canonical forms' generated columns pass the row-by-row check (the SQL one on PostgreSQL)
        python_path = verify_mod._verify_range_python
        if connection.vendor == "postgresql":
            verify_mod._verify_range_python = lambda *a: pytest.fail("fell back to Python")
        try:
            assert verify_mod.verify_range(0, 301, rows=True)["problem"] is None
        finally:
            verify_mod._verify_range_python = python_path
        assert log_verify(workers=1).ok
        forge_column(5, "prev_hash", "%s", ["00" * 32])  # a format-1 column only
        broken(log_verify(workers=1), index=4, seq=5, reason="显示字段")
    finally:
        reattach_columns()
        EvidenceLeaf.objects.all().delete()
        EvidencePending.objects.all().delete()
        AuditEntry.objects.all().delete()
        TreeHead.objects.all().delete()
        EvidenceNode.objects.all().delete()
