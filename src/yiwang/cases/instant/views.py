"""秒批 on the case pages: the applicant sees why the case was approved at once (or why people decide it), the
staff work page lists each rule's result and the facts it judged. Panels only (cases.panels); the decision is
read through the 秒批 service module, the case's visibility was checked by the page that renders the panel."""

from __future__ import annotations

from ..panels import applicant_panel, staff_panel
from .services import instant_decision_of

urlpatterns: list = []


def _split(decision) -> tuple[list[dict], list[dict]]:
    results = [r for r in decision.results if isinstance(r, dict)]
    return [r for r in results if r.get("passed")], [r for r in results if not r.get("passed")]


@applicant_panel
def instant_applicant_panel(request, principal, case):
    decision = instant_decision_of(case)
    if decision is None:
        return None
    passed, failed = _split(decision)
    return "cases/_instant_applicant.html", {"decision": decision, "passed": passed, "failed": failed}


@staff_panel
def instant_staff_panel(request, principal, case):
    decision = instant_decision_of(case)
    if decision is None:
        return None
    passed, failed = _split(decision)
    return (
        "cases/_instant_staff.html",
        {
            "decision": decision,
            "passed": passed,
            "failed": failed,
            "results": [*failed, *passed],  # what needs a person first
            "facts": sorted(decision.facts.items()) if isinstance(decision.facts, dict) else [],
        },
    )
