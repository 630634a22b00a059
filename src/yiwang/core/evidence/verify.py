"""`log_verify`: recomputes the evidence log from the rows and checks it against the stored tree and the signed heads.

1. Every integrated entry, by leaf index in ranges (in parallel worker processes): the leaf indices are 0..n-1
   without a gap; each entry's leaf hash is recomputed (SM3) from its stored canonical bytes and compared with
   the tree's leaf hash and the entry's copy; the displayed columns (action, actor, object, before/after,
   occurred_at, ...) must say exactly what the canonical bytes say; the level-8 hash of every 256-leaf chunk is
   computed from the recomputed leaves. On PostgreSQL a range is one binary COPY (canonical bytes, leaf hash,
   and a boolean computed in SQL: the columns agree with the canonical JSON, see _COLUMNS_AGREE), hashed with
   hashlib's SM3. Where that cannot decide exactly (SQLite; a missing leaf or entry row; canonical text the SQL
   cannot parse) the range takes the Python path: the canonical bytes are rebuilt from the columns and
   compared byte for byte, as the old chain did. (Known difference: the SQL compares before/after as jsonb
   values, so a rewrite of a number in before/after that keeps its value, 1 → 1.0, is not reported on
   PostgreSQL; every other change of a displayed column is.)
2. The tree: every stored node (levels >= 8) equals the node recomputed from below (moved, inserted or deleted
   leaves change them; so does editing a node).
3. Every signed tree head: its SM2 signature (platform key by key_id), its root equals the recomputed root at its
   size, and it is consistent (RFC 9162 consistency proof) with the head before it. Heads recorded in the log
   itself (the sequencer appends an "evidence.tree_head" entry for each) must still exist unchanged: a deleted
   head is caught too.
4. Every pending entry: its stored leaf hash equals the hash of its canonical bytes, which equal the bytes
   rebuilt from its columns; an entry neither integrated nor queued is reported (its queue row was deleted).

The first problem is named by the leaf index and seq of the first bad entry. Where only a subtree or a head
disagrees (entries moved, inserted or removed with their hashes kept consistent), the first entry of the smallest
range that disagrees is named, narrowed to the first entry out of integration order when there is one.
"""

from __future__ import annotations

import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field

from django.db import connections, transaction
from django.utils.translation import gettext as _

from .. import crypto
from ..models import AuditEntry, EvidenceLeaf, EvidenceNode, EvidencePending, TreeHead
from . import fasthash, merkle
from .canonical import RAW_COLUMNS, canonical_from_row
from .store import CHUNK, NODE_LEVEL

RANGE = 1 << 16  # leaves per worker task (a multiple of CHUNK)
from .sequencer import HEAD_ACTION  # noqa: E402


@dataclass
class VerifyResult:
    ok: bool
    entries: int
    heads: int
    broken_index: int | None = None
    broken_seq: int | None = None
    broken_head: int | None = None
    reason: str = ""
    pending: int = 0
    workers: int = field(default=1, compare=False)

    def message(self) -> str:
        if self.ok:
            return _(
                "存证日志完整：%(entries)s 条已上链记录，%(pending)s 条待上链，%(heads)s 个签名树头均验证通过。"
            ) % {
                "entries": self.entries,
                "pending": self.pending,
                "heads": self.heads,
            }
        if self.broken_seq is not None:
            where = _("第 %(seq)s 条记录（叶子序号 %(index)s）") % {
                "seq": self.broken_seq,
                "index": "—" if self.broken_index is None else self.broken_index,
            }
        elif self.broken_index is not None:
            where = _("叶子序号 %(index)s") % {"index": self.broken_index}
        else:
            where = _("树大小为 %(size)s 的签名树头") % {"size": self.broken_head}
        return _("存证日志在%(where)s处被破坏：%(reason)s") % {"where": where, "reason": self.reason}

    def as_dict(self) -> dict:
        data = asdict(self)
        data.pop("workers", None)
        return {**data, "message": self.message()}


# --- worker side -----------------------------------------------------------------------------------------------
ENTRY = AuditEntry._meta.db_table
LEAF = EvidenceLeaf._meta.db_table
PENDING = EvidencePending._meta.db_table

# PostgreSQL: whether the displayed columns say exactly what the stored canonical bytes say, computed next to the
# rows (the canonical JSON is parsed once per row by json_to_record). Strings compare exactly, occurred_at in the
# canonical text format (UTC, microseconds, "Z"), before/after as jsonb values (JSON null = SQL NULL), the
# format-specific keys (format 2: format, uuid; format 1: seq, prev_hash). (Rebuilding the canonical text from
# the columns in SQL instead was measured: slower, to_json/to_char/length per field cost more than one parse.)
_CANONICAL_RECORD = (
    "json_to_record(e.canonical::json) AS c(action text, actor_account text, actor_department text, "
    "actor_ip text, after jsonb, before jsonb, format int, object_id text, object_type text, occurred_at text, "
    "prev_hash text, purpose text, request_id text, seq bigint, uuid text)"
)
_COLUMNS_AGREE = (
    "(e.format IN (1, 2) AND (c.action, c.actor_account, c.actor_department, c.actor_ip, c.object_id, "
    "c.object_type, c.purpose, c.request_id, c.occurred_at, c.format, c.uuid, c.seq, c.prev_hash) "
    "IS NOT DISTINCT FROM (e.action, e.actor_account, e.actor_department, e.actor_ip, e.object_id, "
    "e.object_type, e.purpose, e.request_id, "
    """to_char(e.occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'), """
    "CASE WHEN e.format = 2 THEN 2 END, CASE WHEN e.format = 2 THEN e.uuid::text END, "
    "CASE WHEN e.format = 1 THEN e.seq END, CASE WHEN e.format = 1 THEN e.prev_hash END) "
    "AND c.after IS NOT DISTINCT FROM NULLIF(e.after, 'null'::jsonb) "
    "AND c.before IS NOT DISTINCT FROM NULLIF(e.before, 'null'::jsonb))"
)
# The plan wanted per range: walk the leaf primary key, fetch each entry by its primary key (no hash join that
# reads the whole entry table, no parallel workers, no JIT compile per range).
_SESSION = (
    "SET LOCAL enable_hashjoin = off",
    "SET LOCAL enable_mergejoin = off",
    "SET LOCAL max_parallel_workers_per_gather = 0",
    "SET LOCAL jit = off",
)


def _range_sql(start: int, end: int) -> str:
    return (
        f"COPY (SELECT e.canonical, l.leaf_hash, COALESCE({_COLUMNS_AGREE} "
        f"AND e.leaf_hash = encode(l.leaf_hash, 'hex'), false) "
        f"FROM {LEAF} l JOIN {ENTRY} e ON e.seq = l.seq CROSS JOIN LATERAL {_CANONICAL_RECORD} "
        f"WHERE l.leaf_index >= {int(start)} AND l.leaf_index < {int(end)} ORDER BY l.leaf_index) "
        "TO STDOUT (FORMAT BINARY)"
    )


_COPY_SIGNATURE = b"PGCOPY\n\xff\r\n\x00"


def _result(start: int, end: int, leaves: list[bytes], problem, needed: frozenset) -> dict:
    chunks = []
    edge = {}
    for offset in range(0, end - start, CHUNK):
        part = leaves[offset : offset + CHUNK]
        chunk = (start + offset) // CHUNK
        if len(part) == CHUNK:
            chunks.append(fasthash.root_of(part))
        if chunk in needed:
            edge[chunk] = part
    return {"start": start, "chunks": chunks, "edge": edge, "problem": problem}


def _verify_range_postgres(start: int, end: int, needed: frozenset) -> dict | None:
    """The fast path: one binary COPY of (canonical bytes, tree leaf hash, columns agree) in leaf order, each
    row's fields sliced from the COPY message, SM3 in C (hashlib) over the stored bytes. None when the range
    needs the exact Python path (a leaf missing, an entry row gone, canonical text the SQL cannot parse, or an
    unexpected row shape): that path then names the problem."""
    import psycopg

    conn = connections["default"]
    conn.ensure_connection()
    base = fasthash.leaf_hasher()
    leaves: list[bytes] = []
    append = leaves.append
    problem = None
    size = int.from_bytes
    try:
        with transaction.atomic(), conn.connection.cursor() as cursor:
            for statement in _SESSION:
                cursor.execute(statement)
            with cursor.copy(_range_sql(start, end)) as copy:
                first, odd = True, False
                for message in copy:  # (read to the end: COPY must finish before the connection is reused)
                    data = bytes(message)
                    if odd:
                        continue
                    if first:  # the file header precedes the first row
                        first = False
                        if not data.startswith(_COPY_SIGNATURE):
                            odd = True
                            continue
                        data = data[19 + size(data[15:19]) :]
                    if data == b"\xff\xff":  # trailer
                        continue
                    # row: int16 field count (3), then per field int32 length + bytes
                    n = size(data[2:6], signed=True)
                    if data[:2] != b"\x00\x03" or n < 0:
                        odd = True
                        continue
                    canonical = data[6 : 6 + n]
                    stored = data[10 + n : 42 + n]
                    agree = data[46 + n : 47 + n] == b"\x01"
                    h = base.copy()
                    h.update(canonical)
                    digest = h.digest()
                    if digest != stored or not agree:
                        if size(data[6 + n : 10 + n]) != 32 or len(data) != 47 + n:
                            odd = True
                            continue
                        if problem is None:
                            index = start + len(leaves)
                            problem = (index, None, "edited" if digest != stored else "columns")
                        if digest != stored:
                            digest = stored  # the tree is checked over the stored leaf hashes (see below)
                    append(digest)
    except psycopg.Error:
        return None
    if odd or len(leaves) != end - start:
        return None
    return _result(start, end, leaves, problem, needed)


def _verify_range_python(start: int, end: int, needed: frozenset) -> dict:
    """The exact path (SQLite, and PostgreSQL ranges the fast path hands over): reads every column and rebuilds
    the canonical bytes from them in Python, compares them with the stored bytes and the leaf hashes."""
    columns = ", ".join(f"e.{c}" for c in RAW_COLUMNS)
    with connections["default"].cursor() as cursor:
        cursor.execute(
            f"SELECT l.leaf_index, l.leaf_hash, e.canonical, {columns} FROM {LEAF} l LEFT JOIN {ENTRY} e "
            "ON e.seq = l.seq WHERE l.leaf_index >= %s AND l.leaf_index < %s ORDER BY l.leaf_index",
            [start, end],
        )
        rows = cursor.fetchall()
    leaf = fasthash.leaf_hash
    leaves: list[bytes] = []
    problem = None
    expected = start
    for row in rows:
        index, stored, canonical, raw = row[0], bytes(row[1]), row[2], row[3:]
        if index != expected:
            if problem is None:
                problem = (expected, None, "missing")
            while expected < index:  # fill the hole so the tree stays aligned; the range already failed
                leaves.append(bytes(32))
                expected += 1
        if raw[0] is None:  # the entry row itself was deleted
            if problem is None:
                problem = (index, None, "missing")
            leaves.append(stored)
            expected += 1
            continue
        data = canonical.encode() if isinstance(canonical, str) else bytes(canonical or b"")
        digest = leaf(data)
        kind = None
        if digest != stored:
            kind = "edited"
        elif raw[1] != stored.hex() or canonical_from_row(raw) != data:
            kind = "columns"
        if kind is not None:
            if problem is None:
                problem = (index, raw[0], kind)
            if kind == "edited" and len(stored) == 32:
                digest = stored
        leaves.append(digest)
        expected += 1
    if expected < end and problem is None:
        problem = (expected, None, "missing")
    while expected < end:
        leaves.append(bytes(32))
        expected += 1
    return _result(start, end, leaves, problem, needed)


def verify_range(start: int, end: int, needed: frozenset = frozenset()) -> dict:
    """Recomputes leaves [start, end): level-8 chunk hashes, leaves of the needed edge chunks, and the first
    problem (leaf index, seq or None, kind: edited / columns / missing)."""
    if connections["default"].vendor == "postgresql":
        result = _verify_range_postgres(start, end, needed)
        if result is not None:
            return result
    return _verify_range_python(start, end, needed)


def range_problem(start: int, end: int) -> str:
    """'' when the integrated entries [start, end) are all present and agree with their leaf hashes and their
    displayed columns; else a description (tree_head_sign checks the entries a new head adds)."""
    problem = verify_range(start, end)["problem"]
    if problem is None:
        return ""
    index, _seq, kind = problem
    return f"leaf {index}: {kind}"


def _orphans() -> list[int]:
    """Entries neither integrated nor queued. In one snapshot: the entries must number the tree's leaves plus the
    queue rows of entries that exist and are not integrated (the range checks establish that leaves 0..n-1 each
    have their own entry); only if not are the orphans looked for, by an anti-join."""
    with connections["default"].cursor() as cursor:
        cursor.execute(
            f"SELECT (SELECT COUNT(*) FROM {ENTRY}), (SELECT COALESCE(MAX(leaf_index) + 1, 0) FROM {LEAF}), "
            f"(SELECT COUNT(*) FROM {PENDING} p WHERE EXISTS (SELECT 1 FROM {ENTRY} e WHERE e.seq = p.seq) "
            f"AND NOT EXISTS (SELECT 1 FROM {LEAF} l WHERE l.seq = p.seq))"
        )
        entries, integrated, queued = cursor.fetchone()
        if entries == integrated + queued:
            return []
        cursor.execute(
            f"SELECT e.seq FROM {ENTRY} e WHERE NOT EXISTS (SELECT 1 FROM {LEAF} l WHERE l.seq = e.seq) "
            f"AND NOT EXISTS (SELECT 1 FROM {PENDING} p WHERE p.seq = e.seq) ORDER BY e.seq LIMIT 100"
        )
        return [r[0] for r in cursor.fetchall()]


def _task(kind: str, start: int = 0, end: int = 0, needed: frozenset = frozenset()):
    if kind == "orphans":
        return _orphans()
    return verify_range(start, end, needed)


def _worker_init() -> None:
    # Connections inherited over fork were closed in the parent first; each worker opens its own.
    for conn in connections.all(initialized_only=True):
        conn.connection = None


def _run_ranges(size: int, needed: frozenset, workers: int) -> tuple[list[dict], list[int], int]:
    ranges = [(a, min(a + RANGE, size)) for a in range(0, size, RANGE)]
    conn = connections["default"]
    memory_sqlite = conn.vendor == "sqlite" and conn.is_in_memory_db()
    if workers <= 1 or len(ranges) <= 1 or conn.in_atomic_block or memory_sqlite:
        return [verify_range(a, b, needed) for a, b in ranges], _orphans(), 1
    connections.close_all()
    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context, initializer=_worker_init) as pool:
        orphans = pool.submit(_task, "orphans")
        futures = [pool.submit(_task, "range", a, b, needed) for a, b in ranges]
        results = [f.result() for f in futures]
        orphan_list = orphans.result()
    return results, orphan_list, workers


def _descents(limit: int = 1000) -> list[int]:
    """Leaf indices i where the entry at i+1 was written before the one at i (out of integration order)."""
    with connections["default"].cursor() as cursor:
        cursor.execute(
            f"SELECT leaf_index - 1 FROM (SELECT leaf_index, seq, LAG(seq) OVER (ORDER BY leaf_index) AS p "
            f"FROM {LEAF}) s WHERE seq < p ORDER BY leaf_index LIMIT %s",
            [limit],
        )
        return [r[0] for r in cursor.fetchall()]


# --- the whole log -------------------------------------------------------------------------------------------------
class _Failure:
    """Collects problems; an exact one (an entry named by its own check) wins over a problem only located to a
    range (a node or head that disagrees) when that range contains it."""

    def __init__(self):
        self.problems: list[tuple] = []  # (index or inf, rank, range_end, broken_index, seq, head, reason)

    def add(
        self,
        index: int | None,
        seq: int | None,
        head: int | None,
        reason: str,
        rank: int = 0,
        end: int | None = None,
    ) -> None:
        key = index if index is not None else float("inf")
        self.problems.append((key, rank, end if end is not None else key, index, seq, head, reason))

    @property
    def found(self) -> tuple | None:
        if not self.problems:
            return None
        exact = [p for p in self.problems if p[1] == 0]
        first_exact = min((p[0] for p in exact), default=float("inf"))
        kept = exact + [
            p for p in self.problems if p[1] != 0 and (p[2] <= first_exact or p[0] == float("inf"))
        ]
        if not kept:
            kept = exact
        best = min(kept, key=lambda p: (p[0], p[1]))
        return (None, *best[3:])


def _public_keys() -> dict:
    from ..keystore import KeystoreError, keystore

    try:
        return {kid: crypto.sm2_load_public(pub) for kid, pub in keystore().platform_public_keys().items()}
    except KeystoreError:
        return {}


def _seq_at(index: int) -> int | None:
    return EvidenceLeaf.objects.filter(leaf_index=index).values_list("entry_id", flat=True).first()


def log_verify(*, workers: int | None = None) -> VerifyResult:
    """Verifies the whole evidence log (entries, tree, signed heads, pending entries); see the module doc."""
    workers = workers or os.cpu_count() or 1
    heads = list(TreeHead.objects.order_by("tree_size"))  # before the size: a head never exceeds a later size
    last = EvidenceLeaf.objects.order_by("-leaf_index").values_list("leaf_index", flat=True).first()
    size = 0 if last is None else last + 1
    failure = _Failure()
    stray = EvidenceLeaf.objects.filter(leaf_index__lt=0).order_by("leaf_index").first()
    if stray is not None:
        failure.add(stray.leaf_index, stray.entry_id, None, _("叶子序号为负（伪造的记录）"))

    sizes = [h.tree_size for h in heads if 0 < h.tree_size <= size]
    needed = frozenset((s - 1) // CHUNK for s in [*sizes, size] if s % CHUNK)
    results, orphans, used = _run_ranges(size, needed, workers)
    if used > 1:
        connections.close_all()

    level8: list[bytes] = []
    edges: dict[int, list[bytes]] = {}
    for result in sorted(results, key=lambda r: r["start"]):
        level8 += result["chunks"]
        edges.update(result["edge"])
        if result["problem"] is not None:
            index, seq, kind = result["problem"]
            if kind == "edited":
                failure.add(index, seq, None, _("记录内容与其叶子哈希不符（记录被改写）"))
            elif kind == "columns":
                failure.add(index, seq, None, _("记录的显示字段与其存证内容不符（记录被改写）"))
            else:
                failure.add(index, None, None, _("叶子 %(index)s 缺失（记录被删除）") % {"index": index})

    descents: list[int] = []

    def located(start: int, end: int) -> int:
        """The first entry of [start, end) out of integration order, else the range's first entry."""
        if not descents:
            descents.extend(_descents() or [-1])  # read only when a node or head disagrees
        for d in descents:
            if start <= d < end:
                return d
        return start

    # --- the stored nodes against the recomputed ones ---
    computed: dict[tuple[int, int], bytes] = {}
    level, row = NODE_LEVEL, level8
    while row:
        for i, value in enumerate(row):
            computed[(level, i)] = value
        row = [fasthash.node_hash(row[i], row[i + 1]) for i in range(0, len(row) - 1, 2)]
        level += 1
    stored = {(lv, ix): h for lv, ix, h in EvidenceNode.objects.values_list("level", "index", "hash")}
    for (lv, ix), value in computed.items():
        have = stored.get((lv, ix))
        if have != value.hex():
            start, end = ix << lv, (ix + 1) << lv
            text = (
                _("已存储的树节点缺失")
                if have is None
                else _("第 %(a)s–%(b)s 片叶子与已存储的树节点不符（记录被调换、插入或删除，或节点被改写）")
            )
            failure.add(located(start, end), None, None, text % {"a": start, "b": end - 1}, rank=1, end=end)
    for lv, ix in stored:
        if lv < NODE_LEVEL or ((ix + 1) << lv) <= size and (lv, ix) not in computed:
            failure.add(ix << lv if lv >= 0 else 0, None, None, _("多出的树节点（伪造）"), rank=1)

    def subtree(start: int, end: int) -> bytes:
        n = end - start
        if n >= CHUNK and n & (n - 1) == 0 and start % n == 0:
            return computed[(n.bit_length() - 1, start >> (n.bit_length() - 1))]
        if n <= CHUNK:
            chunk = start // CHUNK
            part = edges.get(chunk)
            if part is None:  # a full chunk used as a piece of a smaller range never happens; stay correct
                raise KeyError(chunk)
            return fasthash.root_of(part[start - chunk * CHUNK : end - chunk * CHUNK])
        k = merkle.split_point(n)
        return fasthash.node_hash(subtree(start, start + k), subtree(start + k, end))

    # --- the signed heads ---
    keys = _public_keys()
    good_size = 0
    previous = None
    seen = {}
    for head in heads:
        seen[head.tree_size] = head
        problem = ""
        if head.tree_size <= 0:
            problem = _("树大小无效")
        elif head.tree_size > size:
            failure.add(
                size,
                None,
                head.tree_size,
                _("签名树头覆盖 %(n)s 片叶子，但日志只有 %(size)s 片（记录被删除）")
                % {"n": head.tree_size, "size": size},
            )
            break
        key = keys.get(head.key_id)
        if not problem and key is None:
            problem = _("树头使用了未知的签名密钥 %(key)s") % {"key": head.key_id}
        if not problem:
            try:
                root = bytes.fromhex(head.root_hash)
                signature = bytes.fromhex(head.signature)
            except ValueError:
                problem = _("树头的哈希或签名格式无效")
            else:
                payload = merkle.tree_head_payload(head.tree_size, root, head.timestamp_ms)
                if not crypto.sm2_verify(key, signature, payload):
                    problem = _("树头签名验证失败")
        if not problem and previous is not None:
            path = merkle.consistency_path(previous.tree_size, head.tree_size, subtree)
            if not merkle.verify_consistency(
                previous.tree_size, head.tree_size, bytes.fromhex(previous.root_hash), root, path
            ):
                problem = _("与前一个签名树头（大小 %(size)s）不一致") % {"size": previous.tree_size}
        if not problem and subtree(0, head.tree_size) != root:
            problem = _("根哈希与重算的默克尔树不一致")
        if problem:
            failure.add(
                located(good_size, head.tree_size), None, head.tree_size, problem, rank=2, end=head.tree_size
            )
            break
        good_size, previous = head.tree_size, head

    # Heads the log itself recorded must still be there, unchanged.
    for after in AuditEntry.objects.filter(action=HEAD_ACTION).values_list("after", flat=True):
        if not isinstance(after, dict):
            continue
        tree_size = after.get("tree_size")
        head = seen.get(tree_size)
        if (
            head is None
            or head.root_hash != after.get("root_hash")
            or head.signature != after.get("signature")
        ):
            failure.add(
                min(int(tree_size or 0), size),
                None,
                tree_size,
                _("存证日志记录过的签名树头已被删除或改写"),
                rank=3,
            )

    # --- pending entries (queued, and any entry neither integrated nor queued) ---
    pending = 0
    columns = ", ".join(f"e.{c}" for c in RAW_COLUMNS)
    with connections["default"].cursor() as cursor:
        cursor.execute(
            f"SELECT e.canonical, {columns} FROM {PENDING} p JOIN {ENTRY} e ON e.seq = p.seq "
            f"WHERE NOT EXISTS (SELECT 1 FROM {LEAF} l WHERE l.seq = p.seq) ORDER BY e.seq"
        )
        for row in cursor.fetchall():
            pending += 1
            canonical, raw = row[0], row[1:]
            data = canonical.encode() if isinstance(canonical, str) else bytes(canonical or b"")
            if fasthash.leaf_hash(data).hex() != raw[1] or canonical_from_row(raw) != data:
                failure.add(None, raw[0], None, _("待上链记录的内容与其叶子哈希不符（记录被改写）"), rank=4)
    for seq in orphans:
        failure.add(None, seq, None, _("记录既未上链也不在待上链队列中（队列被改动）"), rank=4)

    if failure.found is not None:
        _key, index, seq, head_size, reason = failure.found
        if seq is None and index is not None and 0 <= index < size:
            seq = _seq_at(index)
        return VerifyResult(False, size, len(heads), index, seq, head_size, reason, pending, used)
    return VerifyResult(True, size, len(heads), pending=pending, workers=used)
