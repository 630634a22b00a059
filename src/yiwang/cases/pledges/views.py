"""告知承诺 and 容缺 pages: the verifiers' queue (/cases/pledge-checks/), one verification with its form, the
applicant's 补交 of owed materials, and the panels on the applicant's case page and the staff work page.

Views parse the request, call a selector or service and render; scoping lives in cases.pledges.selectors, the
rules in cases.pledges.services.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from yiwang.core.pageutils import page_requires
from yiwang.core.permissions import PLEDGE_VERIFY, SELF_SERVICE

from .. import selectors
from ..forms import UPLOAD_ACCEPT, PledgeVerifyForm, error_messages, material_error_key, material_views
from ..forms import uploaded_files as _uploaded_files
from ..models import Case, PledgeVerification
from ..panels import applicant_panel, staff_panel
from .selectors import case_pledge, pledge_check_visible, pledge_checks_for
from .services import case_owed, case_owed_supply, pledge_may_verify, pledge_verify

_OWED_ERRORS_ATTR = "_yiwang_owed_errors"


# --- panels ---------------------------------------------------------------------------------------------------
def _owed_context(case: Case) -> tuple[list, bool]:
    if case.state not in Case.OPEN_STATES:
        return [], False
    owed = case_owed(case)
    return owed, bool(owed)


@applicant_panel
def applicant_pledge_panel(request, principal, case: Case):
    """The applicant's case page: the pledge with its 核查 status and result; the owed 容缺 materials with their
    deadline and an upload form."""
    if principal.staff is not None or case.state == Case.State.DRAFT:
        return None
    info = case_pledge(case)
    owed, has_owed = _owed_context(case)
    if info.pledge is None and not has_owed:
        return None
    errors = getattr(request, _OWED_ERRORS_ATTR, None) or {}
    shown = {material_error_key(m.code) for m in owed}
    return (
        "cases/pledge_panel_applicant.html",
        {
            "pledge": info.pledge,
            "pledged_names": info.pledged_names,
            "verification": info.verification,
            "owed": material_views(owed, errors=errors),
            "owed_general": [m for k, msgs in errors.items() if k not in shown for m in msgs],
            "accept": UPLOAD_ACCEPT,
        },
    )


@staff_panel
def staff_pledge_panel(request, principal, case: Case):
    """The staff work page: pledge, 核查 status (with a link for a verifier), owed materials and deadline."""
    info = case_pledge(case)
    owed, has_owed = _owed_context(case)
    if info.pledge is None and not has_owed and case.owed_deadline is None:
        return None
    verification = info.verification
    return (
        "cases/pledge_panel_staff.html",
        {
            "pledge": info.pledge,
            "pledged_names": info.pledged_names,
            "verification": verification,
            "may_verify": verification is not None
            and verification.status == PledgeVerification.Status.PENDING
            and pledge_may_verify(principal, verification),
            "owed": owed,
            "today": timezone.localdate(),
        },
    )


# --- 补交 -------------------------------------------------------------------------------------------------------
@page_requires(SELF_SERVICE)
@require_POST
def owed_supply(request: HttpRequest, case_id) -> HttpResponse:
    principal = request.principal
    case = selectors.case_visible(principal, case_id)
    materials = list(case.item.materials.all())
    try:
        case_owed_supply(actor=principal, case=case, files=_uploaded_files(request.FILES, materials))
    except ValidationError as exc:
        setattr(request, _OWED_ERRORS_ATTR, error_messages(exc))
    else:
        messages.success(request, _("容缺材料已补交。"))
        return redirect("cases:detail", case_id=case.public_id)
    from ..views_applicant import _detail_context

    case.refresh_from_db()
    return render(request, "cases/detail.html", _detail_context(principal, case), status=422)


# --- the verifiers' queue -----------------------------------------------------------------------------------
@page_requires(PLEDGE_VERIFY)
def pledge_checks(request: HttpRequest) -> HttpResponse:
    principal = request.principal
    try:
        page = pledge_checks_for(principal, cursor=request.GET.get("cursor"))
    except ValidationError:
        return redirect("cases:pledge_checks")  # a stale or tampered cursor: start again
    today = timezone.localdate()
    rows = [
        {
            "verification": v,
            "case": v.case,
            "applicant": (v.case.applicant_organisation or v.case.applicant_person or ""),
            "overdue": v.due_date < today,
        }
        for v in page.items
    ]
    return render(
        request,
        "cases/pledge_checks.html",
        {
            "rows": rows,
            "page": page,
            "next_query": urlencode({"cursor": page.next_cursor}) if page.next_cursor else "",
            "today": today,
        },
    )


@page_requires(PLEDGE_VERIFY)
@require_http_methods(["GET", "POST"])
def pledge_check(request: HttpRequest, verification_id) -> HttpResponse:
    principal = request.principal
    verification = pledge_check_visible(principal, verification_id)
    form = PledgeVerifyForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                pledge_verify(
                    actor=principal,
                    verification=verification,
                    passed=form.cleaned_data["outcome"] == "passed",
                    result=form.cleaned_data["result"],
                )
            except ValidationError as exc:
                for field, msgs in error_messages(exc).items():
                    form.add_error(field if field in form.fields else None, msgs)
            else:
                messages.success(request, _("核查结果已录入。"))
                return redirect("cases:pledge_checks")
        status = 422
        verification = pledge_check_visible(principal, verification_id)
    case = verification.case
    info = case_pledge(case)
    return render(
        request,
        "cases/pledge_check.html",
        {
            "verification": verification,
            "case": case,
            "applicant": case.applicant_organisation or case.applicant_person,
            "pledge": info.pledge,
            "pledged_names": info.pledged_names,
            "form": form,
            "pending": verification.status == PledgeVerification.Status.PENDING,
            "overdue": verification.status == PledgeVerification.Status.PENDING
            and verification.due_date < timezone.localdate(),
        },
        status=status,
    )


urlpatterns: list = [
    path("pledge-checks/", pledge_checks, name="pledge_checks"),
    path("pledge-checks/<uuid:verification_id>/", pledge_check, name="pledge_check"),
    path("<uuid:case_id>/owed-supply/", owed_supply, name="owed_supply"),
]
