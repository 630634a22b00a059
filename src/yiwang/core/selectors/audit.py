"""Reads of the evidence log. Only district administrators (AUDIT_VIEW) may read entries, and every read of the
log is itself appended to it ("audit.view"), so looking at who did what leaves a trace too. Signed tree heads
and proofs are public: they reveal only hashes."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404
from django.utils.translation import gettext as _

from ..audit import AuditError, audit_record
from ..evidence import store
from ..evidence.sequencer import tree_head_sign
from ..evidence.verify import VerifyResult, log_verify
from ..models import AuditEntry, EvidenceLeaf, TreeHead
from ..pagination import Page, decode_cursor, invalid_cursor, keyset_page
from ..permissions import AUDIT_VIEW
from ..principal import Principal


def _seq_cursor(cursor: str | None) -> str | None:
    """The cursor is an opaque seq; anything else is a field error, never a 500."""
    if not cursor:
        return None
    value = decode_cursor(cursor)
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise invalid_cursor()
    return cursor


def audit_entries_visible_to(
    principal: Principal,
    *,
    actor: str | None = None,
    action: str | None = None,
    object_type: str | None = None,
    object_id: str | None = None,
    cursor: str | None = None,
    limit: int = 50,
) -> Page[AuditEntry]:
    """Newest first, keyset-paginated by seq; each filter is an exact match backed by a (column, seq) index."""
    principal.require(AUDIT_VIEW)
    filters = {
        "actor_account": actor or None,
        "action": action or None,
        "object_type": object_type or None,
        "object_id": object_id or None,
    }
    filters = {k: v for k, v in filters.items() if v is not None}
    cursor = _seq_cursor(cursor)
    with transaction.atomic():
        page = keyset_page(
            AuditEntry.objects.filter(**filters).select_related("leaf"),
            key="seq",
            cursor=cursor,
            limit=limit,
            descending=True,
        )
        audit_record(
            actor=principal,
            action="audit.view",
            object_type="audit_log",
            after={"filters": filters, "cursor": cursor or "", "returned": len(page.items)},
            purpose=_("查看审计日志"),
        )
    return page


def audit_chain_verify(principal: Principal) -> VerifyResult:
    """Verifies the whole log for an administrator and records that (and what) they checked."""
    principal.require(AUDIT_VIEW)
    result = log_verify()
    try:
        with transaction.atomic():
            audit_record(
                actor=principal,
                action="audit.verify",
                object_type="audit_log",
                after={
                    "ok": result.ok,
                    "entries": result.entries,
                    "heads": result.heads,
                    "broken_seq": result.broken_seq,
                    "broken_index": result.broken_index,
                },
            )
    except AuditError:
        if result.ok:
            raise
    return result


def tree_head_sign_now(principal: Principal) -> TreeHead | None:
    """Signs the integrated tree now (after recording who asked). None when nothing new is integrated."""
    from ..permissions import AUDIT_CHECKPOINT

    principal.require(AUDIT_CHECKPOINT)
    with transaction.atomic():
        audit_record(actor=principal, action="audit.tree_head_sign", object_type="audit_log")
    return tree_head_sign(force=True)


# --- public: signed heads and proofs (hashes only) -----------------------------------------------------------
def tree_heads_after(after: int | None, *, limit: int) -> list[TreeHead]:
    """Signed heads by tree size: the newest one (after=None), or a keyset page of those above `after`."""
    if after is None:
        return list(TreeHead.objects.order_by("-tree_size")[:limit])
    return list(TreeHead.objects.filter(tree_size__gt=after).order_by("tree_size")[:limit])


def _size_error(field: str) -> ValidationError:
    return ValidationError({field: _("该树大小尚未上链。")}, code="tree_size")


def evidence_inclusion(*, leaf_index: int | None, leaf_hash: str | None, tree_size: int) -> dict:
    """The RFC 9162 inclusion proof of one entry (by leaf index or leaf hash) in the tree of `tree_size`."""
    if tree_size > store.integrated_size():
        raise _size_error("tree_size")
    if leaf_index is None:
        leaf_index = (
            EvidenceLeaf.objects.filter(entry__leaf_hash=leaf_hash)
            .order_by("leaf_index")
            .values_list("leaf_index", flat=True)
            .first()
        )
        if leaf_index is None:
            raise Http404
    found = (
        EvidenceLeaf.objects.filter(leaf_index=leaf_index).values_list("entry__leaf_hash", flat=True).first()
    )
    if found is None:
        raise Http404
    if leaf_index >= tree_size:
        raise ValidationError(
            {"tree_size": _("该记录不在此树大小之内（树大小须大于叶子序号）。")}, code="tree_size"
        )
    path = store.inclusion_proof(leaf_index, tree_size)
    return {
        "leaf_index": leaf_index,
        "leaf_hash": found,
        "tree_size": tree_size,
        "root_hash": store.root_at(tree_size).hex(),
        "audit_path": [p.hex() for p in path],
    }


def evidence_consistency(*, first: int, second: int) -> dict:
    """The RFC 9162 consistency proof between two integrated tree sizes."""
    if first > second:
        raise ValidationError({"first": _("first 不能大于 second。")}, code="order")
    if second > store.integrated_size():
        raise _size_error("second")
    return {
        "first": first,
        "second": second,
        "first_root": store.root_at(first).hex(),
        "second_root": store.root_at(second).hex(),
        "consistency_path": [p.hex() for p in store.consistency_proof(first, second)],
    }


def audit_entry_proof(principal: Principal, entry_uuid) -> dict | None:
    """An entry (its canonical text), its inclusion proof and the newest signed head covering it, for an auditor
    to check offline with any SM3/SM2 implementation. None when the entry is unknown or not yet under a head."""
    principal.require(AUDIT_VIEW)
    entry = AuditEntry.objects.filter(uuid=entry_uuid).select_related("leaf").first()
    if entry is None or entry.leaf_index is None:
        return None
    head = TreeHead.objects.filter(tree_size__gt=entry.leaf_index).order_by("-tree_size").first()
    if head is None:
        return None
    path = store.inclusion_proof(entry.leaf_index, head.tree_size)
    with transaction.atomic():
        audit_record(
            actor=principal,
            action="audit.view",
            object_type="audit_entry",
            object_id=str(entry.uuid),
            after={"proof": "inclusion", "tree_size": head.tree_size},
            purpose=_("下载存证包含证明"),
        )
    return {
        "entry": {
            "uuid": str(entry.uuid),
            "seq": entry.seq,
            "format": entry.format,
            "canonical": store.entry_canonical(entry).decode(),
            "leaf_index": entry.leaf_index,
            "leaf_hash": entry.leaf_hash,
        },
        "inclusion_proof": [p.hex() for p in path],
        "tree_head": {
            "tree_size": head.tree_size,
            "root_hash": head.root_hash,
            "timestamp_ms": head.timestamp_ms,
            "key_id": head.key_id,
            "signature": head.signature,
        },
    }
