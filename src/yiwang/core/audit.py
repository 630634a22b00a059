"""The evidence log's append side (存证 / 安全审计).

`audit_record()` inserts one entry inside the caller's transaction: if the change fails, the entry is rolled
back with it; if the insert fails, the exception aborts the change. The entry's canonical bytes and SM3 leaf hash
are computed here, in the process, from values known at insert time (a fresh UUID, the time, the actor, the
change): no other row is read and no lock is taken, so appends from any number of processes never wait on each
other. The single sequencer (core.evidence.sequencer) later integrates committed entries into the RFC 9162 Merkle
tree and signs tree heads; `core.evidence.verify.log_verify` recomputes everything and names the first bad entry.
"""

from __future__ import annotations

import uuid

from django.db import models, transaction
from django.utils import timezone

from .evidence.canonical import FORMAT_LOG, canonical_log_encoded, json_safe, json_text
from .evidence.fasthash import leaf_hash
from .logging import current_client_ip, current_request_id
from .models import AuditEntry

SYSTEM_ACTOR = "system"


class AuditError(RuntimeError):
    """The log cannot be appended to or signed (a failure here must abort the change being recorded)."""


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


class _EncodedJSON(models.Expression):
    """A JSON column value given as its already-encoded text: the entry's before/after are encoded once, for the
    canonical bytes, and the column stores that same text instead of the JSON field encoding them again."""

    output_field = models.JSONField()

    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text

    def as_sql(self, compiler, connection):
        return "%s", [self.text]

    def as_postgresql(self, compiler, connection):
        return "%s::jsonb", [self.text]


def _column(value, text: str):
    return None if value is None else _EncodedJSON(text)


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
    """Appends one entry to the evidence log, in the caller's transaction (one INSERT; a trigger queues it for the sequencer)."""
    account, department = _actor_fields(actor)
    entry = AuditEntry(
        uuid=uuid.uuid4(),
        format=FORMAT_LOG,
        occurred_at=timezone.now(),
        actor_account=account[:150],
        actor_department=department,
        actor_ip=current_client_ip(),
        action=str(action),
        object_type=str(object_type),
        object_id=str(object_id),
        before=json_safe(before),
        after=json_safe(after),
        purpose=str(purpose)[:200],
        request_id=current_request_id(),
    )
    after, before = entry.after, entry.before
    after_text, before_text = json_text(after), json_text(before)
    canonical = canonical_log_encoded(
        entry.action,
        entry.actor_account,
        entry.actor_department,
        entry.actor_ip,
        after_text,
        before_text,
        entry.object_id,
        entry.object_type,
        entry.occurred_at,
        entry.purpose,
        entry.request_id,
        str(entry.uuid),
    )
    entry.leaf_hash = leaf_hash(canonical).hex()
    # The bytes as hashed: verify re-hashes these, and checks the displayed columns against them.
    entry.canonical = canonical.decode()
    # No savepoint of its own: if the insert fails, the caller's whole transaction is marked for rollback,
    # so even a caller that catches the exception cannot commit its change without the audit entry.
    entry.after, entry.before = _column(after, after_text), _column(before, before_text)
    try:
        with transaction.atomic(savepoint=False):
            entry.save(force_insert=True)
    finally:
        entry.after, entry.before = after, before
    return entry


def audit_verify(**kwargs):
    """Kept for callers of the former chain: the whole log's verification (core.evidence.verify.log_verify)."""
    from .evidence.verify import log_verify

    kwargs.pop("batch", None)
    return log_verify(**kwargs)
