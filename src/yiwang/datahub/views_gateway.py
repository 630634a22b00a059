"""Pages: 数据共享网关 — the call log and per-grant usage.

- `datahub:gateway_calls` (/data/gateway/calls/): calls on my department's resources (given), calls made by my
  department's systems (made), all calls (the big-data centre and data auditors); filters by outcome, operation,
  resource code and grant number; keyset pages, newest first. No value is ever shown (the log holds none): who
  called, under which grant, why, whose data (masked name), which fields, the outcome and the response hash.
- `datahub:gateway_usage` (/data/gateway/usage/): the grants given or held with their call counts of the last 30 days.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from yiwang.core.masking import mask_name
from yiwang.core.pageutils import page_requires
from yiwang.core.permissions import DATA_AUDIT, DATA_CENTRE, DATA_STEWARD

from .gateway_platform import gateway_covert_calls_viewed
from .models import GatewayCall
from .selectors import gateway as sel


def _tabs(principal) -> list[tuple[str, str]]:
    labels = {"given": _("本部门提供的数据被调用"), "made": _("本部门系统的调用"), "all": _("全部调用")}
    return [(tab, labels[tab]) for tab in sel.gateway_call_tabs(principal)]


def _subject(call: GatewayCall) -> str:
    if call.subject_person_id:
        return mask_name(call.subject_person.name)
    if call.subject_organisation_id:
        return call.subject_organisation.name
    return ""


@page_requires(DATA_STEWARD, DATA_CENTRE, DATA_AUDIT)
@require_GET
def gateway_calls(request: HttpRequest) -> HttpResponse:
    principal = request.principal
    tabs = _tabs(principal)
    tab = request.GET.get("tab") or tabs[0][0]
    if tab not in dict(tabs):
        tab = tabs[0][0]
    filters = {
        "outcome": request.GET.get("outcome", "")
        if request.GET.get("outcome") in GatewayCall.Outcome.values
        else "",
        "operation": request.GET.get("operation", "")
        if request.GET.get("operation") in GatewayCall.Operation.values
        else "",
        "resource_code": (request.GET.get("resource") or "").strip()[:40],
        "grant_number": (request.GET.get("grant") or "").strip()[:32],
    }
    try:
        page = sel.gateway_calls_visible(principal, tab=tab, cursor=request.GET.get("cursor"), **filters)
    except ValidationError:
        return redirect("datahub:gateway_calls")
    for call in page.items:
        call.subject_label = _subject(call)
    gateway_covert_calls_viewed(actor=principal, calls=page.items)
    query = {
        "tab": tab,
        **{k: v for k, v in {"outcome": filters["outcome"], "operation": filters["operation"]}.items() if v},
        **({"resource": filters["resource_code"]} if filters["resource_code"] else {}),
        **({"grant": filters["grant_number"]} if filters["grant_number"] else {}),
    }
    next_query = urlencode({**query, "cursor": page.next_cursor}) if page.next_cursor else ""
    template = "datahub/gateway/_calls_rows.html" if request.htmx else "datahub/gateway/calls.html"
    return render(
        request,
        template,
        {
            "page": page,
            "tab": tab,
            "tabs": tabs,
            "filters": filters,
            "outcomes": GatewayCall.Outcome.choices,
            "operations": GatewayCall.Operation.choices,
            "next_query": next_query,
        },
    )


@page_requires(DATA_STEWARD, DATA_CENTRE, DATA_AUDIT)
@require_GET
def gateway_usage(request: HttpRequest) -> HttpResponse:
    principal = request.principal
    tabs = _tabs(principal)
    tab = request.GET.get("tab") or tabs[0][0]
    if tab not in dict(tabs):
        tab = tabs[0][0]
    try:
        page = sel.gateway_grant_usage(principal, tab=tab, cursor=request.GET.get("cursor"))
    except ValidationError:
        return redirect("datahub:gateway_usage")
    next_query = urlencode({"tab": tab, "cursor": page.next_cursor}) if page.next_cursor else ""
    return render(
        request,
        "datahub/gateway/usage.html",
        {"page": page, "tab": tab, "tabs": tabs, "next_query": next_query, "days": sel.USAGE_DAYS},
    )


urlpatterns: list = [
    path("gateway/calls/", gateway_calls, name="gateway_calls"),
    path("gateway/usage/", gateway_usage, name="gateway_usage"),
]
