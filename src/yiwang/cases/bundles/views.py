"""一件事 pages: apply once (one combined form, one set of materials, one submission), follow the application
(aggregated status, each item's result, one merged timeline), my bundle applications; and the panels on the
sub-case pages saying which 一件事 a case belongs to.

Views parse the request, call a selector or service and render; the rules live in catalog.bundles.services,
cases.bundles.services and cases.bundles.selectors.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from yiwang.catalog.bundles.services import (
    build_form,
    build_materials,
    bundle_get_published,
    bundle_items,
    bundle_prefill,
)
from yiwang.catalog.models import Bundle, Material
from yiwang.core.pageutils import page_requires
from yiwang.core.permissions import SELF_SERVICE

from ..forms import (
    UPLOAD_ACCEPT,
    bind_sections,
    clean_idempotency_key,
    error_messages,
    material_error_key,
    material_views,
    new_idempotency_key,
    raw_values,
    tolerant_missing,
    uploaded_files,
)
from ..models import BundleCase, Case
from ..panels import applicant_panel, staff_panel
from . import selectors
from .services import bundle_submit, part_result

PAGE_SIZE = 20


def _refusal(principal, bundle: Bundle) -> str:
    """Why this account cannot apply ("" when it can); the service enforces the same rules."""
    account = principal.account
    if account is None or account.kind not in ("citizen", "enterprise"):
        return _("工作人员账户不能在线申请一件事。")
    if bundle.audience == "organisation" and account.kind != "enterprise":
        return _("该一件事面向法人，请使用法人账户申请。")
    if bundle.audience == "person" and account.kind != "citizen":
        return _("该一件事面向个人，请使用个人账户申请。")
    return ""


@page_requires(SELF_SERVICE)
@require_http_methods(["GET", "POST"])
def bundle_apply(request: HttpRequest, code: str) -> HttpResponse:
    principal = request.principal
    bundle = bundle_get_published(code)
    rows = bundle_items(bundle)
    items = [item for _member, item in rows]
    form = build_form(items)
    materials = build_materials(items)
    refusal = _refusal(principal, bundle)
    prefill = bundle_prefill(form, principal) if not refusal else {}
    values: dict = {}
    errors: dict[str, list[str]] = {}
    key = new_idempotency_key()
    if request.method == "POST":
        if refusal:
            raise PermissionDenied(refusal)
        key = clean_idempotency_key(request.POST.get("idempotency_key"))
        values = raw_values(request.POST, form.fields)
        uploads = [m for m in materials if m.source == Material.Source.UPLOAD]
        files = uploaded_files(request.FILES, uploads)
        try:
            bc = bundle_submit(
                actor=principal,
                bundle=bundle,
                form_data=values,  # registry fields: the service takes the registry's values
                files=files,
                idempotency_key=key,
                tolerant_missing=tolerant_missing(uploads, files),
            )
        except ValidationError as exc:
            errors = error_messages(exc)
        else:
            messages.success(
                request, _("一件事已提交，编号 %(number)s。各事项已分送各部门办理。") % {"number": bc.number}
            )
            return redirect("cases:bundle_detail", bundle_case_id=bc.public_id)
    views = material_views(materials, errors=errors)
    for view, material in zip(views, materials, strict=True):
        view.items = material.items
    known = {f.name for f in form.fields} | {material_error_key(m.code) for m in materials}
    after_names = {
        member.item_code: [i.name for m, i in rows if m.item_code in member.after] for member, _item in rows
    }
    return render(
        request,
        "cases/bundle_apply.html",
        {
            "bundle": bundle,
            "rows": [(item, after_names[member.item_code]) for member, item in rows],
            "can_apply": not refusal,
            "cannot_apply_reason": refusal,
            "sections": bind_sections(
                form.declaration, form.fields, values=values, errors=errors, prefill=prefill
            ),
            "materials": views,
            "accept": UPLOAD_ACCEPT,
            "idempotency_key": key,
            "errors": errors,
            "files_lost": bool(errors) and bool(request.FILES),
            "non_field_errors": [m for f, msgs in errors.items() if f not in known for m in msgs],
        },
        status=422 if errors else 200,
    )


def _part_rows(bc: BundleCase, visible: set[int]) -> list[dict]:
    parts = list(bc.parts.all())
    names = {p.item.code: p.item.name for p in parts}
    return [
        {
            "part": p,
            "item": p.item,
            "case": p.case,
            "after": [names.get(code, code) for code in p.after],
            "state": p.case.state if p.case is not None else p.state,
            "state_label": p.case.get_state_display() if p.case is not None else p.get_state_display(),
            "result": part_result(p),
            "reason": (p.case.decision_reason if p.case is not None else p.note) or "",
            "link": p.case is not None and p.case.pk in visible,
        }
        for p in parts
    ]


@page_requires(SELF_SERVICE)
def bundle_detail(request: HttpRequest, bundle_case_id) -> HttpResponse:
    principal = request.principal
    bc = selectors.bundle_case_visible(principal, bundle_case_id)
    visible = selectors.bundle_case_parts_visible(principal, bc)
    return render(
        request,
        "cases/bundle_detail.html",
        {
            "bundle_case": bc,
            "rows": _part_rows(bc, visible),
            "timeline": selectors.bundle_case_timeline(principal, bc),
            "is_owner": principal.account is not None and bc.applicant_account_id == principal.account.pk,
            "staff_view": principal.staff is not None,
        },
    )


@page_requires(SELF_SERVICE)
def bundle_mine(request: HttpRequest) -> HttpResponse:
    try:
        page = selectors.bundle_cases_of_applicant(
            request.principal, cursor=request.GET.get("cursor"), limit=PAGE_SIZE
        )
    except ValidationError:
        return redirect("cases:bundle_mine")  # a stale or tampered cursor
    return render(request, "cases/bundle_mine.html", {"page": page})


# --- panels on the sub-case pages -----------------------------------------------------------------------------
def _panel(principal, case: Case, *, staff: bool):
    bc = selectors.bundle_case_for_case(case)
    if bc is None:
        return None
    siblings = [
        {
            "item": p.item,
            "department": p.item.department,
            "state_label": p.case.get_state_display() if p.case is not None else p.get_state_display(),
            "state": p.case.state if p.case is not None else p.state,
            "this": p.case_id == case.pk,
            "number": p.case.number if p.case is not None else "",
        }
        for p in bc.parts.all()
    ]
    return "cases/bundle_case_panel.html", {"bundle_case": bc, "siblings": siblings, "staff": staff}


@applicant_panel
def bundle_applicant_panel(request, principal, case: Case):
    return _panel(principal, case, staff=False) if case.bundle_case_id else None


@staff_panel
def bundle_staff_panel(request, principal, case: Case):
    return _panel(principal, case, staff=True) if case.bundle_case_id else None


urlpatterns = [
    path("bundles/", bundle_mine, name="bundle_mine"),
    path("bundles/apply/<slug:code>/", bundle_apply, name="bundle_apply"),
    path("bundles/<uuid:bundle_case_id>/", bundle_detail, name="bundle_detail"),
]
