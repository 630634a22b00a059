"""Reads of 告知承诺 and 容缺: the verification queue of a department, one verification, a case's pledge.

Scoped by the principal: a verifier (PLEDGE_VERIFY) sees the verifications of their department tree
(cases.pledges.services.pledge_departments); another department's verification is a 404, never a 403. The queue
is keyset-paginated on (due_date, id) over the (department, status, due_date, id) index.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404
from django.utils.translation import gettext as _

from yiwang.core.audit import audit_record
from yiwang.core.pagination import MAX_LIMIT, Page, decode_cursor, encode_cursor, invalid_cursor
from yiwang.core.permissions import PLEDGE_VERIFY
from yiwang.core.principal import Principal

from ..models import Case, Pledge, PledgeVerification
from .services import pledge_departments

__all__ = ["CHECKS_LIMIT", "pledge_checks_for", "pledge_check_visible", "CasePledge", "case_pledge"]

CHECKS_LIMIT = 20
_RELATED = ("case__item", "case__applicant_person", "case__applicant_organisation", "department")
# Large columns a queue row never shows.
_DEFERRED = (
    "case__form_data",
    "case__item__form_schema",
    "case__item__process",
    "case__item__guide",
    "case__item__conditions",
    "case__item__legal_basis",
    "case__item__where_to_apply",
    "case__applicant_organisation__business_scope",
)


def pledge_checks_for(
    principal: Principal,
    *,
    status: str = PledgeVerification.Status.PENDING,
    cursor: str | None = None,
    limit: int = CHECKS_LIMIT,
) -> Page[PledgeVerification]:
    """The department tree's verifications in one status (pending by default), earliest due date first."""
    principal.require(PLEDGE_VERIFY)
    departments = pledge_departments(principal)
    if not departments:
        return Page(items=[], next_cursor=None)
    if status not in PledgeVerification.Status.values:
        raise ValidationError({"status": _("核查状态无效。")})
    limit = max(1, min(int(limit or CHECKS_LIMIT), MAX_LIMIT))
    query = (
        PledgeVerification.objects.filter(department_id__in=departments, status=status)
        .select_related(*_RELATED)
        .defer(*_DEFERRED)
        .order_by("due_date", "id")
    )
    if cursor:
        value = decode_cursor(cursor)
        try:
            due, last_id = date.fromisoformat(value[0]), int(value[1])
        except (TypeError, ValueError, IndexError, KeyError) as exc:
            raise invalid_cursor() from exc
        query = query.filter(due_date__gte=due).exclude(due_date=due, id__lte=last_id)
    rows = list(query[: limit + 1])
    more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = encode_cursor([rows[-1].due_date.isoformat(), rows[-1].pk]) if more and rows else None
    return Page(items=rows, next_cursor=next_cursor)


def pledge_check_visible(principal: Principal, public_id) -> PledgeVerification:
    """One verification of the principal's department tree (Http404 otherwise, also for malformed ids). Opening
    it shows the applicant's case, so the read is audited like any staff read of a case."""
    principal.require(PLEDGE_VERIFY)
    try:
        verification = (
            PledgeVerification.objects.select_related(
                "case__item",
                "case__department",
                "case__applicant_person",
                "case__applicant_organisation",
                "department",
                "verified_by",
            )
            .select_related("case__pledge")
            .get(public_id=public_id)
        )
    except (PledgeVerification.DoesNotExist, ValidationError, ValueError):
        raise Http404(_("没有找到该核查任务。")) from None
    if verification.department_id not in pledge_departments(principal):
        raise Http404(_("没有找到该核查任务。"))
    with transaction.atomic():
        audit_record(
            actor=principal,
            action="case.read",
            object_type="case",
            object_id=str(verification.case.public_id),
            purpose=_("告知承诺核查"),
        )
    return verification


@dataclass(frozen=True)
class CasePledge:
    """What the case pages show about 告知承诺 and 容缺 of one case."""

    pledge: Pledge | None
    pledged_names: list[str]
    verification: PledgeVerification | None


def case_pledge(case: Case) -> CasePledge:
    """The case's pledge (with the names of the materials it replaces) and its verification. The caller has
    already established that the principal may see the case (case_visible)."""
    pledge = Pledge.objects.filter(case=case).first()
    verification = None
    names: list[str] = []
    if pledge is not None:
        by_code = {m.code: m.name for m in case.item.materials.all()}
        names = [by_code.get(code, code) for code in pledge.materials]
        verification = PledgeVerification.objects.filter(case=case).select_related("verified_by").first()
    return CasePledge(pledge=pledge, pledged_names=names, verification=verification)


def verification_overdue(verification: PledgeVerification, today: date) -> bool:
    return verification.status == PledgeVerification.Status.PENDING and verification.due_date < today
