"""授权用证 pages and the 免证办 panels of the case pages.

- /licences/grants/ (licences:grants): the holder's grants with their uses, and revoking one;
- /licences/mine/<id>/grants/ (licences:licence_grants): the grants section of one licence (loaded into the licence
  page by `licences/_grants_section.html`), and POST to create a grant;
- the staff work page panel: the case's licence grants, each read through `licence_read_via_grant` (the use is
  logged) with its verified face fields; the applicant's case page panel: which licences the case may use.
"""

from __future__ import annotations

from datetime import datetime, time

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from yiwang.cases.panels import applicant_panel, staff_panel
from yiwang.core.pageutils import page_requires
from yiwang.core.permissions import SELF_SERVICE

from .models import LicenceGrant
from .selectors_grants import (
    grant_of_holder,
    grantee_named,
    grants_of_case,
    grants_of_holder,
    licence_of_holder,
)
from .services.grants import grant_create, grant_revoke, licence_read_via_grant
from .signing import licence_verify_signature

PAGE_SIZE = 20


def _errors(exc: ValidationError) -> dict[str, list[str]]:
    if hasattr(exc, "error_dict"):
        return {k: list(v) for k, v in exc.message_dict.items()}
    return {"__all__": list(exc.messages)}


def _face_rows(licence) -> list[tuple[str, object]]:
    labels = {f["name"]: f.get("label", f["name"]) for f in licence.licence_type.face_fields or []}
    return [(labels.get(name, name), value) for name, value in (licence.face or {}).items()]


# --- holder pages ---------------------------------------------------------------------------------------
@page_requires(SELF_SERVICE)
def grants(request: HttpRequest) -> HttpResponse:
    try:
        page = grants_of_holder(request.principal, cursor=request.GET.get("cursor"), limit=PAGE_SIZE)
    except ValidationError:
        return redirect("licences:grants")
    return render(request, "licences/grants.html", {"page": page})


@page_requires(SELF_SERVICE)
@require_POST
def grant_revoke_view(request: HttpRequest, grant_id) -> HttpResponse:
    grant = grant_of_holder(request.principal, grant_id)
    try:
        grant_revoke(actor=request.principal, grant=grant, reason=request.POST.get("reason", ""))
    except ValidationError as exc:
        for msgs in _errors(exc).values():
            for msg in msgs:
                messages.error(request, msg)
    else:
        messages.success(request, _("授权已撤销，被授权方不能再调取该证照。"))
    back = request.POST.get("next") or ""
    if back.startswith("/licences/"):
        return redirect(back)
    return redirect("licences:grants")


def _parse_expiry(value: str):
    value = (value or "").strip()
    if not value:
        return None
    try:
        day = datetime.strptime(value[:10], "%Y-%m-%d").date()
    except ValueError:
        raise ValidationError({"expires_at": _("日期格式应为 YYYY-MM-DD。")}) from None
    return timezone.make_aware(datetime.combine(day, time(23, 59, 59)))


@page_requires(SELF_SERVICE)
@require_http_methods(["GET", "POST"])
def licence_grants(request: HttpRequest, licence_id) -> HttpResponse:
    """The grants section of one of the holder's licences (an HTMX fragment, or a page of its own)."""
    principal = request.principal
    licence = licence_of_holder(principal, licence_id)
    errors: dict[str, list[str]] = {}
    values = {}
    if request.method == "POST":
        values = {
            k: request.POST.get(k, "")
            for k in ("grantee_kind", "department", "system", "purpose", "expires_at")
        }
        kind = values["grantee_kind"]
        try:
            grant_create(
                actor=principal,
                licence=licence,
                grantee_kind=kind if kind != LicenceGrant.GranteeKind.CASE else "",
                purpose=values["purpose"],
                expires_at=_parse_expiry(values["expires_at"]),
                **grantee_named(
                    kind=kind, department_code=values["department"], system_client_id=values["system"]
                ),
            )
        except ValidationError as exc:
            errors = _errors(exc)
        else:
            messages.success(request, _("已授权。每次调取都会记录在用证记录中。"))
            if not request.htmx:
                return redirect("licences:detail", licence_id=licence.public_id)
            values = {}
    page = grants_of_holder(principal, licence=licence, limit=50)
    context = {
        "licence": licence,
        "grants": page.items,
        "errors": errors,
        "values": values,
        "kinds": [
            (k.value, str(k.label)) for k in LicenceGrant.GranteeKind if k != LicenceGrant.GranteeKind.CASE
        ],
        "default_expiry": (timezone.localdate() + timezone.timedelta(days=30)).isoformat(),
        "fragment": bool(request.htmx),
    }
    template = "licences/grant_list_fragment.html" if request.htmx else "licences/grant_licence.html"
    return render(request, template, context, status=422 if errors else 200)


# --- case panels ------------------------------------------------------------------------------------------
@staff_panel
def staff_licence_panel(request, principal, case):
    """免证办 on the staff work page: the case's licence grants, each read through the grant (logged), with the
    verified face fields and status."""
    case_grants = grants_of_case(case)
    if not case_grants:
        return None
    rows = []
    for grant in case_grants:
        row = {"grant": grant, "licence": None, "verified": False, "face": [], "refused": ""}
        try:
            licence = licence_read_via_grant(
                actor=principal, licence=grant.licence, purpose=grant.purpose, grant=grant
            )
        except PermissionDenied as exc:
            row["refused"] = str(exc) or _("没有该证照的有效授权。")
        else:
            row.update(licence=licence, verified=licence_verify_signature(licence), face=_face_rows(licence))
        rows.append(row)
    materials = {m.code: m.name for m in case.item.materials.all()}
    for row in rows:
        row["material"] = materials.get(row["grant"].material_code, row["grant"].material_code)
    return "licences/_case_staff.html", {"licence_rows": rows}


@applicant_panel
def applicant_licence_panel(request, principal, case):
    """The applicant's case page: the licences this case was authorised to use, with their use counts."""
    if principal.staff is not None:
        return None
    case_grants = grants_of_case(case)
    if not case_grants:
        return None
    materials = {m.code: m.name for m in case.item.materials.all()}
    return (
        "licences/_case_applicant.html",
        {"licence_grants": [(g, materials.get(g.material_code, g.material_code)) for g in case_grants]},
    )


urlpatterns: list = [
    path("grants/", grants, name="grants"),
    path("grants/<uuid:grant_id>/revoke/", grant_revoke_view, name="grant_revoke"),
    path("mine/<uuid:licence_id>/grants/", licence_grants, name="licence_grants"),
]
