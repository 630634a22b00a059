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

from django.db import connection, transaction
from django.utils import timezone

from .evidence.canonical import FORMAT_LOG, canonical_log_encoded, json_safe, json_text
from .evidence.fasthash import leaf_hash
from .logging import current_client_ip, current_request_id
from .models import AuditEntry
from .rawsql import bound_cursor, insert_sql, inserted

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


# The columns an entry is written with: the database generates every displayed column (action, actor, before,
# after, occurred_at, uuid, ...) from the canonical bytes (core.evidence.columns), and seq from its sequence.
ENTRY_COLUMNS = ("leaf_hash", "canonical")


def audit_entry_statement(
    *,
    actor,
    action: str,
    object_type: str = "",
    object_id: str = "",
    before: dict | None = None,
    after: dict | None = None,
    purpose: str = "",
) -> tuple[AuditEntry, str, list]:
    """One entry, not yet written: the unsaved AuditEntry and its INSERT (sql, params), which returns the entry's
    `seq` where the database can. For callers that write the entry together with their own row in one statement
    (the gateway's call log); everyone else calls `audit_record`.

    The statement is written by hand: every write of the platform appends an entry, and the ORM's building of
    this INSERT cost more than running it. Only the canonical bytes and their leaf hash are written; the
    unsaved entry carries the displayed values the database will generate from them."""
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
    # The bytes as hashed: verify re-hashes these; the displayed columns are generated from them.
    entry.canonical = canonical.decode()
    params = [entry.leaf_hash, entry.canonical]
    sql = insert_sql(AuditEntry, ENTRY_COLUMNS, returning="seq")
    return entry, sql, params


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
    """Appends one entry to the evidence log, in the caller's transaction (one INSERT; a trigger queues it for the
    sequencer)."""
    entry, sql, params = audit_entry_statement(
        actor=actor,
        action=action,
        object_type=object_type,
        object_id=object_id,
        before=before,
        after=after,
        purpose=purpose,
    )
    # Inside a transaction, no savepoint of its own: if the insert fails, the caller's whole transaction is
    # marked for rollback, so even a caller that catches the exception cannot commit its change without the
    # entry. Outside one, the single statement is its own transaction.
    if connection.in_atomic_block:
        with transaction.atomic(savepoint=False), bound_cursor() as cursor:
            cursor.execute(sql, params)
            return inserted(entry, cursor)
    with bound_cursor() as cursor:
        cursor.execute(sql, params)
        return inserted(entry, cursor)


def audit_verify(**kwargs):
    """Kept for callers of the former chain: the whole log's verification (core.evidence.verify.log_verify)."""
    from .evidence.verify import log_verify

    kwargs.pop("batch", None)
    return log_verify(**kwargs)
