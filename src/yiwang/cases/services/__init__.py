"""Case services (办件): every write to a case, each one transaction with its audit entry inside.

A case moves only through these functions. Each locks the case row (select_for_update) and, when the caller
passes the version it saw, checks lock_version, so two clerks acting at once cannot both win; the loser gets
CaseConflict (or, without a version, a refusal because the step has moved on). Each transition appends a
CaseStatus row (add-only history), moves `current_step`/`state`, recomputes the step deadline in working days
and notifies the applicant (in-app, plus an SMS outbox record for acceptance, 补正, refusals, decisions and
conclusion). Nothing happens in save() or signals.
"""

from .common import WINDOW_PURPOSE
from .handling import (
    case_action_take,
    case_claim,
    case_mark_overdue,
    case_release,
    case_supplement_expire,
    case_supply,
    case_withdraw,
)
from .submit import (
    case_draft_file_add,
    case_draft_file_remove,
    case_draft_save,
    case_file_at_window,
    case_submit,
)

__all__ = [
    "WINDOW_PURPOSE",
    "case_draft_save",
    "case_draft_file_add",
    "case_draft_file_remove",
    "case_submit",
    "case_file_at_window",
    "case_claim",
    "case_release",
    "case_action_take",
    "case_supply",
    "case_withdraw",
    "case_supplement_expire",
    "case_mark_overdue",
]
