"""The sequencer: integrates committed entries into the Merkle tree and signs tree heads (签名树头).

Exactly one sequencer runs at a time across any number of nodes: `sequencer_loop` holds a PostgreSQL session
advisory lock on a connection of its own (released by the server when the process dies, kill -9 included); on
SQLite, where there is one machine, an exclusive file lock in YIWANG_VAR_DIR. A second sequencer waits as a
standby and takes over when the lock frees.

Integration reads the queue (EvidencePending, filled by a trigger in each inserting transaction) in seq order and
bulk-inserts EvidenceLeaf rows. An entry inserted by a transaction still open is invisible (its queue row too),
so it is simply integrated by a later run after it commits: nothing keeps a "last seq" watermark that a late
commit could fall behind, and nothing is skipped.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
from pathlib import Path

from django.conf import settings
from django.db import connections, transaction
from django.utils import timezone

from ..audit import audit_record
from ..models import AuditEntry, EvidenceLeaf, EvidenceNode, EvidencePending, TreeHead
from . import fasthash, merkle
from .store import CHUNK, NODE_LEVEL, consistency_proof, integrated_size, root_at

log = logging.getLogger("yiwang.evidence")

HEAD_ACTION = "evidence.tree_head"
ADVISORY_LOCK_KEY = 0x59_57_45_56_4C_4F_47  # "YWEVLOG"
BATCH = 10_000
ENTRY = AuditEntry._meta.db_table
LEAF = EvidenceLeaf._meta.db_table
NODE = EvidenceNode._meta.db_table
PENDING = EvidencePending._meta.db_table


# --- integration -----------------------------------------------------------------------------------------------
def _hash_bytes(value: str) -> bytes:
    try:
        raw = bytes.fromhex(value)
    except (TypeError, ValueError):
        raw = b""
    # A malformed stored hash (only by tampering) still gets a place; verify reports the entry.
    return raw if len(raw) == 32 else fasthash.sm3(b"malformed leaf hash " + str(value).encode())


def _queued(cursor, vendor: str, batch: int) -> tuple[list[tuple[int, str]], list[int]]:
    """The next committed queued entries in seq order: [(seq, leaf_hash)], and stale queue rows (the entry is
    gone or already integrated) to drop. Every lookup is by primary key or the leaf's unique seq index, so a
    batch costs the same at ten million leaves as at ten."""
    if vendor == "postgresql":  # index probes, never a hash join over the whole entry or leaf table
        cursor.execute("SET LOCAL enable_hashjoin = off")
        cursor.execute("SET LOCAL enable_mergejoin = off")
    cursor.execute(
        f"SELECT p.seq, e.leaf_hash FROM (SELECT seq FROM {PENDING} ORDER BY seq LIMIT %s) p "
        f"LEFT JOIN {ENTRY} e ON e.seq = p.seq ORDER BY p.seq",
        [batch],
    )
    found = cursor.fetchall()
    seqs = [seq for seq, _h in found]
    integrated: set[int] = set()
    if vendor == "postgresql":
        cursor.execute(f"SELECT seq FROM {LEAF} WHERE seq = ANY(%s)", [seqs])
        integrated = {r[0] for r in cursor.fetchall()}
    else:
        for i in range(0, len(seqs), 500):
            part = seqs[i : i + 500]
            cursor.execute(f"SELECT seq FROM {LEAF} WHERE seq IN ({','.join(['%s'] * len(part))})", part)
            integrated.update(r[0] for r in cursor.fetchall())
    rows, stale = [], []
    for seq, leaf in found:
        if leaf is None or seq in integrated:
            stale.append(seq)
        else:
            rows.append((seq, leaf))
    return rows, stale


def _write_leaves(cursor, vendor: str, rows: list[tuple[int, int, bytes]]) -> None:
    """Inserts (leaf_index, seq, leaf hash) rows: COPY on PostgreSQL, executemany elsewhere."""
    if vendor == "postgresql":
        raw = cursor.cursor  # Django's cursor wraps psycopg's; COPY runs on the same connection/transaction
        with raw.copy(f"COPY {LEAF} (leaf_index, seq, leaf_hash) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
    else:
        cursor.executemany(f"INSERT INTO {LEAF} (leaf_index, seq, leaf_hash) VALUES (%s, %s, %s)", rows)


def _dequeue(cursor, vendor: str, seqs: list[int]) -> None:
    if not seqs:
        return
    if vendor == "postgresql":
        cursor.execute(f"DELETE FROM {PENDING} WHERE seq = ANY(%s)", [seqs])
    else:
        for i in range(0, len(seqs), 500):
            part = seqs[i : i + 500]
            cursor.execute(f"DELETE FROM {PENDING} WHERE seq IN ({','.join(['%s'] * len(part))})", part)


class _Nodes:
    """Writes the level-8 node of each 256-leaf chunk completed, and every complete parent above it."""

    def __init__(self, cursor):
        self.cursor, self.node_table = cursor, NODE
        self.memo: dict[tuple[int, int], bytes] = {}

    def _stored(self, level: int, index: int) -> bytes:
        value = self.memo.get((level, index))
        if value is not None:
            return value
        self.cursor.execute(
            f'SELECT hash FROM {self.node_table} WHERE level = %s AND "index" = %s', [level, index]
        )
        row = self.cursor.fetchone()
        if row is None:  # never expected: rebuild it from below
            value = self._rebuild(level, index)
        else:
            value = bytes.fromhex(row[0])
        self.memo[(level, index)] = value
        return value

    def _rebuild(self, level: int, index: int) -> bytes:
        if level == NODE_LEVEL:
            return fasthash.root_of(self.leaves(index * CHUNK, (index + 1) * CHUNK))
        return fasthash.node_hash(self._stored(level - 1, 2 * index), self._stored(level - 1, 2 * index + 1))

    def leaves(self, start: int, end: int) -> list[bytes]:
        self.cursor.execute(
            f"SELECT leaf_hash FROM {LEAF} WHERE leaf_index >= %s AND leaf_index < %s ORDER BY leaf_index",
            [start, end],
        )
        return [bytes(r[0]) for r in self.cursor.fetchall()]

    def add_chunk(self, chunk_index: int, chunk_leaves: list[bytes]) -> list[tuple[int, int, str]]:
        level, index, value = NODE_LEVEL, chunk_index, fasthash.root_of(chunk_leaves)
        out = []
        while True:
            self.memo[(level, index)] = value
            out.append((level, index, value.hex()))
            if index % 2 == 0:
                return out
            value = fasthash.node_hash(self._stored(level, index - 1), value)
            level, index = level + 1, index // 2

    def write(self, rows: list[tuple[int, int, str]]) -> None:
        if rows:
            self.cursor.executemany(
                f'INSERT INTO {self.node_table} (level, "index", hash) VALUES (%s, %s, %s)', rows
            )


def integrate_pending(*, using: str = "default", batch: int = BATCH) -> int:
    """Integrates every committed queued entry in seq order; returns how many. Per batch: one read of the queue
    (joined to the entries' leaf hashes), one bulk insert of EvidenceLeaf rows, one delete from the queue, and
    the level-8+ nodes completed; the wide AuditEntry rows are never rewritten. (The 0004 migration calls this
    too; the tables have the same names there.)"""
    connection = connections[using]
    vendor = connection.vendor
    total = 0
    while True:
        with transaction.atomic(using=using), connection.cursor() as cursor:
            cursor.execute(f"SELECT MAX(leaf_index) FROM {LEAF}")
            last = cursor.fetchone()[0]
            size = 0 if last is None else last + 1
            rows, stale = _queued(cursor, vendor, batch)
            _dequeue(cursor, vendor, stale)
            if not rows:
                if stale:
                    continue
                return total
            hashes = [_hash_bytes(h) for _s, h in rows]
            _write_leaves(cursor, vendor, [(size + i, seq, hashes[i]) for i, (seq, _h) in enumerate(rows)])
            _dequeue(cursor, vendor, [seq for seq, _h in rows])
            nodes = _Nodes(cursor)
            new_size = size + len(rows)
            first_chunk = size // CHUNK
            pending = nodes.leaves(first_chunk * CHUNK, size) if size % CHUNK else []
            pending += hashes
            written = []
            chunk = first_chunk
            while (chunk + 1) * CHUNK <= new_size:
                offset = (chunk - first_chunk) * CHUNK
                written += nodes.add_chunk(chunk, pending[offset : offset + CHUNK])
                chunk += 1
            nodes.write(written)
        total += len(rows)
        if len(rows) + len(stale) < batch:
            return total


def requeue_orphans(*, using: str = "default") -> int:
    """Queues entries that are neither integrated nor queued (only if the queue trigger was lost, e.g. by a
    SQLite table rebuild); the sequencer loop runs it once when it becomes active. Returns how many."""
    with transaction.atomic(using=using), connections[using].cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {PENDING} (seq) SELECT e.seq FROM {ENTRY} e WHERE NOT EXISTS "
            f"(SELECT 1 FROM {LEAF} l WHERE l.seq = e.seq) AND NOT EXISTS (SELECT 1 FROM {PENDING} p WHERE p.seq = e.seq)"
        )
        count = cursor.rowcount
    if count:
        log.warning("evidence sequencer: queued %s entries that were neither integrated nor queued", count)
    return count


def sequencer_run_once() -> int:
    """Integrates every committed pending entry in id (seq) order; returns how many were integrated."""
    return integrate_pending()


# --- tree heads --------------------------------------------------------------------------------------------------
def tree_head_latest() -> TreeHead | None:
    return TreeHead.objects.order_by("-tree_size").first()


def _now_ms() -> int:
    return int(timezone.now().timestamp() * 1000)


def _new_entries_verify(start: int, end: int) -> str:
    """Re-checks the entries integrated since the last head (leaf hashes, stored canonical bytes, displayed
    columns) before the platform key signs over them."""
    from .verify import range_problem

    return range_problem(start, end) if end > start else ""


def tree_head_sign(*, force: bool = False) -> TreeHead | None:
    """Signs the current tree when SIGN_EVERY entries were integrated since the last head or SIGN_INTERVAL
    passed (force: now, if anything is new). Before signing it re-hashes the entries the new head adds and checks
    the new root is consistent with the previous head, so a signature never covers a tampered tail."""
    from ..keystore import KeystoreError, keystore

    size = integrated_size()
    latest = tree_head_latest()
    previous = latest.tree_size if latest else 0
    if size == 0 or size <= previous:
        if size < previous:
            log.error(
                "evidence log shrank below its last signed head", extra={"size": size, "head": previous}
            )
        return None
    if not force and latest is not None:
        every = settings.YIWANG_EVIDENCE_SIGN_EVERY
        interval_ms = settings.YIWANG_EVIDENCE_SIGN_INTERVAL_SECONDS * 1000
        if not (every and size - previous >= every) and _now_ms() - latest.timestamp_ms < interval_ms:
            return None
        if size - previous == 1 and _only_head_record(previous):
            return None  # an idle log: the one new leaf is the record of the previous head
    problem = _new_entries_verify(previous, size)
    root = root_at(size)
    if not problem and latest is not None:
        path = consistency_proof(previous, size)
        if not merkle.verify_consistency(previous, size, bytes.fromhex(latest.root_hash), root, path):
            problem = f"tree of size {size} is not consistent with the head of size {previous}"
    if problem:
        log.error("evidence log: refused to sign a tree head: %s", problem)
        return None
    try:
        store = keystore()
    except KeystoreError:
        log.warning("evidence log: no platform key yet, tree head not signed")
        return None
    timestamp_ms = max(_now_ms(), latest.timestamp_ms if latest else 0)
    signature = store.platform_sign(merkle.tree_head_payload(size, root, timestamp_ms))
    fields = {
        "root_hash": root.hex(),
        "timestamp_ms": timestamp_ms,
        "key_id": store.platform_key_id,
        "signature": signature.hex(),
    }
    with transaction.atomic():
        head, created = TreeHead.objects.get_or_create(tree_size=size, defaults=fields)
        if created:
            # The log records its own heads: deleting or rewriting a head later is caught by verify.
            audit_record(
                actor=None,
                action=HEAD_ACTION,
                object_type="tree_head",
                object_id=str(size),
                after={"tree_size": size, **fields},
            )
    log.info("evidence tree head signed", extra={"tree_size": size, "root": root.hex()})
    return head


def _only_head_record(leaf_index: int) -> bool:
    return EvidenceLeaf.objects.filter(leaf_index=leaf_index, entry__action=HEAD_ACTION).exists()


# --- the single active sequencer ---------------------------------------------------------------------------------
class SequencerLock:
    """The one-sequencer lock: a PostgreSQL session advisory lock on a dedicated connection, or a file lock."""

    def __init__(self, using: str = "default"):
        self.using = using
        self._connection = None
        self._file = None

    @property
    def vendor(self) -> str:
        return connections[self.using].vendor

    def acquire(self) -> bool:
        if self.vendor == "postgresql":
            if self._connection is None:
                self._connection = connections.create_connection(self.using)
            with self._connection.cursor() as cursor:
                cursor.execute("SELECT pg_try_advisory_lock(%s)", [ADVISORY_LOCK_KEY])
                return bool(cursor.fetchone()[0])
        import fcntl

        path = Path(settings.VAR_DIR) / "evidence-sequencer.lock"
        path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(path, "a+")  # noqa: SIM115 - held open while the lock is held
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.close()
            return False
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        self._file = handle
        return True

    def held(self) -> bool:
        """Still ours? (A lost lock connection means another sequencer may already have taken over.)"""
        if self._file is not None:
            return True
        if self._connection is None:
            return False
        try:
            with self._connection.cursor() as cursor:
                cursor.execute(
                    "SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid() AND granted "
                    "AND objid = %s",
                    [ADVISORY_LOCK_KEY & 0xFFFFFFFF],
                )
                return cursor.fetchone() is not None
        except Exception:  # noqa: BLE001 - the connection is gone, and the lock with it
            self.release()
            return False

    def release(self) -> None:
        if self._file is not None:
            with contextlib.suppress(OSError):
                self._file.close()
            self._file = None
        if self._connection is not None:
            # Unlock before closing: the server ends a closed session asynchronously, so a lock left to the close
            # may still be held when the next sequencer (a standby, or this process again) asks for it.
            with contextlib.suppress(Exception), self._connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock_all()")
            with contextlib.suppress(Exception):
                self._connection.close()
            self._connection = None


def sequencer_step() -> int:
    """One round of the loop: integrate, then sign when due."""
    count = sequencer_run_once()
    tree_head_sign()
    return count


def sequencer_loop(
    *, interval: float = 1.0, stop: threading.Event | None = None, max_rounds: int | None = None
) -> None:
    """Runs the sequencer until `stop` is set: integrates every `interval` seconds and signs when due, while it
    holds the single-sequencer lock; otherwise waits as a standby and retries."""
    stop = stop or threading.Event()
    lock = SequencerLock()
    standby_logged = False
    rounds = 0
    try:
        while not stop.is_set():
            rounds += 1
            if max_rounds is not None and rounds > max_rounds:
                return
            try:
                if not lock.held():
                    if not lock.acquire():
                        if not standby_logged:
                            log.info("evidence sequencer: another sequencer holds the lock; standing by")
                            standby_logged = True
                        stop.wait(interval)
                        continue
                    log.info("evidence sequencer: active", extra={"pid": os.getpid()})
                    requeue_orphans()
                    standby_logged = False
                started = time.monotonic()
                count = sequencer_step()
                if count:
                    log.debug("evidence sequencer integrated", extra={"count": count})
            except Exception:  # noqa: BLE001 - a database hiccup must not end the loop
                log.exception("evidence sequencer round failed")
                connections["default"].close()
                started = time.monotonic()
            stop.wait(max(0.0, interval - (time.monotonic() - started)))
    finally:
        lock.release()
        connections["default"].close()
