"""The evidence log's stored tree: canonical entry bytes, subtree hashes and RFC 9162 proofs from the database.

Leaf hashes of integrated entries live in the narrow, insert-only EvidenceLeaf table (leaf_index → entry, leaf
hash); an entry's canonical bytes are stored as written (AuditEntry.canonical); hashes of complete aligned
subtrees of 256 leaves and more (levels >= NODE_LEVEL) live in EvidenceNode, written by the sequencer. Any
subtree hash is then a combination of at most ~2·log2(n) stored nodes and at most 255 leaf hashes per edge, so a
proof over ten million leaves costs two or three indexed queries (every range a proof needs is collected first,
then fetched at once).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from django.db.models import Max, Q

from ..models import AuditEntry, EvidenceLeaf, EvidenceNode, EvidencePending
from . import fasthash, merkle
from .canonical import canonical_from_fields

NODE_LEVEL = 8
CHUNK = 1 << NODE_LEVEL


class ProofError(ValueError):
    """A proof was asked for a tree size that has not been integrated (or indices out of range)."""


def entry_canonical(entry: AuditEntry) -> bytes:
    """The exact bytes whose leaf hash (SM3 over 0x00 ‖ bytes) the entry has in the tree: the canonical bytes
    stored when it was written (log_verify checks they agree with the displayed columns)."""
    if entry.canonical:
        return entry.canonical.encode()
    return canonical_from_fields(
        {
            "format": entry.format,
            "seq": entry.seq,
            "prev_hash": entry.prev_hash,
            "uuid": entry.uuid,
            "occurred_at": entry.occurred_at,
            "actor_account": entry.actor_account,
            "actor_department": entry.actor_department,
            "actor_ip": entry.actor_ip,
            "action": entry.action,
            "object_type": entry.object_type,
            "object_id": entry.object_id,
            "before": entry.before,
            "after": entry.after,
            "purpose": entry.purpose,
            "request_id": entry.request_id,
        }
    )


def integrated_size(using: str = "default") -> int:
    """How many entries the sequencer has integrated (the largest tree size a proof can be asked for)."""
    last = EvidenceLeaf.objects.using(using).aggregate(m=Max("leaf_index"))["m"]
    return 0 if last is None else last + 1


# --- decomposition into stored pieces -----------------------------------------------------------------------
def _pieces(start: int, end: int, out: list) -> None:
    """Splits MTH(D[start:end]) the way RFC 9162 does, down to stored nodes or runs of <= 256 leaves."""
    n = end - start
    if n >= CHUNK and n & (n - 1) == 0 and start % n == 0:
        out.append(("node", n.bit_length() - 1, start >> (n.bit_length() - 1)))
        return
    if n <= CHUNK:
        out.append(("leaves", start, end))
        return
    k = merkle.split_point(n)
    _pieces(start, start + k, out)
    _pieces(start + k, end, out)


class _Fetched:
    """Stored node and leaf hashes for a set of ranges, fetched with one query each."""

    def __init__(self, ranges: Iterable[tuple[int, int]], using: str, leaf_ranges=()):
        pieces: list = []
        for start, end in set(ranges):
            _pieces(start, end, pieces)
        node_keys = {(p[1], p[2]) for p in pieces if p[0] == "node"}
        leaf_ranges = sorted({*leaf_ranges, *((p[1], p[2]) for p in pieces if p[0] == "leaves")})
        self.nodes: dict[tuple[int, int], bytes] = {}
        self.leaves: dict[int, bytes] = {}
        if node_keys:
            query = Q()
            for level, index in node_keys:
                query |= Q(level=level, index=index)
            for level, index, value in (
                EvidenceNode.objects.using(using).filter(query).values_list("level", "index", "hash")
            ):
                self.nodes[(level, index)] = bytes.fromhex(value)
        if leaf_ranges:
            merged: list[list[int]] = []
            for a, b in leaf_ranges:
                if merged and a <= merged[-1][1]:
                    merged[-1][1] = max(merged[-1][1], b)
                else:
                    merged.append([a, b])
            query = Q()
            for a, b in merged:
                query |= Q(leaf_index__gte=a, leaf_index__lt=b)
            for index, value in (
                EvidenceLeaf.objects.using(using).filter(query).values_list("leaf_index", "leaf_hash")
            ):
                self.leaves[index] = bytes(value)
        self.using = using

    def leaf_list(self, start: int, end: int) -> list[bytes]:
        try:
            return [self.leaves[i] for i in range(start, end)]
        except KeyError as exc:
            raise ProofError(f"leaf {exc.args[0]} is not integrated") from exc

    def subtree(self, start: int, end: int) -> bytes:
        n = end - start
        if n < CHUNK or (n == CHUNK and (start % CHUNK or (NODE_LEVEL, start // CHUNK) not in self.nodes)):
            try:
                return fasthash.root_of([self.leaves[i] for i in range(start, end)])
            except KeyError as exc:
                if n == CHUNK:  # a chunk whose node is missing: fetch its leaves
                    return fasthash.root_of(
                        _Fetched([], self.using, leaf_ranges=[(start, end)]).leaf_list(start, end)
                    )
                raise ProofError(f"leaf {exc.args[0]} is not integrated") from exc
        if n & (n - 1) == 0 and start % n == 0:
            level = n.bit_length() - 1
            stored = self.nodes.get((level, start >> level))
            if stored is not None:
                return stored
            # A missing node (never expected): fall back to its two halves, fetched on demand.
            half = n // 2
            more = _Fetched([(start, start + half), (start + half, end)], self.using)
            return fasthash.node_hash(more.subtree(start, start + half), more.subtree(start + half, end))
        k = merkle.split_point(n)
        return fasthash.node_hash(self.subtree(start, start + k), self.subtree(start + k, end))


def _answer(compute: Callable[[merkle.Subtree], object], using: str):
    """Runs a proof algorithm twice: once to learn which ranges it needs, once over the fetched hashes."""
    wanted: list[tuple[int, int]] = []

    def record(start: int, end: int) -> bytes:
        wanted.append((start, end))
        return bytes(32)

    compute(record)
    fetched = _Fetched(wanted, using)
    return compute(fetched.subtree)


def _check_size(tree_size: int, using: str) -> None:
    if tree_size < 0 or tree_size > integrated_size(using):
        raise ProofError("tree size not integrated")


def subtree_hash(start: int, end: int, *, using: str = "default") -> bytes:
    """MTH(D[start:end]) over integrated leaves."""
    if not 0 <= start < end:
        raise ProofError("empty or inverted range")
    return _Fetched([(start, end)], using).subtree(start, end)


def root_at(tree_size: int, *, using: str = "default") -> bytes:
    """The root hash of the tree of the first `tree_size` integrated leaves."""
    _check_size(tree_size, using)
    if tree_size == 0:
        return merkle.EMPTY_ROOT
    return subtree_hash(0, tree_size, using=using)


def inclusion_proof(leaf_index: int, tree_size: int, *, using: str = "default") -> list[bytes]:
    """The audit path of leaf `leaf_index` in the tree of size `tree_size` (RFC 9162 §2.1.3.1)."""
    _check_size(tree_size, using)
    if not 0 <= leaf_index < tree_size:
        raise ProofError("leaf index out of range")
    return _answer(lambda subtree: merkle.inclusion_path(leaf_index, tree_size, subtree), using)


def consistency_proof(first: int, second: int, *, using: str = "default") -> list[bytes]:
    """The consistency proof between tree sizes first <= second (RFC 9162 §2.1.4.1)."""
    _check_size(second, using)
    if not 0 <= first <= second:
        raise ProofError("tree sizes out of order")
    return _answer(lambda subtree: merkle.consistency_path(first, second, subtree), using)


# --- the queue of pending entries ------------------------------------------------------------------------------
QUEUE_TRIGGER = "core_auditentry_queue"


def queue_trigger_sql(vendor: str) -> list[str]:
    """SQL that makes the database queue every inserted AuditEntry in EvidencePending, in the inserting
    transaction (a statement-level trigger on PostgreSQL, so COPY and bulk inserts queue a set at once)."""
    entry, pending = AuditEntry._meta.db_table, EvidencePending._meta.db_table
    if vendor == "postgresql":
        return [
            "CREATE OR REPLACE FUNCTION core_evidence_queue() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            f"INSERT INTO {pending} (seq) SELECT seq FROM yiwang_new_entries; RETURN NULL; END $$",
            f"DROP TRIGGER IF EXISTS {QUEUE_TRIGGER} ON {entry}",
            f"CREATE TRIGGER {QUEUE_TRIGGER} AFTER INSERT ON {entry} REFERENCING NEW TABLE AS yiwang_new_entries "
            "FOR EACH STATEMENT EXECUTE FUNCTION core_evidence_queue()",
        ]
    return [
        f"CREATE TRIGGER IF NOT EXISTS {QUEUE_TRIGGER} AFTER INSERT ON {entry} "
        f"BEGIN INSERT INTO {pending} (seq) VALUES (NEW.seq); END"
    ]


def ensure_queue_trigger(connection, **_kwargs) -> None:
    """(Re)creates the queue trigger; idempotent. Run by the 0004 migration and after every migrate (a SQLite
    table rebuild by a later migration drops a table's triggers)."""
    with connection.cursor() as cursor:
        tables = connection.introspection.table_names(cursor)
        if AuditEntry._meta.db_table not in tables or EvidencePending._meta.db_table not in tables:
            return
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT 1 FROM pg_trigger WHERE tgname = %s AND tgrelid = %s::regclass",
                [QUEUE_TRIGGER, AuditEntry._meta.db_table],
            )
            if cursor.fetchone() is not None:
                return
        for statement in queue_trigger_sql(connection.vendor):
            cursor.execute(statement)


def drop_queue_trigger(connection) -> None:
    """The reverse of ensure_queue_trigger (migrating back below 0004)."""
    entry = AuditEntry._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"DROP TRIGGER IF EXISTS {QUEUE_TRIGGER} ON {entry}")
            cursor.execute("DROP FUNCTION IF EXISTS core_evidence_queue()")
        else:
            cursor.execute(f"DROP TRIGGER IF EXISTS {QUEUE_TRIGGER}")


def ensure_queue_trigger_after_migrate(sender, using="default", **_kwargs) -> None:
    """post_migrate: a later migration that rebuilds core_auditentry on SQLite drops its triggers."""
    from django.db import connections

    ensure_queue_trigger(connections[using])
