"""Reads of the batch-import pages and API, scoped to the licence types the principal may issue."""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import Http404

from yiwang.core.models import Department
from yiwang.core.permissions import LICENCE_ISSUE
from yiwang.core.principal import Principal

from .models import LicenceImport, LicenceType


def _department_ids(principal: Principal) -> set[int]:
    """The principal's department and every department below it (may_issue walks up from the type's)."""
    department = principal.department if principal is not None else None
    if department is None or not principal.has(LICENCE_ISSUE):
        return set()
    ids = {department.pk}
    frontier = [department.pk]
    while frontier:
        frontier = list(Department.objects.filter(parent_id__in=frontier).values_list("pk", flat=True))
        frontier = [pk for pk in frontier if pk not in ids]
        ids.update(frontier)
    return ids


def import_types(principal: Principal) -> QuerySet[LicenceType]:
    """Active licence types the principal may import (issue)."""
    return LicenceType.objects.filter(department_id__in=_department_ids(principal), is_active=True).order_by(
        "code"
    )


def import_type_get(principal: Principal, code: str) -> LicenceType:
    licence_type = import_types(principal).select_related("department").filter(code=code).first()
    if licence_type is None:
        raise Http404
    return licence_type


def imports_visible(principal: Principal) -> QuerySet[LicenceImport]:
    return LicenceImport.objects.filter(
        licence_type__department_id__in=_department_ids(principal)
    ).select_related("licence_type", "uploaded_by")


def import_get(principal: Principal, public_id) -> LicenceImport:
    record = imports_visible(principal).filter(public_id=public_id).first()
    if record is None:
        raise Http404
    return record
