"""API: 公共信用：红黑名单与奖惩措施 (mounted at /api/credit/lists).

- GET  /                  the list entries of my district (CREDIT_VIEW; type, status filters; keyset)
- POST /                  list a subject found by USCC or ID number (CREDIT_MANAGE; publish=true publishes at once)
- GET  /measures          the measures catalogue (CREDIT_VIEW)
- GET  /{id}              one entry of my district
- POST /{id}/publish      公示 (CREDIT_MANAGE)
- POST /{id}/remove       移出 with a reason (CREDIT_MANAGE)

Errors are problem+json: 401, 403 (missing permission), 404 (another district's entry, a guessed id), 422 (field
errors: a bad USCC, an end before the start...; nothing written).

(No `from __future__ import annotations` here: django-ninja reads the annotations at import time.)
"""

from datetime import date, datetime
from typing import Literal
from uuid import UUID

from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from ninja import Field, Query, Router, Schema, Status

from yiwang.core.apiutils import principal_of, requires
from yiwang.core.models import Department
from yiwang.core.pagination import CURSOR_MAX
from yiwang.core.permissions import CREDIT_MANAGE, CREDIT_VIEW
from yiwang.core.schemas import ProblemOut

from .selectors import lists as sel
from .services.lists import list_entry_create_for, list_entry_publish, list_entry_remove

router = Router(tags=["公共信用：红黑名单与奖惩措施"])
router.add_decorator(never_cache, mode="view")

_READ = {401: ProblemOut, 403: ProblemOut, 404: ProblemOut, 422: ProblemOut}


class ListDeptRef(Schema):
    code: str
    name: str


class ListSubjectOut(Schema):
    kind: str = Field(description="organisation（法人）或 person（自然人，姓名已脱敏）")
    name: str
    uscc: str = Field("", description="法人的统一社会信用代码；自然人为空")
    file: UUID = Field(description="信用档案标识")


class ListEntryOut(Schema):
    id: UUID
    list_type: str
    list_type_label: str
    subject: ListSubjectOut
    reason: str
    legal_basis: str
    department: ListDeptRef
    starts_on: date
    ends_on: date | None = None
    status: str
    status_label: str
    is_published: bool
    published_at: datetime | None = None
    removed_at: datetime | None = None
    removal_reason: str = ""
    record: UUID | None = Field(None, description="据以列入的信用记录")
    created_at: datetime


class ListEntryPageOut(Schema):
    items: list[ListEntryOut]
    next_cursor: str | None = None


class ListEntryIn(Schema):
    list_type: Literal["red", "black"]
    uscc: str = Field("", max_length=30, description="法人：统一社会信用代码（与 id_number 二选一）")
    id_number: str = Field("", max_length=30, description="自然人：身份证号（查询记入审计）")
    reason: str = Field(max_length=300)
    legal_basis: str = Field(max_length=300)
    department: str = Field("", max_length=32, description="认定部门编码（本区）；空为本人所在部门")
    starts_on: date
    ends_on: date | None = None
    publish: bool = False


class ListRemoveIn(Schema):
    reason: str = Field(max_length=300)


class CreditMeasureOut(Schema):
    code: str
    name: str
    list_type: str
    effect: str
    legal_basis: str
    description: str
    is_active: bool


class ListFilters(Schema):
    type: Literal["", "red", "black"] = ""
    status: Literal["", "active", "removed", "expired"] = ""
    cursor: str | None = Field(None, max_length=CURSOR_MAX)
    limit: int = Field(20, ge=1, le=100)


def _out(view: sel.EntryView) -> dict:
    e = view.entry
    return {
        "id": e.public_id,
        "list_type": e.list_type,
        "list_type_label": e.get_list_type_display(),
        "subject": {
            "kind": view.subject_kind,
            "name": view.subject_name,
            "uscc": view.subject_code,
            "file": e.file.public_id,
        },
        "reason": e.reason,
        "legal_basis": e.legal_basis,
        "department": {"code": e.department.code, "name": e.department.name},
        "starts_on": e.starts_on,
        "ends_on": e.ends_on,
        "status": e.status,
        "status_label": e.get_status_display(),
        "is_published": e.is_published,
        "published_at": e.published_at,
        "removed_at": e.removed_at,
        "removal_reason": e.removal_reason,
        "record": e.record.public_id if e.record_id else None,
        "created_at": e.created_at,
    }


def _department(principal, code: str) -> tuple[Department | None, dict]:
    """(the department named by code, or the caller's own; a field error when the code is unknown)."""
    code = (code or "").strip()
    if not code:
        department = principal.department
        if department is None:
            return None, {}
        return Department.objects.select_related("division").get(pk=department.pk), {}
    department = Department.objects.select_related("division").filter(code=code).first()
    if department is None:
        return None, {"department": [_("没有编码为“%(code)s”的部门。") % {"code": code}]}
    return department, {}


@router.get("/", response={200: ListEntryPageOut, **_READ}, summary="红黑名单（本区）")
@requires(CREDIT_VIEW)
def lists_index(request: HttpRequest, filters: Query[ListFilters]):
    page = sel.list_entries_visible(
        principal_of(request),
        list_type=filters.type,
        status=filters.status,
        cursor=filters.cursor,
        limit=filters.limit,
    )
    return {"items": [_out(v) for v in page.items], "next_cursor": page.next_cursor}


@router.post("/", response={201: ListEntryOut, **_READ}, summary="认定红黑名单")
@requires(CREDIT_MANAGE)
def lists_create(request: HttpRequest, payload: ListEntryIn):
    principal = principal_of(request)
    department, department_error = _department(principal, payload.department)
    try:
        entry = list_entry_create_for(
            actor=principal,
            uscc=payload.uscc,
            id_number=payload.id_number,
            list_type=payload.list_type,
            reason=payload.reason,
            legal_basis=payload.legal_basis,
            department=department,
            starts_on=payload.starts_on,
            ends_on=payload.ends_on,
            publish=payload.publish,
        )
    except ValidationError as exc:
        raise ValidationError({**exc.message_dict, **department_error}) from exc
    if department_error:  # pragma: no cover — a missing department is refused by the service already
        raise ValidationError(department_error)
    entry = sel.list_entry_get_visible(principal, entry.public_id)
    return Status(201, _out(sel.entry_view(principal, entry)))


@router.get("/measures", response={200: list[CreditMeasureOut], **_READ}, summary="奖惩措施清单")
@requires(CREDIT_VIEW)
def lists_measures(request: HttpRequest):
    return [
        {
            "code": m.code,
            "name": m.name,
            "list_type": m.list_type,
            "effect": m.effect,
            "legal_basis": m.legal_basis,
            "description": m.description,
            "is_active": m.is_active,
        }
        for m in sel.measures_catalogue(principal_of(request))
    ]


@router.get("/{entry_id}", response={200: ListEntryOut, **_READ}, summary="名单条目")
@requires(CREDIT_VIEW)
def lists_detail(request: HttpRequest, entry_id: UUID):
    principal = principal_of(request)
    return _out(sel.entry_view(principal, sel.list_entry_get_visible(principal, entry_id)))


@router.post("/{entry_id}/publish", response={200: ListEntryOut, **_READ}, summary="公示")
@requires(CREDIT_MANAGE)
def lists_publish(request: HttpRequest, entry_id: UUID):
    principal = principal_of(request)
    entry = list_entry_publish(actor=principal, entry=sel.list_entry_get_visible(principal, entry_id))
    entry = sel.list_entry_get_visible(principal, entry.public_id)
    return _out(sel.entry_view(principal, entry))


@router.post("/{entry_id}/remove", response={200: ListEntryOut, **_READ}, summary="移出名单")
@requires(CREDIT_MANAGE)
def lists_remove(request: HttpRequest, entry_id: UUID, payload: ListRemoveIn):
    principal = principal_of(request)
    entry = list_entry_remove(
        actor=principal, entry=sel.list_entry_get_visible(principal, entry_id), reason=payload.reason
    )
    entry = sel.list_entry_get_visible(principal, entry.public_id)
    return _out(sel.entry_view(principal, entry))
