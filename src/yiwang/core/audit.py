"""The tamper-evident audit chain (安全审计).

`audit_record()` appends inside the caller's transaction: if the change fails, the entry is rolled back with
it; if the append fails, the exception aborts the change. The chain head row is locked for the append, so two
processes never fork the chain. `audit_verify()` re-walks everything and names the first broken entry.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone

from . import crypto
from .keystore import keystore
from .logging import current_client_ip, current_request_id
from .models import AuditCheckpoint, AuditEntry, AuditHead

GENESIS_HASH = "0" * 64
SYSTEM_ACTOR = "system"

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


def _json_safe(value):
    """Normalise before/after so what is hashed is exactly what the JSON column gives back."""
    if value is None:
        return None
    return json.loads(json.dumps(value, cls=DjangoJSONEncoder, ensure_ascii=False))


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def entry_digest(fields: dict) -> str:
    """SM3 over the canonical JSON of the hashed fields (sorted keys, no whitespace, UTF-8)."""
    canonical = {name: fields[name] for name in _HASHED_FIELDS}
    canonical["occurred_at"] = _iso(canonical["occurred_at"])
    payload = json.dumps(canonical, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return crypto.sm3_hex(payload.encode())


def _actor_fields(actor) -> tuple[str, str]:
    """(account, department code) of whoever acts: an Account, a RegisteredSystem, or None for the system."""
    if actor is None:
        return SYSTEM_ACTOR, ""
    if hasattr(actor, "audit_identity"):
        return actor.audit_identity()
    client_id = getattr(actor, "client_id", None)
    if client_id:
        return f"system:{client_id}", getattr(getattr(actor, "department", None), "code", "")
    staff = getattr(actor, "staff", None) if getattr(actor, "kind", "") == "staff" else None
    return actor.get_username(), staff.department.code if staff else ""


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
    with transaction.atomic():
        head = AuditHead.objects.select_for_update().filter(pk=1).first()
        if head is None:
            head = AuditHead.objects.create(pk=1, last_seq=0, last_hash=GENESIS_HASH)
        fields = {
            "seq": head.last_seq + 1,
            "prev_hash": head.last_hash,
            "occurred_at": timezone.now(),
            "actor_account": account[:150],
            "actor_department": department,
            "actor_ip": current_client_ip(),
            "action": action,
            "object_type": object_type,
            "object_id": str(object_id),
            "before": _json_safe(before),
            "after": _json_safe(after),
            "purpose": purpose[:200],
            "request_id": current_request_id(),
        }
        fields["entry_hash"] = entry_digest(fields)
        entry = AuditEntry.objects.create(**fields)
        head.last_seq, head.last_hash = entry.seq, entry.entry_hash
        head.save(update_fields=["last_seq", "last_hash"])
        every = settings.YIWANG_AUDIT_CHECKPOINT_EVERY
        if every and entry.seq % every == 0:
            _checkpoint(entry.seq, entry.entry_hash)
    return entry


def audit_checkpoint_create() -> AuditCheckpoint | None:
    """Signs the current head on demand (a no-op on an empty chain or when the head is already signed)."""
    with transaction.atomic():
        head = AuditHead.objects.select_for_update().filter(pk=1).first()
        if head is None or head.last_seq == 0:
            return None
        existing = AuditCheckpoint.objects.filter(seq=head.last_seq).first()
        return existing or _checkpoint(head.last_seq, head.last_hash)


def _checkpoint_payload(seq: int, entry_hash: str) -> bytes:
    return f"yiwang-audit-checkpoint\n{seq}\n{entry_hash}".encode()


def _checkpoint(seq: int, entry_hash: str) -> AuditCheckpoint:
    store = keystore()
    signature = store.platform_sign(_checkpoint_payload(seq, entry_hash))
    return AuditCheckpoint.objects.create(
        seq=seq,
        entry_hash=entry_hash,
        key_id=store.platform_key_id,
        signature=signature.hex(),
        created_at=timezone.now(),
    )


@dataclass
class VerifyResult:
    ok: bool
    entries: int
    checkpoints: int
    broken_seq: int | None = None
    reason: str = ""

    def message(self) -> str:
        if self.ok:
            return f"audit chain intact: {self.entries} entries, {self.checkpoints} signed checkpoints"
        return f"audit chain broken at entry {self.broken_seq}: {self.reason}"


def _walk(batch: int) -> Iterator[dict]:
    names = ("id", "entry_hash", *_HASHED_FIELDS)
    last = None
    while True:
        query = AuditEntry.objects.order_by("seq")
        if last is not None:
            query = query.filter(seq__gt=last)
        rows = list(query.values(*names)[:batch])
        if not rows:
            return
        yield from rows
        last = rows[-1]["seq"]


def audit_verify(*, batch: int = 5000) -> VerifyResult:
    """Re-walks the chain: every hash, every link, the head, and every checkpoint signature."""
    checkpoints = {cp.seq: cp for cp in AuditCheckpoint.objects.all()}
    public_keys = {kid: crypto.sm2_load_public(pub) for kid, pub in keystore().platform_public_keys().items()}
    expected_prev, expected_seq, count = GENESIS_HASH, 1, 0
    for row in _walk(batch):
        seq = row["seq"]
        if seq != expected_seq:
            return VerifyResult(
                False, count, 0, expected_seq, f"entry {expected_seq} is missing (next is {seq})"
            )
        if row["prev_hash"] != expected_prev:
            return VerifyResult(False, count, 0, seq, "previous-hash link does not match the entry before it")
        if entry_digest(row) != row["entry_hash"]:
            return VerifyResult(False, count, 0, seq, "content does not match its hash (edited)")
        checkpoint = checkpoints.get(seq)
        if checkpoint is not None:
            problem = _checkpoint_problem(checkpoint, row["entry_hash"], public_keys)
            if problem:
                return VerifyResult(False, count, 0, seq, problem)
        expected_prev, expected_seq, count = row["entry_hash"], seq + 1, count + 1
    last_seq = expected_seq - 1
    beyond = [s for s in checkpoints if s > last_seq]
    if beyond:
        return VerifyResult(
            False,
            count,
            0,
            last_seq + 1,
            f"signed checkpoint at {min(beyond)} but the chain ends at {last_seq} (entries removed)",
        )
    head = AuditHead.objects.filter(pk=1).first()
    if head is not None and (head.last_seq != last_seq or head.last_hash != expected_prev):
        return VerifyResult(
            False,
            count,
            0,
            last_seq + 1,
            f"chain head points at entry {head.last_seq} but the chain ends at {last_seq} (entries removed)",
        )
    return VerifyResult(True, count, len(checkpoints))


def _checkpoint_problem(checkpoint: AuditCheckpoint, entry_hash: str, public_keys: dict) -> str:
    if checkpoint.entry_hash != entry_hash:
        return "signed checkpoint does not match the entry"
    key = public_keys.get(checkpoint.key_id)
    if key is None:
        return f"checkpoint signed with unknown key {checkpoint.key_id}"
    signature = bytes.fromhex(checkpoint.signature)
    if not crypto.sm2_verify(key, signature, _checkpoint_payload(checkpoint.seq, checkpoint.entry_hash)):
        return "checkpoint signature is invalid"
    return ""
