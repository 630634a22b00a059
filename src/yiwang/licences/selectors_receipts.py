"""Receipts (存证回执) of licences: which audit entries give one, and who may download them.

A receipt is given for the events a holder or the issuing department must be able to prove later: a licence
issued, corrected, suspended, resumed or revoked, and a licence grant (授权用证) given or revoked. Who may see a
licence's receipts is exactly who may see the licence: its holder (selectors_holder.licence_mine_get) and the
issuing department's staff (selectors.licence_issued_get); anybody else gets 404."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from django.db.models import Q
from django.http import Http404
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from yiwang.core.models import AuditEntry
from yiwang.core.permissions import LICENCE_ISSUE
from yiwang.core.principal import Principal

from .models import Licence, LicenceGrant
from .selectors import licence_issued_get
from .selectors_holder import licence_mine_get

LICENCE_RECEIPT_ACTIONS = {
    "licence.issue": gettext_lazy("签发"),
    "licence.correct": gettext_lazy("更正签发"),
    "licence.suspend": gettext_lazy("暂停"),
    "licence.resume": gettext_lazy("恢复"),
    "licence.revoke": gettext_lazy("注销"),
}
GRANT_RECEIPT_ACTIONS = {
    "licence.grant": gettext_lazy("授权用证"),
    "licence.grant_revoke": gettext_lazy("撤销授权"),
}
MAX_GRANTS = 1000  # grants of one licence looked at (the newest); a licence has a handful in practice
MAX_RECEIPTS = 500


@dataclass
class ReceiptRow:
    entry: AuditEntry
    label: str
    ready: bool  # integrated into the tree and covered by a signed head: the receipt can be built now

    @property
    def grant_id(self) -> str:
        return self.entry.object_id if self.entry.object_type == "licence_grant" else ""


def licence_for_receipts(principal: Principal | None, licence_id) -> Licence:
    """The licence if the principal may see it as its holder or as its issuing department; else 404."""
    try:
        return licence_mine_get(principal, licence_id)
    except Http404:
        if principal is None or not principal.has(LICENCE_ISSUE):
            raise
    try:
        public_id = UUID(str(licence_id))
    except ValueError:
        raise Http404(_("没有找到该证照。")) from None
    return licence_issued_get(principal, public_id)


def _receipt_q(licence: Licence) -> Q:
    grant_ids = [
        str(g)
        for g in LicenceGrant.objects.filter(licence=licence)
        .order_by("-id")
        .values_list("public_id", flat=True)[:MAX_GRANTS]
    ]
    query = Q(object_type="licence", object_id=licence.identifier, action__in=list(LICENCE_RECEIPT_ACTIONS))
    if grant_ids:
        query |= Q(
            object_type="licence_grant", object_id__in=grant_ids, action__in=list(GRANT_RECEIPT_ACTIONS)
        )
    return query


def licence_receipts(licence: Licence) -> list[ReceiptRow]:
    """The licence's receipt-giving entries, oldest first, with whether each receipt is ready."""
    from yiwang.core.evidence.sequencer import tree_head_latest

    head = tree_head_latest()
    covered = head.tree_size if head is not None else 0
    entries = (
        AuditEntry.objects.filter(_receipt_q(licence)).select_related("leaf").order_by("seq")[:MAX_RECEIPTS]
    )
    labels = {**LICENCE_RECEIPT_ACTIONS, **GRANT_RECEIPT_ACTIONS}
    return [
        ReceiptRow(
            entry=e,
            label=str(labels.get(e.action, e.action)),
            ready=e.leaf_index is not None and e.leaf_index < covered,
        )
        for e in entries
    ]


def licence_receipt_entry(licence: Licence, entry_uuid) -> AuditEntry:
    """One receipt-giving entry of this licence by its uuid, else 404."""
    try:
        uid = UUID(str(entry_uuid))
    except ValueError:
        raise Http404(_("没有找到该存证记录。")) from None
    entry = AuditEntry.objects.filter(_receipt_q(licence), uuid=uid).select_related("leaf").first()
    if entry is None:
        raise Http404(_("没有找到该存证记录。"))
    return entry
