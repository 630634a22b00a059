"""The credit check inside the workflows (cases.hooks.CreditCheck): the verdict at the moment of a decision —
one indexed read of the subject's credit file, whose grade, lists and effects are kept current by
`evaluation.credit_file_refresh` — and its record on the case (CreditCheck), shown to staff and the applicant."""

from __future__ import annotations

from collections.abc import Sequence

from django.utils.translation import gettext as _

from yiwang.cases.hooks import CreditVerdict
from yiwang.core.audit import audit_record

from ..models import CreditCheck, CreditFile

CHECKED_NOTHING = CreditVerdict(checked=True)


def credit_verdict(*, person_id: int | None = None, organisation_id: int | None = None) -> CreditVerdict:
    """The organisation's file when the application is an organisation's, else the person's."""
    if organisation_id is not None:
        rows = CreditFile.objects.filter(organisation_id=organisation_id)
    elif person_id is not None:
        rows = CreditFile.objects.filter(person_id=person_id)
    else:
        return CHECKED_NOTHING
    row = rows.values_list("pk", "grade", "lists", "effects").first()
    if row is None:
        return CHECKED_NOTHING
    pk, grade, lists, effects = row
    return CreditVerdict(
        checked=True,
        file_id=pk,
        grade=grade,
        lists=tuple(item["label"] for item in lists or ()),
        effects=frozenset(item["effect"] for item in effects or ()),
        reasons={item["effect"]: item["reason"] for item in effects or ()},
    )


def check_outcome(verdict: CreditVerdict, applied: Sequence[str]) -> str:
    if verdict.file_id is None:
        return _("未查询到信用记录，未列入红黑名单。")
    parts = [_("信用等级 %(grade)s") % {"grade": verdict.grade}]
    parts.append(
        _("列入：%(lists)s") % {"lists": "；".join(verdict.lists)} if verdict.lists else _("未列入红黑名单")
    )
    if applied:
        parts.append(_("适用措施：%(m)s") % {"m": "；".join(verdict.reason(e) for e in applied)})
    return "；".join(parts)[:500]


def credit_check_record(
    *, case, moment: str, verdict: CreditVerdict, applied: Sequence[str] = ()
) -> CreditCheck | None:
    """Stores the check on the case inside the caller's transaction (one statement; the latest check of a moment
    stands); a measure that applied is audited too."""
    if not verdict.checked:
        return None
    check = CreditCheck(
        case=case,
        moment=moment,
        file_id=verdict.file_id,
        grade=verdict.grade,
        lists=list(verdict.lists),
        applied=[{"effect": e, "reason": verdict.reason(e)} for e in applied],
        outcome=check_outcome(verdict, applied),
    )
    # One INSERT; a decision taken again at the same moment (秒批 re-run) replaces the earlier check.
    CreditCheck.objects.bulk_create(
        [check],
        update_conflicts=True,
        unique_fields=["case", "moment"],
        update_fields=["file", "grade", "lists", "applied", "outcome", "checked_at"],
    )
    if applied:
        audit_record(
            actor=None,
            action="credit.measure_applied",
            object_type="case",
            object_id=str(case.public_id),
            after={
                "moment": moment,
                "grade": verdict.grade,
                "applied": list(applied),
                "lists": list(verdict.lists),
            },
        )
    return check
