"""Pages: audit — the evidence log for district administrators (filter, keyset pages, the latest signed tree
head, verify with HTMX, download an entry's inclusion proof as JSON)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import path
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_POST

from ..permissions import AUDIT_VIEW
from ..principal import Principal
from ..selectors.audit import (
    audit_chain_verify,
    audit_entries_visible_to,
    audit_entry_proof,
    tree_heads_after,
)

PAGE_SIZE = 50


class AuditFilterForm(forms.Form):
    actor = forms.CharField(label=_("账户"), max_length=150, required=False)
    action = forms.CharField(label=_("操作"), max_length=64, required=False, help_text=_("如 person.lookup"))
    object_type = forms.CharField(label=_("对象类型"), max_length=64, required=False)
    object_id = forms.CharField(label=_("对象标识"), max_length=64, required=False)
    cursor = forms.CharField(max_length=200, required=False, widget=forms.HiddenInput)


@login_required
@require_GET
def audit_log_view(request: HttpRequest) -> HttpResponse:
    principal = Principal.for_account(request.user)
    principal.require(AUDIT_VIEW)  # PermissionDenied → the 403 page, before any form parsing
    form = AuditFilterForm(request.GET or None)
    page = None
    if form.is_bound and not form.is_valid():
        status = 400
        if "cursor" in form.errors:  # the cursor is not a visible field: say so at the top of the form
            form.add_error(None, form.errors.pop("cursor"))
    else:
        status = 200
        filters = form.cleaned_data if form.is_bound else {}
        try:
            page = audit_entries_visible_to(
                principal,
                actor=filters.get("actor"),
                action=filters.get("action"),
                object_type=filters.get("object_type"),
                object_id=filters.get("object_id"),
                cursor=filters.get("cursor"),
                limit=PAGE_SIZE,
            )
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                form.add_error(field if field in form.fields and field != "cursor" else None, errors)
            status = 400
    rows = [(entry, _pretty(entry.before), _pretty(entry.after)) for entry in page.items] if page else []
    heads = tree_heads_after(None, limit=1)
    head = heads[0] if heads else None
    head_time = datetime.fromtimestamp(head.timestamp_ms / 1000, tz=UTC) if head else None
    return render(
        request,
        "core/audit/log.html",
        {
            "form": form,
            "page": page,
            "rows": rows,
            "first_page": not request.GET.get("cursor"),
            "head": head,
            "head_time": head_time,
        },
        status=status,
    )


def _pretty(value) -> str | None:
    """before/after as readable JSON (Chinese left as is) for the page's detail cells."""
    return None if value is None else json.dumps(value, ensure_ascii=False, indent=1, sort_keys=True)


@login_required
@require_POST
def audit_verify_view(request: HttpRequest) -> HttpResponse:
    result = audit_chain_verify(Principal.for_account(request.user))
    template = "core/audit/_verify_result.html" if request.htmx else "core/audit/verify.html"
    return render(request, template, {"result": result})


@login_required
@require_GET
def audit_proof_view(request: HttpRequest, entry_uuid) -> HttpResponse:
    """One entry's inclusion proof under the newest signed head, as a JSON file (recorded as an audit view)."""
    proof = audit_entry_proof(Principal.for_account(request.user), entry_uuid)
    if proof is None:
        raise Http404
    response = JsonResponse(proof, json_dumps_params={"ensure_ascii": False, "indent": 1})
    response["Content-Disposition"] = f'attachment; filename="evidence-proof-{entry_uuid}.json"'
    return response


# Declared permissions (the same marker the API's `requires` leaves), for the every-page-declares-one check.
audit_log_view.yiwang_permission = AUDIT_VIEW
audit_verify_view.yiwang_permission = AUDIT_VIEW
audit_proof_view.yiwang_permission = AUDIT_VIEW

urlpatterns = [
    path("", audit_log_view, name="audit"),
    path("verify/", audit_verify_view, name="audit_verify"),
    path("proof/<uuid:entry_uuid>/", audit_proof_view, name="audit_proof"),
]
