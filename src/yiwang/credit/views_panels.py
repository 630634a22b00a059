"""The credit check's panels on the case pages (cases.panels): what was checked, what applied and why, shown to
the applicant and to staff. One read per page (the case's checks); nothing is shown when no check was recorded
(no credit app at the time, a case filed before it)."""

from __future__ import annotations

from yiwang.cases.hooks import CreditEffect
from yiwang.cases.panels import applicant_panel, staff_panel

from .selectors.lists import case_credit_checks


def _context(case) -> dict | None:
    checks = case_credit_checks(case)
    if not checks:
        return None
    effects = {item.get("effect") for check in checks for item in check.applied or ()}
    return {
        "checks": checks,
        "fast_track": CreditEffect.FAST_TRACK in effects,
        "sanctioned": bool(
            effects & {CreditEffect.NO_PLEDGE, CreditEffect.NO_INSTANT, CreditEffect.PROACTIVE_REVIEW}
        ),
    }


@applicant_panel
def applicant_credit_panel(request, principal, case):
    """The applicant's case page: the checks made on their own application (their own file, so nothing masked)."""
    context = _context(case)
    if context is None:
        return None
    return "credit/panels/checks.html", {**context, "staff_view": False}


@staff_panel
def staff_credit_panel(request, principal, case):
    """The staff work page: the same, with the 信易批 badge when FAST_TRACK applied."""
    context = _context(case)
    if context is None:
        return None
    return "credit/panels/checks.html", {**context, "staff_view": True}
