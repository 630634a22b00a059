"""一件事 reads a user can reach, scoped by the principal.

- The applicant sees their own bundle applications (another's is a 404: its existence is not disclosed).
- Staff see a bundle application when they may see one of its sub-cases (cases.selectors rules); they see the
  history of those sub-cases only, and the states of the others. Staff reads are audited.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Prefetch
from django.http import Http404
from django.utils.translation import gettext as _

from yiwang.core.audit import audit_record
from yiwang.core.pagination import Page, keyset_page
from yiwang.core.permissions import SELF_SERVICE
from yiwang.core.principal import Principal

from ..models import BundleCase, BundlePart, Case, CaseFile, CaseStatus
from ..selectors import _FIXED_LABELS, _is_applicant_view, _step_name, _visible
from ..workflow import process_of

MINE_LIMIT = 20


def _parts_prefetch() -> Prefetch:
    return Prefetch(
        "parts",
        queryset=BundlePart.objects.select_related("item__department", "case").order_by("sort", "id"),
    )


def bundle_cases_of_applicant(
    principal: Principal, *, cursor: str | None = None, limit: int = MINE_LIMIT
) -> Page[BundleCase]:
    """The caller's own bundle applications, newest first (keyset on id; three queries a page)."""
    principal.require(SELF_SERVICE)
    account = principal.account
    if account is None:
        return Page(items=[], next_cursor=None)
    query = (
        BundleCase.objects.filter(applicant_account=account)
        .select_related("bundle")
        .defer("form_data")
        .prefetch_related(_parts_prefetch())
    )
    return keyset_page(query, key="id", cursor=cursor, limit=limit, descending=True)


def _is_owner(principal: Principal, bc: BundleCase) -> bool:
    account = principal.account
    return account is not None and bc.applicant_account_id == account.pk


def bundle_case_visible(principal: Principal, public_id) -> BundleCase:
    """One bundle application with its parts (item, department, sub-case), if the principal may see it;
    Http404 otherwise (also for malformed ids)."""
    try:
        bc = (
            BundleCase.objects.select_related("bundle__lead_department", "applicant_account")
            .prefetch_related(_parts_prefetch())
            .get(public_id=public_id)
        )
    except (BundleCase.DoesNotExist, ValidationError, ValueError):
        raise Http404(_("没有找到该一件事办件。")) from None
    if _is_owner(principal, bc):
        return bc
    cases = [p.case for p in bc.parts.all() if p.case is not None]
    if not any(_visible(principal, case) for case in cases):
        raise Http404(_("没有找到该一件事办件。"))
    with transaction.atomic():
        audit_record(
            actor=principal,
            action="bundle_case.read",
            object_type="bundle_case",
            object_id=str(bc.public_id),
            purpose=_("一件事办理与查询"),
        )
    return bc


def bundle_case_parts_visible(principal: Principal, bc: BundleCase) -> set[int]:
    """Ids of the sub-cases whose details (history, files, page) the principal may open."""
    cases = [p.case for p in bc.parts.all() if p.case is not None]
    if _is_owner(principal, bc):
        return {c.pk for c in cases}
    return {c.pk for c in cases if _visible(principal, c)}


@dataclass(frozen=True)
class BundleTimelineEntry:
    at: object
    item_code: str
    item_name: str
    case: Case | None
    action: str
    label: str
    from_step_name: str
    to_step_name: str
    actor_label: str
    opinion: str
    opinion_hidden: bool
    files: list = field(default_factory=list)


def bundle_case_timeline(principal: Principal, bc: BundleCase) -> list[BundleTimelineEntry]:
    """ONE timeline: the history of every sub-case the principal may see, in time order, labelled by item
    (two queries whatever the number of items). Opinions the law keeps from the applicant stay hidden."""
    visible = bundle_case_parts_visible(principal, bc)
    parts = {p.case_id: p for p in bc.parts.all() if p.case_id in visible}
    entries: list[BundleTimelineEntry] = [
        BundleTimelineEntry(
            at=bc.submitted_at,
            item_code="",
            item_name=bc.bundle.name,
            case=None,
            action="bundle_submit",
            label=_("提交一件事申请"),
            from_step_name="",
            to_step_name="",
            actor_label="",
            opinion="",
            opinion_hidden=False,
        )
    ]
    if not parts:
        return entries
    history = (
        CaseStatus.objects.filter(case_id__in=list(parts))
        .order_by("created_at", "case_id", "seq")
        .prefetch_related(Prefetch("files", queryset=CaseFile.objects.order_by("id")))
    )
    for row in history:
        part = parts[row.case_id]
        case = part.case
        process = process_of(part.item)
        applicant_view = _is_applicant_view(principal, case)
        transition = process.transition(row.from_step, row.action) if row.from_step else None
        label = transition.label if transition else _FIXED_LABELS.get(row.action, row.action)
        hidden = applicant_view and not row.opinion_public
        entries.append(
            BundleTimelineEntry(
                at=row.created_at,
                item_code=part.item.code,
                item_name=part.item.name,
                case=case,
                action=row.action,
                label=str(label),
                from_step_name=_step_name(process, row.from_step),
                to_step_name=_step_name(process, row.to_step),
                actor_label=row.actor_label,
                opinion="" if hidden else row.opinion,
                opinion_hidden=hidden and bool(row.opinion),
                files=[] if hidden else list(row.files.all()),
            )
        )
    return entries


def bundle_case_for_case(case: Case) -> BundleCase | None:
    """The bundle application a sub-case belongs to, with its parts (for the panels of the case pages)."""
    if not case.bundle_case_id:
        return None
    return (
        BundleCase.objects.select_related("bundle")
        .defer("form_data")
        .prefetch_related(_parts_prefetch())
        .filter(pk=case.bundle_case_id)
        .first()
    )
