"""秒批 (instant approval): an item's active rule set decides a case inside the submission request.

`case_conclude_automatically` is shared with 免申即享 (cases.services.proactive): both conclude a freshly
submitted case with approval on the platform's own authority, recording why.
"""

from __future__ import annotations

from django.utils.translation import gettext as _

from ..models import Case
from .common import _append_status, _audit, _notify_applicant, _now, _snapshot, case_changed


def case_conclude_automatically(
    *, case: Case, action: str, opinion: str, audit_extra: dict | None = None
) -> Case:
    """Concludes a just-submitted, locked-or-fresh case with approval, without a person (inside the caller's
    transaction): accepted, decided and concluded at once, one history row, one audit entry, the applicant told.

    `action` names the automatic decision in the history and audit ("instant_approve", "proactive_grant")."""
    if case.state not in (Case.State.SUBMITTED, Case.State.IN_PROGRESS):
        raise ValueError(f"case {case.pk} is {case.state}, not open")  # a programming error, not user input
    before = _snapshot(case)
    now = _now()
    from_step = case.current_step
    case.accepted_at = case.accepted_at or now
    case.decision = Case.Decision.APPROVED
    case.state = Case.State.APPROVED
    case.concluded_at = now
    case.current_step = ""
    case.step_due_date = None
    case.claimed_by = None
    case.lock_version += 1
    case.save()
    _append_status(case, action=action, actor=None, from_step=from_step, to_step="@approved", opinion=opinion)
    _audit(None, f"case.{action}", case, before=before, **(audit_extra or {}))
    _notify_applicant(
        case,
        title=_("办件已办结"),
        body=_("您申请的“%(item)s”已办结，结果：准予。%(why)s") % {"item": case.item.name, "why": opinion},
        sms=True,
    )
    case_changed(case, "instant" if action == "instant_approve" else action)
    return case


def case_instant_evaluate(*, case: Case):
    """To be completed by the 秒批 work: evaluate the item's active InstantRuleSet, record InstantDecision."""
    return None
