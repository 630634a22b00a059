"""The tamper-evident audit chain (安全审计).

`audit_record()` appends inside the caller's transaction: if the change fails, the entry is rolled back with
it; if the append fails, the exception aborts the change. The chain head row is locked for the append, so two
processes never fork the chain. Every N entries (and on demand) the platform's SM2 key signs the head; a
checkpoint is only signed after the entries since the previous checkpoint have been re-verified, so a signature
never launders a tampered tail. `audit_verify()` re-walks everything and names the first broken entry.

What the chain proves: anyone editing, deleting or reordering rows without the platform key is caught —
edits break an entry's hash or the next entry's link, deletions leave a gap or a head/checkpoint that points
past the end. A DBA who rewrites every hash after an edit *and* the head is caught by the first signed
checkpoint at or after the edit; entries after the newest checkpoint are only as safe as the head row, which
is why checkpoints are frequent (settings.YIWANG_AUDIT_CHECKPOINT_EVERY) and hourly (core.tasks).
"""

from __future__ import annotations

import json
import logging
import math
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from decimal import Decimal

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, connections, transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from . import crypto
from .keystore import keystore
from .logging import current_client_ip, current_request_id
from .models import AuditCheckpoint, AuditEntry, AuditHead

log = logging.getLogger("yiwang.audit")

GENESIS_HASH = "0" * 64
SYSTEM_ACTOR = "system"
HEAD_PK = 1

_HASHED_FIELDS = (
    "seq",
    "prev_hash",
    "occurred_at",
    "actor_account",
    "actor_department",
    "actor_ip",
    "action",
    "object_type",
    "object_id",
    "before",
    "after",
    "purpose",
    "request_id",
)
# The canonical form is JSON with sorted keys; building it field by field in this order gives byte-for-byte
# the same text as json.dumps(dict, sort_keys=True) without building a dict per row (verify walks millions).
_SORTED_FIELDS = tuple(sorted(_HASHED_FIELDS))
_WALK_COLUMNS = ("entry_hash", *_SORTED_FIELDS)
_SEQ = 1 + _SORTED_FIELDS.index("seq")
_PREV = 1 + _SORTED_FIELDS.index("prev_hash")
_encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode
_string = json.encoder.encode_basestring  # JSON string literal, ensure_ascii=False flavour


class AuditError(RuntimeError):
    """The chain cannot be appended to or signed (a failure here must abort the change being recorded)."""


class AuditChainBroken(AuditError):
    """Refused to sign a checkpoint over entries that do not verify."""

    def __init__(self, result: VerifyResult):
        super().__init__(result.message())
        self.result = result


# --- canonical form ---------------------------------------------------------------------------------------
def _json_number(value: float):
    """A float as the JSON column gives it back: PostgreSQL jsonb stores numbers as exact decimals, so
    1e16 comes back as the integer 10000000000000000 and -0.0 as 0.0; NaN/Infinity are not JSON at all."""
    if not math.isfinite(value):
        return str(value)
    if value == 0:
        return 0.0
    text = repr(value)
    if "e+" in text:
        return int(Decimal(text))
    return value


def _normalise(value):
    if isinstance(value, float):
        return _json_number(value)
    if isinstance(value, dict):
        return {k: _normalise(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_normalise(v) for v in value]
    return value


def _json_safe(value):
    """Normalise before/after so what is hashed is exactly what the JSON column gives back on every backend."""
    if value is None:
        return None
    return _normalise(json.loads(json.dumps(value, cls=DjangoJSONEncoder, ensure_ascii=False)))


def _iso(moment: datetime) -> str:
    if moment.utcoffset():
        moment = moment.astimezone(UTC)
    # The same text as strftime("%Y-%m-%dT%H:%M:%S.%fZ"), several times faster (verify formats every row).
    return (
        f"{moment.year:04d}-{moment.month:02d}-{moment.day:02d}T{moment.hour:02d}:{moment.minute:02d}:"
        f"{moment.second:02d}.{moment.microsecond:06d}Z"
    )


def _json(value) -> str:
    return "null" if value is None else _encode(value)


def _canonical(
    action, account, department, ip, after, before, object_id, object_type, at, prev, purpose, rid, seq
):
    """The canonical JSON (UTF-8) of one entry, from its hashed values in sorted-field order."""
    return (
        f'{{"action":{_string(action)},"actor_account":{_string(account)},'
        f'"actor_department":{_string(department)},"actor_ip":{_string(ip)},'
        f'"after":{_json(after)},"before":{_json(before)},"object_id":{_string(object_id)},'
        f'"object_type":{_string(object_type)},"occurred_at":"{_iso(at)}","prev_hash":{_string(prev)},'
        f'"purpose":{_string(purpose)},"request_id":{_string(rid)},"seq":{int(seq)}}}'
    ).encode()


def _digest_sorted(values) -> str:
    return crypto.sm3_hex(_canonical(*values))


# --- reading rows for the walk ------------------------------------------------------------------------------
# The walk reads raw database rows instead of going through the ORM's per-row converters, which cost as much
# as the hashing itself; the two conversions that matter are done here, exactly as the model fields do them.
def _from_json_column(value):
    """JSONField.from_db_value: both backends hand jsonb/JSON over as text."""
    if value is None or not isinstance(value, str):
        return value
    try:
        return json.loads(value)
    except json.JSONDecodeError:
        return value  # as the ORM would; it cannot hash to the recorded value, so the row is reported


def _from_datetime_column(value):
    """PostgreSQL gives an aware datetime; SQLite gives the UTC text Django wrote."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    parsed = parse_datetime(value) if isinstance(value, str) else None
    if parsed is None:
        return datetime.min.replace(tzinfo=UTC)  # unparseable text was not written by audit_record
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _digest_row(row: tuple) -> str:
    """The digest of a raw (entry_hash, *sorted hashed fields) row, converted as the model fields would."""
    _, action, account, department, ip, after, before, object_id, object_type, at, prev, purpose, rid, seq = (
        row
    )
    return crypto.sm3_hex(
        _canonical(
            action,
            account,
            department,
            ip,
            _from_json_column(after),
            _from_json_column(before),
            object_id,
            object_type,
            _from_datetime_column(at),
            prev,
            purpose,
            rid,
            seq,
        )
    )


def _raw_rows(queryset) -> list[tuple]:
    sql, params = queryset.values_list(*_WALK_COLUMNS).query.sql_with_params()
    with connections[queryset.db].cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def entry_digest(fields: dict) -> str:
    """SM3 over the canonical JSON of the hashed fields (sorted keys, no whitespace, UTF-8).

    Equal to SM3(json.dumps({f: fields[f] ...}, sort_keys=True, ensure_ascii=False, separators=(",", ":")))
    with occurred_at written as UTC `YYYY-MM-DDTHH:MM:SS.ffffffZ` — an auditor can recompute it with any
    SM3 implementation."""
    return _digest_sorted([fields[name] for name in _SORTED_FIELDS])


# --- append -----------------------------------------------------------------------------------------------
def _actor_fields(actor) -> tuple[str, str]:
    """(account, department code) of whoever acts: a Principal, an Account, a RegisteredSystem, or None."""
    if actor is None:
        return SYSTEM_ACTOR, ""
    if hasattr(actor, "audit_identity"):
        return actor.audit_identity()
    client_id = getattr(actor, "client_id", None)
    if client_id:
        return f"system:{client_id}", getattr(getattr(actor, "department", None), "code", "")
    staff = getattr(actor, "staff", None) if getattr(actor, "kind", "") == "staff" else None
    return actor.get_username(), staff.department.code if staff else ""


def _locked_head() -> AuditHead:
    """The head row, locked until the surrounding transaction ends. Created on the very first append.

    Creation inserts first and checks second: while our uncommitted insert holds the unique key, no other
    appender can create or use a head, so "no entries yet" stays true until we commit. A racing first append
    that lost the insert waits on the winner and then locks the winner's head."""
    head = AuditHead.objects.select_for_update().filter(pk=HEAD_PK).first()
    if head is not None:
        return head
    try:
        with transaction.atomic():
            AuditHead.objects.create(pk=HEAD_PK, last_seq=0, last_hash=GENESIS_HASH)
    except IntegrityError:
        return AuditHead.objects.select_for_update().get(pk=HEAD_PK)
    if AuditEntry.objects.exists():
        # Never re-create a head over existing entries: that would restart at seq 1 and hide the deletion.
        raise AuditError(_("审计链头记录缺失，但已有审计记录：请运行 yiwang audit verify 并排查篡改。"))
    return AuditHead.objects.select_for_update().get(pk=HEAD_PK)


def audit_record(
    *,
    actor,
    action: str,
    object_type: str = "",
    object_id: str = "",
    before: dict | None = None,
    after: dict | None = None,
    purpose: str = "",
) -> AuditEntry:
    """Appends one entry to the chain, in the caller's transaction."""
    account, department = _actor_fields(actor)
    # No savepoint of its own: if the append fails, the caller's whole transaction is marked for rollback,
    # so even a caller that catches the exception cannot commit its change without the audit entry.
    with transaction.atomic(savepoint=False):
        head = _locked_head()
        fields = {
            "seq": head.last_seq + 1,
            "prev_hash": head.last_hash,
            "occurred_at": timezone.now(),
            "actor_account": account[:150],
            "actor_department": department,
            "actor_ip": current_client_ip(),
            "action": str(action),
            "object_type": str(object_type),
            "object_id": str(object_id),
            "before": _json_safe(before),
            "after": _json_safe(after),
            "purpose": str(purpose)[:200],
            "request_id": current_request_id(),
        }
        fields["entry_hash"] = entry_digest(fields)
        entry = AuditEntry.objects.create(**fields)
        head.last_seq, head.last_hash = entry.seq, entry.entry_hash
        head.save(update_fields=["last_seq", "last_hash"])
        every = settings.YIWANG_AUDIT_CHECKPOINT_EVERY
        if every and entry.seq % every == 0:
            try:
                _sign_verified_head(head)
            except AuditChainBroken as exc:
                # The business change still commits (its entry is appended); the tail stays unsigned and
                # every later checkpoint refuses too, until an operator runs `audit verify` and investigates.
                log.error("audit checkpoint refused: %s", exc, extra={"broken_seq": exc.result.broken_seq})
    return entry


# --- checkpoints ------------------------------------------------------------------------------------------
def audit_checkpoint_create(*, actor=None) -> AuditCheckpoint | None:
    """Signs the current head on demand (a no-op on an empty chain or when the head is already signed).

    With an actor (a Principal from a page or the API), the request itself is recorded first ("audit.checkpoint")
    so the new signature covers its own record. Raises AuditChainBroken, signing nothing, when the entries since
    the previous checkpoint do not verify."""
    from .permissions import AUDIT_CHECKPOINT

    if actor is not None and hasattr(actor, "require"):
        actor.require(AUDIT_CHECKPOINT)
    if actor is not None:
        # Committed on its own: a refused signature still leaves a record of who asked.
        with transaction.atomic():
            audit_record(actor=actor, action="audit.checkpoint", object_type="audit_log")
    # Verify the bulk of the segment since the newest checkpoint before taking the head lock, so appends
    # wait only for the few entries written meanwhile.
    walker = _walker_from_newest_checkpoint()
    failure = walker.walk()
    if failure is not None:
        raise AuditChainBroken(failure)
    with transaction.atomic():
        head = AuditHead.objects.select_for_update().filter(pk=HEAD_PK).first()
        if head is None or head.last_seq == 0:
            return None
        return _sign_verified_head(head, walker)


def _checkpoint_payload(seq: int, entry_hash: str) -> bytes:
    return f"yiwang-audit-checkpoint\n{seq}\n{entry_hash}".encode()


def _walker_from_newest_checkpoint() -> _Walker:
    """A walker positioned just after the newest checkpoint (or at genesis), once that checkpoint and the
    entry it signs have been checked: the walk trusts that entry as its starting point."""
    public_keys = _public_keys(keystore())
    newest = AuditCheckpoint.objects.order_by("-seq").first()
    if newest is None:
        return _Walker({}, public_keys)
    rows = _raw_rows(AuditEntry.objects.filter(seq=newest.seq))
    if not rows:
        problem = _("签名检查点所指的记录缺失")
    elif _digest_row(rows[0]) != rows[0][0]:
        problem = _("记录内容与其哈希不符（记录被改写）")
    else:
        problem = _checkpoint_problem(newest, rows[0][0], public_keys)
    if problem:
        raise AuditChainBroken(VerifyResult(False, 0, 0, newest.seq, problem))
    return _Walker({}, public_keys, start_seq=newest.seq, start_hash=newest.entry_hash)


def _sign_verified_head(head: AuditHead, walker: _Walker | None = None) -> AuditCheckpoint:
    """Signs the (locked) head once every entry since the newest checkpoint verifies; returns the existing
    checkpoint when the head is already signed."""
    if AuditCheckpoint.objects.filter(seq__gt=head.last_seq).exists():
        raise AuditChainBroken(
            VerifyResult(False, 0, 0, head.last_seq + 1, _("签名检查点位于链头之后（记录被删除）"))
        )
    walker = walker or _walker_from_newest_checkpoint()
    failure = walker.walk(upto=head.last_seq) or walker.head_problem(head)
    if failure is not None:
        raise AuditChainBroken(failure)
    existing = AuditCheckpoint.objects.filter(seq=head.last_seq).first()
    if existing is not None:
        return existing
    store = keystore()
    signature = store.platform_sign(_checkpoint_payload(head.last_seq, head.last_hash))
    return AuditCheckpoint.objects.create(
        seq=head.last_seq,
        entry_hash=head.last_hash,
        key_id=store.platform_key_id,
        signature=signature.hex(),
        created_at=timezone.now(),
    )


def _public_keys(store) -> dict:
    return {kid: crypto.sm2_load_public(pub) for kid, pub in store.platform_public_keys().items()}


def _checkpoint_problem(checkpoint: AuditCheckpoint, entry_hash: str, public_keys: dict) -> str:
    if checkpoint.entry_hash != entry_hash:
        return _("签名检查点与该条记录的哈希不一致")
    key = public_keys.get(checkpoint.key_id)
    if key is None:
        return _("检查点使用了未知的签名密钥 %(key)s") % {"key": checkpoint.key_id}
    try:
        signature = bytes.fromhex(checkpoint.signature)
    except ValueError:
        return _("检查点签名格式无效")
    if not crypto.sm2_verify(key, signature, _checkpoint_payload(checkpoint.seq, checkpoint.entry_hash)):
        return _("检查点签名验证失败")
    return ""


# --- verify -----------------------------------------------------------------------------------------------
@dataclass
class VerifyResult:
    ok: bool
    entries: int
    checkpoints: int
    broken_seq: int | None = None
    reason: str = ""

    def message(self) -> str:
        if self.ok:
            return _("审计链完整：共 %(entries)s 条记录，%(checkpoints)s 个签名检查点。") % {
                "entries": self.entries,
                "checkpoints": self.checkpoints,
            }
        return _("审计链在第 %(seq)s 条记录处被破坏：%(reason)s") % {
            "seq": self.broken_seq,
            "reason": self.reason,
        }

    def as_dict(self) -> dict:
        return {**asdict(self), "message": self.message()}


class _Walker:
    """Walks entries in seq order from a trusted point, checking contiguity, links, hashes and checkpoints."""

    def __init__(
        self, checkpoints: dict, public_keys: dict, *, start_seq: int = 0, start_hash: str = GENESIS_HASH
    ):
        self.checkpoints = checkpoints
        self.public_keys = public_keys
        self.last_seq, self.last_hash = start_seq, start_hash
        self.entries = 0
        self.signed = 0

    def _fail(self, seq: int, reason: str) -> VerifyResult:
        return VerifyResult(False, self.entries, self.signed, seq, reason)

    def walk(self, *, upto: int | None = None, batch: int = 5000) -> VerifyResult | None:
        """Consumes every entry after last_seq (up to `upto`); returns the first failure or None."""
        # Keyset batches on the unique seq index: constant memory, no long-held cursor; tuples, not models.
        digest, checkpoints = _digest_row, self.checkpoints
        while True:
            query = AuditEntry.objects.filter(seq__gt=self.last_seq)
            if upto is not None:
                query = query.filter(seq__lte=upto)
            rows = _raw_rows(query.order_by("seq")[:batch])
            if not rows:
                return None
            expected_seq, expected_prev = self.last_seq + 1, self.last_hash
            for row in rows:
                seq = row[_SEQ]
                if seq != expected_seq:  # rows come sorted and unique, so seq > expected: a gap
                    self.last_seq, self.last_hash = expected_seq - 1, expected_prev
                    return self._fail(
                        expected_seq,
                        _("第 %(expected)s 条记录缺失（下一条为第 %(seq)s 条）")
                        % {"expected": expected_seq, "seq": seq},
                    )
                if row[_PREV] != expected_prev:
                    return self._fail(seq, _("前序哈希与上一条记录不衔接（记录被删除、调换或改写）"))
                entry_hash = row[0]
                if digest(row) != entry_hash:
                    return self._fail(seq, _("记录内容与其哈希不符（记录被改写）"))
                if seq in checkpoints:
                    problem = _checkpoint_problem(checkpoints[seq], entry_hash, self.public_keys)
                    if problem:
                        return self._fail(seq, problem)
                    self.signed += 1
                expected_seq, expected_prev = seq + 1, entry_hash
                self.entries += 1
            self.last_seq, self.last_hash = expected_seq - 1, expected_prev
            if len(rows) < batch:
                return None

    def head_problem(self, head: AuditHead | None) -> VerifyResult | None:
        last = self.last_seq
        if head is None:
            if last == 0:
                return None
            return self._fail(last, _("审计链头记录缺失"))
        if head.last_seq > last:
            return self._fail(
                last + 1,
                _("链头指向第 %(head)s 条记录，但审计链止于第 %(last)s 条（记录被删除）")
                % {"head": head.last_seq, "last": last},
            )
        if head.last_seq < last:
            return self._fail(
                head.last_seq + 1,
                _("第 %(seq)s 条之后的记录不在链头之内（绕过审计接口写入）") % {"seq": head.last_seq},
            )
        if head.last_hash != self.last_hash:
            return self._fail(last, _("最后一条记录与链头哈希不符（记录或链头被改写）"))
        return None


def audit_verify(*, batch: int = 5000) -> VerifyResult:
    """Re-walks the chain: every hash, every link, the head, and every checkpoint signature.

    Safe while appends continue: checkpoints are read first, and the head is compared only after the walk has
    caught up with it (an append commits its entry and the head together, so a head ahead of the walk with
    no more entries to read means entries were removed)."""
    checkpoints = {cp.seq: cp for cp in AuditCheckpoint.objects.all()}
    walker = _Walker(checkpoints, _public_keys(keystore()))
    # The walk starts after seq 0, so a row planted at seq <= 0 would otherwise never be looked at.
    stray = AuditEntry.objects.filter(seq__lt=1).order_by("seq").values_list("seq", flat=True).first()
    if stray is not None:
        return walker._fail(stray, _("记录序号 %(seq)s 不在审计链内（伪造的记录）") % {"seq": stray})
    failure = walker.walk(batch=batch)
    head = None
    while failure is None:
        head = AuditHead.objects.filter(pk=HEAD_PK).first()
        if head is None or head.last_seq <= walker.last_seq:
            break
        before = walker.last_seq
        failure = walker.walk(batch=batch)
        if failure is None and walker.last_seq == before:
            break
    if failure is not None:
        return failure
    beyond = [s for s in checkpoints if s > walker.last_seq]
    if beyond:
        return walker._fail(
            walker.last_seq + 1,
            _("第 %(cp)s 条有签名检查点，但审计链止于第 %(last)s 条（记录被删除）")
            % {"cp": min(beyond), "last": walker.last_seq},
        )
    failure = walker.head_problem(head)
    if failure is not None:
        return failure
    return VerifyResult(True, walker.entries, walker.signed)
