"""Reads of the audit chain. Only district administrators (AUDIT_VIEW) may read it, and every read of the
log is itself appended to the chain ("audit.view"), so looking at who did what leaves a trace too."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from ..audit import AuditError, VerifyResult, audit_record, audit_verify
from ..models import AuditEntry
from ..pagination import Page, decode_cursor, keyset_page
from ..permissions import AUDIT_VIEW
from ..principal import Principal


def _seq_cursor(cursor: str | None) -> str | None:
    """The cursor is an opaque seq; anything else is a field error, never a 500."""
    if not cursor:
        return None
    value = decode_cursor(cursor)
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ValidationError({"cursor": _("分页游标无效，请从第一页重新开始。")}, code="cursor")
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
            AuditEntry.objects.filter(**filters), key="seq", cursor=cursor, limit=limit, descending=True
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
    """Re-walks the whole chain for an administrator and records that (and what) they checked."""
    principal.require(AUDIT_VIEW)
    result = audit_verify()
    try:
        with transaction.atomic():
            audit_record(
                actor=principal,
                action="audit.verify",
                object_type="audit_log",
                after={"ok": result.ok, "entries": result.entries, "broken_seq": result.broken_seq},
            )
    except AuditError:
        # A chain whose head row was removed refuses appends; the result already says it is broken.
        if result.ok:
            raise
    return result
