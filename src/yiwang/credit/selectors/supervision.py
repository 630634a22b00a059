"""Reads of 双随机、一公开, scoped to the caller: a planner (SUPERVISION_PLAN) sees their department's matters,
inspectors, conflicts, draws and results; an inspector (INSPECTION_EXECUTE) sees only the tasks assigned to them
(anything else is 404); the public sees draws' commitments and verifications by number and published results of
organisations. Lists are keyset-paginated with a fixed number of queries."""

from __future__ import annotations

from uuid import UUID

from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch, Q
from django.http import Http404
from django.utils.translation import gettext as _

from yiwang.core.models import Organisation, Staff
from yiwang.core.pagination import Page, keyset_page
from yiwang.core.permissions import INSPECTION_EXECUTE, SUPERVISION_PLAN
from yiwang.core.principal import Principal

from ..models import Conflict, Draw, InspectionMatter, InspectionTask, Inspector

__all__ = [
    "conflicts_list",
    "draw_get_public",
    "draw_get_visible",
    "draws_list",
    "inspector_get_visible",
    "inspectors_list",
    "matter_get_visible",
    "matters_list",
    "objects_list",
    "organisation_by_uscc",
    "results_list",
    "staff_of_department",
    "task_get_for_planner",
    "task_get_mine",
    "tasks_mine",
    "tasks_public",
]


def _department(principal: Principal):
    principal.require(SUPERVISION_PLAN)
    department = principal.department
    if department is None:
        raise PermissionDenied(_("只有部门工作人员可以查看双随机名录。"))
    return department


def _uuid(value) -> UUID:
    try:
        return value if isinstance(value, UUID) else UUID(str(value))
    except (TypeError, ValueError, AttributeError) as exc:
        raise Http404 from exc


# --- rosters -------------------------------------------------------------------------------------------------
def matters_list(principal: Principal, *, active_only: bool = False) -> list[InspectionMatter]:
    """The department's matters (a department has a few dozen: one query, not paged)."""
    qs = InspectionMatter.objects.filter(department=_department(principal))
    if active_only:
        qs = qs.filter(is_active=True)
    return list(qs.order_by("code")[:500])


def matter_get_visible(principal: Principal, code: str) -> InspectionMatter:
    matter = InspectionMatter.objects.filter(department=_department(principal), code=code).first()
    if matter is None:
        raise Http404
    return matter


def inspectors_list(principal: Principal, *, cursor: str | None = None, limit: int = 50) -> Page:
    qs = Inspector.objects.filter(staff__department=_department(principal)).select_related("staff")
    return keyset_page(qs, key="certificate_no", cursor=cursor, limit=limit)


def inspector_get_visible(principal: Principal, certificate_no: str) -> Inspector:
    found = (
        Inspector.objects.filter(staff__department=_department(principal), certificate_no=certificate_no)
        .select_related("staff")
        .first()
    )
    if found is None:
        raise Http404
    return found


def staff_of_department(principal: Principal, public_id) -> Staff:
    found = Staff.objects.filter(department=_department(principal), public_id=_uuid(public_id)).first()
    if found is None:
        raise Http404
    return found


def organisation_by_uscc(uscc: str) -> Organisation:
    """An organisation of the registry (the object roster is public registry data)."""
    found = Organisation.objects.filter(uscc=(uscc or "").strip().upper()).first()
    if found is None:
        raise Http404
    return found


def objects_list(
    principal: Principal,
    *,
    town: str = "",
    kind: str = "",
    q: str = "",
    cursor: str | None = None,
    limit: int = 50,
) -> Page:
    """检查对象名录库: the active organisations of the registry, by town (its villages included) and kind, by USCC,
    each with its credit grade (no file: A) in the same query."""
    _department(principal)
    qs = Organisation.objects.filter(status=Organisation.Status.ACTIVE).select_related(
        "division", "credit_file"
    )
    if town:
        qs = qs.filter(division__code__startswith=town[:9])
    if kind in Organisation.Kind.values:
        qs = qs.filter(kind=kind)
    q = (q or "").strip()[:50]
    if q:
        qs = qs.filter(Q(name__contains=q) | Q(uscc=q.upper()))
    return keyset_page(qs, key="uscc", cursor=cursor, limit=limit)


def conflicts_list(principal: Principal, *, cursor: str | None = None, limit: int = 50) -> Page:
    qs = Conflict.objects.filter(inspector__staff__department=_department(principal)).select_related(
        "inspector", "inspector__staff", "organisation"
    )
    return keyset_page(qs, key="id", cursor=cursor, limit=limit, descending=True)


# --- draws ---------------------------------------------------------------------------------------------------
def draws_list(principal: Principal, *, cursor: str | None = None, limit: int = 50) -> Page:
    qs = Draw.objects.filter(department=_department(principal)).select_related("matter")
    return keyset_page(qs, key="id", cursor=cursor, limit=limit, descending=True)


def draw_get_visible(principal: Principal, public_id) -> Draw:
    draw = (
        Draw.objects.filter(department=_department(principal), public_id=_uuid(public_id))
        .select_related("matter", "department", "created_by")
        .first()
    )
    if draw is None:
        raise Http404
    return draw


def draw_get_public(number: str) -> Draw:
    """Any draw by its number (the commitment is public from the start; the seed only once revealed)."""
    draw = (
        Draw.objects.filter(number=(number or "").strip()[:24]).select_related("matter", "department").first()
    )
    if draw is None:
        raise Http404
    return draw


def draw_tasks(draw: Draw) -> list[InspectionTask]:
    return list(
        draw.tasks.select_related("organisation")
        .prefetch_related(Prefetch("inspectors", queryset=Inspector.objects.select_related("staff")))
        .order_by("position")
    )


# --- tasks ---------------------------------------------------------------------------------------------------
def _task_rows():
    return InspectionTask.objects.select_related(
        "organisation", "draw", "draw__matter", "draw__department"
    ).prefetch_related(Prefetch("inspectors", queryset=Inspector.objects.select_related("staff")))


def _mine_q(principal: Principal) -> Q:
    principal.require(INSPECTION_EXECUTE)
    staff = principal.staff
    if staff is None:
        return Q(pk__in=[])
    return Q(pk__in=InspectionTask.objects.filter(inspectors__staff_id=staff.pk).values("pk"))


def tasks_mine(
    principal: Principal, *, status: str | None = None, cursor: str | None = None, limit: int = 50
) -> Page:
    """The tasks assigned to me, by due date."""
    qs = _task_rows().filter(_mine_q(principal))
    if status in InspectionTask.Status.values:
        qs = qs.filter(status=status)
    return keyset_page(qs, key=("due_date", "id"), cursor=cursor, limit=limit)


def task_get_mine(principal: Principal, public_id) -> InspectionTask:
    task = _task_rows().filter(_mine_q(principal), public_id=_uuid(public_id)).first()
    if task is None:
        raise Http404
    return task


def results_list(
    principal: Principal, *, status: str | None = None, cursor: str | None = None, limit: int = 50
) -> Page:
    """The department's tasks (default: recorded results waiting for publication), by publish_by."""
    qs = _task_rows().filter(draw__department=_department(principal))
    qs = qs.filter(status=status if status in InspectionTask.Status.values else InspectionTask.Status.DONE)
    return keyset_page(qs, key=("due_date", "id"), cursor=cursor, limit=limit)


def task_get_for_planner(principal: Principal, public_id) -> InspectionTask:
    task = _task_rows().filter(draw__department=_department(principal), public_id=_uuid(public_id)).first()
    if task is None:
        raise Http404
    return task


def tasks_public(*, cursor: str | None = None, limit: int = 50, q: str = "") -> Page:
    """一公开: published results (organisations only; inspectors' names are part of the publication), newest
    first."""
    qs = InspectionTask.objects.filter(status=InspectionTask.Status.PUBLISHED).select_related(
        "organisation", "draw", "draw__matter", "draw__department"
    )
    q = (q or "").strip()[:50]
    if q:
        qs = qs.filter(Q(organisation__name__contains=q) | Q(organisation__uscc=q.upper()))
    qs = qs.prefetch_related(Prefetch("inspectors", queryset=Inspector.objects.select_related("staff")))
    return keyset_page(qs, key=("published_at", "id"), cursor=cursor, limit=limit, descending=True)
