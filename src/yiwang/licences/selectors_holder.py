"""Reads for holders (我的证照, 亮证) and for the issuer's dispute list (质量异议), scoped by the Principal.

A holder is the account's real-name person (citizens, and staff for their own licences) or, for an enterprise
account, the organisation it represents. Anybody else asking for a licence here gets 404: issuer staff read
licences on the issuer pages, grantees through a grant (services.grants).
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from yiwang.core.models import Account
from yiwang.core.pagination import DEFAULT_LIMIT, Page, keyset_page
from yiwang.core.principal import Principal
from yiwang.core.selectors.org import department_subtree_ids

from .models import Licence, LicenceDispute, LicenceShowToken

LICENCE_RELATED = ("licence_type", "issuer", "seal")
STATUS_FILTERS = {s.value for s in Licence.Status}


def parse_uuid(value) -> UUID | None:
    try:
        return UUID(str(value))
    except (TypeError, ValueError):
        return None


def holder_q(principal: Principal | None) -> Q | None:
    """The licences this principal holds, as a filter; None when it holds none (systems, anonymous)."""
    account = getattr(principal, "account", None)
    if account is None:
        return None
    if account.kind == Account.Kind.ENTERPRISE:
        return Q(holder_organisation_id=account.organisation_id) if account.organisation_id else None
    return Q(holder_person_id=account.person_id) if account.person_id else None


def is_holder(principal: Principal | None, licence: Licence) -> bool:
    account = getattr(principal, "account", None)
    if account is None:
        return False
    if account.kind == Account.Kind.ENTERPRISE:
        return (
            account.organisation_id is not None and licence.holder_organisation_id == account.organisation_id
        )
    return account.person_id is not None and licence.holder_person_id == account.person_id


def licences_mine_query(principal: Principal | None) -> QuerySet[Licence]:
    q = holder_q(principal)
    if q is None:
        return Licence.objects.none()
    return Licence.objects.filter(q).select_related(*LICENCE_RELATED)


def licences_mine(
    principal: Principal | None,
    *,
    status: str | None = None,
    cursor: str | None = None,
    limit: int = DEFAULT_LIMIT,
) -> Page:
    """我的证照, newest first (keyset on id). `status` filters by one Licence.Status value."""
    query = licences_mine_query(principal)
    if status and status in STATUS_FILTERS:
        query = query.filter(status=status)
    return keyset_page(query, key="id", cursor=cursor, limit=limit, descending=True)


def licence_mine_get(principal: Principal | None, licence_id) -> Licence:
    """One of the principal's own licences by public id, else 404 (never 403: no hint that it exists)."""
    public_id = parse_uuid(licence_id)
    licence = (
        licences_mine_query(principal).filter(public_id=public_id).first() if public_id is not None else None
    )
    if licence is None:
        raise Http404(_("没有找到该证照。"))
    return licence


def licence_history(licence: Licence) -> list:
    return list(licence.events.order_by("id"))


def licence_versions(licence: Licence) -> dict:
    """The version this one supersedes and the one that superseded it (if any)."""
    newer = (
        Licence.objects.filter(supersedes_id=licence.pk).only("public_id", "identifier", "version").first()
    )
    older = None
    if licence.supersedes_id:
        older = (
            Licence.objects.filter(pk=licence.supersedes_id)
            .only("public_id", "identifier", "version")
            .first()
        )
    return {"newer": newer, "older": older}


def licence_disputes(licence: Licence) -> list[LicenceDispute]:
    return list(licence.disputes.select_related("corrected_licence").order_by("-id"))


# --- 亮证 -----------------------------------------------------------------------------------------------------
def licence_by_show_token(token: str, now: datetime | None = None) -> tuple[Licence | None, bool]:
    """(licence, expired) for a 亮证 token; (None, False) when the token is unknown. The verification page uses
    it beside Licence.verify_token: an expired show token must say so rather than show the licence."""
    if not token or len(token) > 43:
        return None, False
    now = now or timezone.now()
    row = (
        LicenceShowToken.objects.select_related(*(f"licence__{r}" for r in LICENCE_RELATED))
        .filter(token=token)
        .first()
    )
    if row is None:
        return None, False
    if row.expires_at <= now:
        return row.licence, True
    return row.licence, False


# --- disputes (issuer side) ------------------------------------------------------------------------------------
DISPUTE_RELATED = (
    "licence__licence_type",
    "licence__issuer",
    "raised_by",
    "resolved_by",
    "corrected_licence",
)


def _issuer_department_ids(principal: Principal) -> set[int] | None:
    department = principal.department
    if department is None:
        return None
    return department_subtree_ids(department)


def disputes_for_issuer(
    principal: Principal,
    *,
    status: str | None = "open",
    cursor: str | None = None,
    limit: int = DEFAULT_LIMIT,
) -> Page:
    """质量异议 about the licence types of the principal's department and those below it (newest first)."""
    ids = _issuer_department_ids(principal)
    if not ids:
        return Page(items=[], next_cursor=None)
    query = LicenceDispute.objects.select_related(*DISPUTE_RELATED).filter(
        licence__licence_type__department_id__in=ids
    )
    if status and status in {s.value for s in LicenceDispute.Status}:
        query = query.filter(status=status)
    return keyset_page(query, key="id", cursor=cursor, limit=limit, descending=True)


def dispute_for_issuer(principal: Principal, dispute_id) -> LicenceDispute:
    ids = _issuer_department_ids(principal) or set()
    public_id = parse_uuid(dispute_id)
    dispute = (
        LicenceDispute.objects.select_related(*DISPUTE_RELATED, "licence__seal")
        .filter(public_id=public_id, licence__licence_type__department_id__in=ids)
        .first()
        if public_id is not None and ids
        else None
    )
    if dispute is None:
        raise Http404(_("没有找到该质量异议。"))
    return dispute


def dispute_for_holder(principal: Principal, dispute_id) -> LicenceDispute:
    public_id = parse_uuid(dispute_id)
    q = holder_q(principal)
    dispute = None
    if public_id is not None and q is not None:
        dispute = (
            LicenceDispute.objects.select_related(*DISPUTE_RELATED)
            .filter(public_id=public_id, licence__in=Licence.objects.filter(q))
            .first()
        )
    if dispute is None:
        raise Http404(_("没有找到该质量异议。"))
    return dispute
