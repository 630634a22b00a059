"""Reads of 授权用证 and 免证办: the licences an account holds, the holder's grants with their uses, the grants of a
case. Scoped by the Principal: a holder sees only their own licences and grants (others get Http404); reads of a
licence by anyone else go through `licences.services.grants.licence_read_via_grant` (logged)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db.models import Count, Q, QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from yiwang.core.models import Department, RegisteredSystem
from yiwang.core.pagination import Page, keyset_page
from yiwang.core.principal import Principal

from .models import Licence, LicenceGrant, LicenceUse

USES_SHOWN = 20


# --- holders --------------------------------------------------------------------------------------------
def holder_q(principal: Principal) -> Q | None:
    """The licences the principal holds: the account's own person's licences, and for an enterprise user the
    organisation's. None for staff without a person and for systems (they hold nothing)."""
    account = principal.account
    if account is None or principal.system is not None:
        return None
    q = Q(pk__in=[])
    if getattr(account, "person_id", None):
        q |= Q(holder_person_id=account.person_id)
    if account.kind == "enterprise" and getattr(account, "organisation_id", None):
        q |= Q(holder_organisation_id=account.organisation_id)
    return q


def holds(principal: Principal, licence: Licence) -> bool:
    account = principal.account
    if account is None or principal.system is not None:
        return False
    if licence.holder_person_id and licence.holder_person_id == getattr(account, "person_id", None):
        return True
    return bool(
        account.kind == "enterprise"
        and licence.holder_organisation_id
        and licence.holder_organisation_id == getattr(account, "organisation_id", None)
    )


def licence_of_holder(principal: Principal, public_id) -> Licence:
    """One of the principal's own licences, or Http404 (also for malformed ids)."""
    q = holder_q(principal)
    if q is None:
        raise Http404(_("没有找到该证照。"))
    try:
        return Licence.objects.select_related("licence_type", "issuer", "seal").get(q, public_id=public_id)
    except (Licence.DoesNotExist, ValidationError, ValueError):
        raise Http404(_("没有找到该证照。")) from None


def valid_licences_by_type(principal: Principal, type_codes: Iterable[str]) -> dict[str, list[Licence]]:
    """免证办: the principal's VALID, unexpired licences of the given types, {type code: [licence]} (one query)."""
    codes = {c for c in type_codes if c}
    q = holder_q(principal)
    if not codes or q is None:
        return {}
    today = timezone.localdate()
    out: dict[str, list[Licence]] = {}
    rows = (
        Licence.objects.filter(q, licence_type__code__in=codes, status=Licence.Status.VALID)
        .filter(Q(expires_on__isnull=True) | Q(expires_on__gte=today))
        .select_related("licence_type")
        .order_by("-id")[:200]
    )
    for licence in rows:
        out.setdefault(licence.licence_type.code, []).append(licence)
    return out


def licence_choice_label(licence: Licence) -> str:
    """ "营业执照 YYZZ-…（有效期至 2030-03-01）" for the apply page."""
    until = (
        _("有效期至 %(d)s") % {"d": licence.expires_on.isoformat()} if licence.expires_on else _("长期有效")
    )
    return f"{licence.licence_type.name} {licence.identifier}（{until}）"


def licence_options_for_materials(principal: Principal, materials) -> dict[str, list[tuple[str, str]]]:
    """免证办 on the apply page: {material code: [(licence public id, label)]} for every material that names a
    licence type (one query)."""
    materials = [m for m in materials if m.licence_type_code]
    held = valid_licences_by_type(principal, {m.licence_type_code for m in materials})
    return {
        m.code: [(str(lic.public_id), licence_choice_label(lic)) for lic in held.get(m.licence_type_code, [])]
        for m in materials
    }


# --- grants ---------------------------------------------------------------------------------------------
def live_q(now=None) -> Q:
    now = now or timezone.now()
    return Q(revoked_at__isnull=True, expires_at__gt=now)


def grant_is_live(grant: LicenceGrant, now=None) -> bool:
    now = now or timezone.now()
    return grant.revoked_at is None and grant.expires_at > now


def _grant_rows() -> QuerySet:
    return LicenceGrant.objects.select_related(
        "licence__licence_type", "grantee_department", "grantee_case", "grantee_system"
    ).annotate(use_count=Count("uses"))


def grants_of_holder(
    principal: Principal, *, cursor: str | None = None, limit: int = 20, licence: Licence | None = None
) -> Page:
    """The holder's grants, newest first (keyset on id), each with its use count and latest uses."""
    q = holder_q(principal)
    if q is None:
        return Page(items=[], next_cursor=None)
    holder_ids = Licence.objects.filter(q).values("pk")
    rows = _grant_rows().filter(licence__in=holder_ids)
    if licence is not None:
        rows = rows.filter(licence=licence)
    page = keyset_page(rows, key="id", cursor=cursor, limit=limit, descending=True)
    _attach_uses(page.items)
    return page


def _attach_uses(grants: list[LicenceGrant]) -> None:
    """The latest uses of each grant on `recent_uses` (one query for the page)."""
    by_grant: dict[int, list[LicenceUse]] = {g.pk: [] for g in grants}
    if by_grant:
        for use in LicenceUse.objects.filter(grant_id__in=list(by_grant)).order_by("-id")[: USES_SHOWN * 10]:
            if len(by_grant[use.grant_id]) < USES_SHOWN:
                by_grant[use.grant_id].append(use)
    now = timezone.now()
    for grant in grants:
        grant.recent_uses = by_grant.get(grant.pk, [])
        grant.live = grant_is_live(grant, now)


def grant_of_holder(principal: Principal, public_id) -> LicenceGrant:
    q = holder_q(principal)
    if q is None:
        raise Http404(_("没有找到该授权。"))
    try:
        return (
            LicenceGrant.objects.select_related("licence__licence_type")
            .filter(licence__in=Licence.objects.filter(q).values("pk"))
            .get(public_id=public_id)
        )
    except (LicenceGrant.DoesNotExist, ValidationError, ValueError):
        raise Http404(_("没有找到该授权。")) from None


def grants_of_case(case) -> list[LicenceGrant]:
    """The 免证办 grants made for a case (the case page panels; the caller has checked the case's visibility)."""
    grants = list(
        LicenceGrant.objects.filter(grantee_case=case)
        .select_related("licence__licence_type", "licence__issuer", "licence__seal")
        .annotate(use_count=Count("uses"))
        .order_by("id")
    )
    now = timezone.now()
    for grant in grants:
        grant.live = grant_is_live(grant, now)
    return grants


def grantee_named(*, kind: str, department_code: str = "", system_client_id: str = "") -> dict:
    """The grantee a holder names when granting, as `grant_create` takes it: {"department": ...} by department
    code, {"system": ...} by a registered system's client id, {} for another kind or when nothing is named (the
    service then says what is missing). Only active systems can be named: a switched-off system is answered as
    unknown, so a holder cannot grant it, nor learn that it exists; so is a department that no longer exists
    (inactive). ValidationError under "department" or
    "system" when the code names nothing. The grants page and the API both name grantees through this."""
    if kind == LicenceGrant.GranteeKind.DEPARTMENT:
        code = (department_code or "").strip()
        if not code:
            return {"department": None}
        department = Department.objects.filter(code=code, is_active=True).first()
        if department is None:
            raise ValidationError({"department": _("没有编码为“%(c)s”的部门。") % {"c": code}})
        return {"department": department}
    if kind == LicenceGrant.GranteeKind.SYSTEM:
        client_id = (system_client_id or "").strip()
        if not client_id:
            return {"system": None}
        system = RegisteredSystem.objects.filter(client_id=client_id, is_active=True).first()
        if system is None:
            raise ValidationError({"system": _("没有标识为“%(c)s”的接入系统。") % {"c": client_id}})
        return {"system": system}
    return {}


@dataclass
class GrantSection:
    """What `licences/_grants_section.html` shows on the holder's licence page."""

    licence: Licence
    grants: list[LicenceGrant]
    kinds: list[tuple[str, str]]


def grants_section(principal: Principal, licence: Licence) -> GrantSection:
    """Context for `{% include "licences/_grants_section.html" with section=... %}` on the licence detail page."""
    page = grants_of_holder(principal, licence=licence, limit=50)
    return GrantSection(
        licence=licence,
        grants=page.items,
        kinds=[
            (k.value, str(k.label)) for k in LicenceGrant.GranteeKind if k != LicenceGrant.GranteeKind.CASE
        ],
    )


__all__ = [
    "GrantSection",
    "grant_is_live",
    "grant_of_holder",
    "grantee_named",
    "grants_of_case",
    "grants_of_holder",
    "grants_section",
    "holder_q",
    "holds",
    "licence_choice_label",
    "licence_of_holder",
    "licence_options_for_materials",
    "live_q",
    "valid_licences_by_type",
]
