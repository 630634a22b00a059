"""免申即享 pages: an applicant's own entitlements (confirm / decline), and the data officers' policy statistics
(funnel, reasons for exclusion, the entitlement list with masked names, run buttons).

Views parse, call a selector or service, render; ownership (Http404), rules and locks live in
cases.proactive.selectors and cases.proactive.services.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from yiwang.core.pageutils import page_requires
from yiwang.core.permissions import POLICY_VIEW, SELF_SERVICE

from ..models import Entitlement
from . import entitlements as grants
from . import selectors, services

PAGE_SIZE = 20


def _problems(exc: ValidationError) -> str:
    return "；".join(exc.messages)


# --- applicants ----------------------------------------------------------------------------------------------
@page_requires(SELF_SERVICE)
@require_GET
def entitlements(request: HttpRequest) -> HttpResponse:
    page = selectors.entitlements_mine(request.principal, cursor=request.GET.get("cursor"), limit=PAGE_SIZE)
    rows = []
    for entitlement in page.items:
        met, failed = selectors.entitlement_reasons(entitlement)
        rows.append({"e": entitlement, "met": met, "failed": failed})
    return render(
        request,
        "cases/entitlements.html",
        {"page": page, "rows": rows, "open_states": ("eligible", "notified", "confirmed")},
    )


@page_requires(SELF_SERVICE)
@require_POST
def entitlement_confirm(request: HttpRequest, entitlement_id) -> HttpResponse:
    entitlement = selectors.entitlement_get_own(request.principal, entitlement_id)
    try:
        result = grants.entitlement_confirm(actor=request.principal, entitlement=entitlement)
    except ValidationError as exc:
        messages.error(request, _problems(exc))
    else:
        if result.status == Entitlement.Status.GRANTED:
            messages.success(
                request,
                _("已确认享受“%(policy)s”，已为您办结（办件编号 %(number)s）。")
                % {"policy": result.policy.name, "number": result.case.number},
            )
        else:
            messages.warning(
                request, _("经重新核验，您已不再符合条件：%(reason)s") % {"reason": result.reason}
            )
    return redirect("cases:entitlements")


@page_requires(SELF_SERVICE)
@require_POST
def entitlement_decline(request: HttpRequest, entitlement_id) -> HttpResponse:
    entitlement = selectors.entitlement_get_own(request.principal, entitlement_id)
    try:
        grants.entitlement_decline(
            actor=request.principal, entitlement=entitlement, reason=request.POST.get("reason", "")
        )
    except ValidationError as exc:
        messages.error(request, _problems(exc))
    else:
        messages.success(
            request, _("已放弃“%(policy)s”，今后不再提醒。") % {"policy": entitlement.policy.name}
        )
    return redirect("cases:entitlements")


# --- data officers ---------------------------------------------------------------------------------------------
@page_requires(POLICY_VIEW)
@require_GET
def policies(request: HttpRequest) -> HttpResponse:
    return render(request, "cases/policies.html", {"stats": selectors.policy_stats(request.principal)})


@page_requires(POLICY_VIEW)
@require_GET
def policy(request: HttpRequest, code: str) -> HttpResponse:
    found = selectors.policy_get(request.principal, code)
    stats = selectors.policy_stats(request.principal, policies=[found])[0]
    reason_run, reasons = selectors.policy_reasons(found, stats.runs)
    status = request.GET.get("status") or ""
    if status not in Entitlement.Status.values:
        status = ""
    page = selectors.policy_entitlements(
        request.principal, found, status=status or None, cursor=request.GET.get("cursor"), limit=50
    )
    return render(
        request,
        "cases/policy_detail.html",
        {
            "policy": found,
            "stats": stats,
            "reason_run": reason_run,
            "reasons": reasons,
            "page": page,
            "status": status,
            "statuses": Entitlement.Status.choices,
        },
    )


@page_requires(POLICY_VIEW)
@require_POST
def policy_evaluate(request: HttpRequest, code: str) -> HttpResponse:
    found = selectors.policy_get(request.principal, code)
    full = request.POST.get("full") == "1"
    try:
        services.policy_evaluate_enqueue(actor=request.principal, policy=found, full=full)
    except ValidationError as exc:
        messages.error(request, _problems(exc))
    else:
        messages.success(
            request,
            (_("已提交全量评估：%(policy)s") if full else _("已提交增量评估：%(policy)s"))
            % {"policy": found.name},
        )
    if request.POST.get("next") == "detail":
        return redirect("cases:policy", code=found.code)
    return redirect("cases:policies")


urlpatterns = [
    path("entitlements/", entitlements, name="entitlements"),
    path("entitlements/<uuid:entitlement_id>/confirm/", entitlement_confirm, name="entitlement_confirm"),
    path("entitlements/<uuid:entitlement_id>/decline/", entitlement_decline, name="entitlement_decline"),
    path("policies/", policies, name="policies"),
    path("policies/<slug:code>/", policy, name="policy"),
    path("policies/<slug:code>/evaluate/", policy_evaluate, name="policy_evaluate"),
]
