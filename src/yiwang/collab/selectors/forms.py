"""填表报数 I reads, scoped by the caller.

Who sees which form (`form_scope_q`):
- FORM_MANAGE: every form of their own department, in any state;
- FORM_ADMIT (the centre): every form past draft (submitted, admitted, rejected, retired);
- everyone with COLLAB_WORK: admitted forms (the register's names and fields: what is asked of the units).
Anything else is a 404, never a 403, so guessing a form's id reveals nothing. Issues of a form: its department
(FORM_MANAGE) and the centre.
"""

from __future__ import annotations

from uuid import UUID

from django.db.models import Count, Q, QuerySet
from django.http import Http404

from yiwang.core.pagination import Page, keyset_page
from yiwang.core.permissions import COLLAB_WORK, FORM_ADMIT, FORM_MANAGE
from yiwang.core.principal import Principal

from ..models import FormIssue, ReportForm

__all__ = [
    "form_admission_queue",
    "form_get",
    "form_issue_get",
    "form_issues",
    "form_may_manage",
    "form_register",
    "form_scope_q",
]


def form_scope_q(principal: Principal) -> Q:
    q = Q(pk__in=[])
    if principal is None or principal.staff is None:
        return q
    if principal.has(COLLAB_WORK):
        q |= Q(status=ReportForm.Status.APPROVED)
    if principal.has(FORM_MANAGE):
        q |= Q(owner_department_id=principal.staff.department_id)
    if principal.has(FORM_ADMIT):
        q |= ~Q(status=ReportForm.Status.DRAFT)
    return q


def form_may_manage(principal: Principal, form: ReportForm) -> bool:
    return (
        principal is not None
        and principal.staff is not None
        and principal.has(FORM_MANAGE)
        and form.owner_department_id == principal.staff.department_id
    )


def _base(principal: Principal) -> QuerySet:
    return (
        ReportForm.objects.filter(form_scope_q(principal))
        .select_related("owner_department")
        .annotate(n_fields=Count("fields", distinct=True), n_issues=Count("issues", distinct=True))
    )


def form_register(
    principal: Principal,
    *,
    status: str = "",
    mine: bool = False,
    q: str = "",
    cursor: str | None = None,
    limit: int = 50,
) -> Page:
    """The register the caller may see, ordered by code (keyset)."""
    query = _base(principal)
    if status:
        query = query.filter(status=status)
    if mine and principal.staff is not None:
        query = query.filter(owner_department_id=principal.staff.department_id)
    if q:
        query = query.filter(Q(name__icontains=q[:50]) | Q(code__icontains=q[:50]))
    return keyset_page(query, key="code", cursor=cursor, limit=limit)


def form_admission_queue(principal: Principal, *, cursor: str | None = None, limit: int = 50) -> Page:
    """Submitted forms waiting for the centre (empty for anyone else)."""
    if principal is None or not principal.has(FORM_ADMIT):
        return Page(items=[], next_cursor=None)
    return keyset_page(
        _base(principal).filter(status=ReportForm.Status.SUBMITTED), key="code", cursor=cursor, limit=limit
    )


def form_get(principal: Principal, ref) -> ReportForm:
    """One visible form by public id or code, with its fields prefetched; 404 otherwise."""
    query = ReportForm.objects.filter(form_scope_q(principal)).select_related(
        "owner_department", "reviewed_by", "created_by"
    )
    try:
        query = query.filter(public_id=UUID(str(ref)))
    except ValueError:
        query = query.filter(code=str(ref)[:40].upper().replace(".V", ".v"))
    form = query.prefetch_related("fields__element").first()
    if form is None:
        raise Http404
    return form


def _may_see_issues(principal: Principal, form: ReportForm) -> bool:
    return form_may_manage(principal, form) or (principal is not None and principal.has(FORM_ADMIT))


def form_issues(
    principal: Principal, form: ReportForm, *, cursor: str | None = None, limit: int = 50
) -> Page:
    if not _may_see_issues(principal, form):
        return Page(items=[], next_cursor=None)
    query = FormIssue.objects.filter(form=form).select_related("root_division", "issued_by")
    return keyset_page(query, key=("period_start", "public_id"), cursor=cursor, limit=limit, descending=True)


def form_issue_get(principal: Principal, form: ReportForm, ref) -> FormIssue:
    if not _may_see_issues(principal, form):
        raise Http404
    try:
        issue = FormIssue.objects.select_related("root_division").get(form=form, public_id=UUID(str(ref)))
    except (ValueError, FormIssue.DoesNotExist) as exc:
        raise Http404 from exc
    return issue
