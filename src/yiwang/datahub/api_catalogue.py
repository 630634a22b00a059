"""API: 资源目录 (/api/datahub/catalogue) — search with facets, one resource, and the lifecycle steps.

Data officers (DATA_STEWARD) and the big-data centre (DATA_CENTRE) only; scoping in selectors/catalogue.py
(published resources for every officer, drafts for their department and the centre), rules in
services/catalogue.py. A resource is named by its public id or by its code (the newest version the caller may
see). Errors are problem+json: 401 without credentials, 403 without the permission or when the caller may not
take the step, 404 for a resource outside the caller's view, 409 for a stale `row_version` or a step the
resource's state does not allow, 422 with field errors.

(No `from __future__ import annotations` here: django-ninja reads the parameter annotations at import time.)
"""

from datetime import date, datetime
from uuid import UUID

from django.http import HttpRequest
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from ninja import Field, File, Form, Query, Router, Schema, Status, UploadedFile

from yiwang.core.apiutils import principal_of, problem, requires
from yiwang.core.pagination import CURSOR_MAX
from yiwang.core.permissions import DATA_CENTRE, DATA_STEWARD
from yiwang.core.schemas import ProblemOut

from .models import DataResource
from .selectors.catalogue import (
    FACETS,
    catalogue_search,
    provider_for,
    resource_detail,
    resource_get_visible,
    review_queue,
)
from .services import catalogue as services
from .services.catalogue import ResourceConflict

router = Router(tags=["资源目录"])
router.add_decorator(never_cache, mode="view")

_ERRORS = {401: ProblemOut, 403: ProblemOut, 404: ProblemOut, 409: ProblemOut, 422: ProblemOut}


# --- schemas ---------------------------------------------------------------------------------------------
class ResourceDepartmentRef(Schema):
    code: str
    name: str


class ResourceSummaryOut(Schema):
    id: UUID = Field(description="资源标识（public id）")
    code: str = Field(description="资源代码（各版本共用）")
    version: int
    name: str
    summary: str
    provider: ResourceDepartmentRef
    resource_class: str
    theme: str
    share_type: str
    open_type: str
    update_cycle: str
    data_class: str
    grade: str
    status: str
    released_on: date | None = None
    is_platform: bool


class FacetValueOut(Schema):
    value: str
    label: str
    count: int
    selected: bool


class SearchOut(Schema):
    items: list[ResourceSummaryOut]
    next_cursor: str | None = None
    total: int = Field(description="符合当前检索条件的资源数")
    facets: dict[str, list[FacetValueOut]] = Field(
        description="分面：provider、resource_class、theme、share_type、open_type、grade、update_cycle"
    )


class PageOut(Schema):
    items: list[ResourceSummaryOut]
    next_cursor: str | None = None


class ResourceFieldOut(Schema):
    name: str
    label: str
    element: str | None = Field(None, description="数据元标识符")
    element_name: str | None = None
    data_type: str
    share_type: str
    share_condition: str
    no_share_basis: str
    data_class: str
    grade: str
    default_mask: str
    is_key: bool


class VersionOut(Schema):
    id: UUID
    version: int
    status: str
    released_on: date | None = None


class ResourceEventOut(Schema):
    seq: int
    action: str
    from_status: str
    to_status: str
    actor: str
    note: str
    at: datetime


class PolicyOut(Schema):
    default_mask: str
    requesters: str
    approval: str
    export_limit: int
    watermark: bool
    log_level: str


class ResourceOut(ResourceSummaryOut):
    source_system: str
    format: str
    share_condition: str
    no_share_basis: str
    mount_kind: str
    mount_target: str
    mount_options: dict
    return_levels: list[int]
    data_updated_at: datetime | None = None
    contact_name: str
    contact_phone: str
    review_note: str
    retire_notice: str
    previous: UUID | None = None
    row_version: int = Field(description="乐观锁版本：修改类操作须带上")
    fields: list[ResourceFieldOut]
    versions: list[VersionOut]
    events: list[ResourceEventOut]
    actions: list[str] = Field(description="调用者当前可执行的操作")
    grade_policy: PolicyOut
    active_grants: int


class SearchQuery(Schema):
    q: str = Field("", max_length=100, description="中文检索词（名称、摘要、信息项、提供部门、主题）")
    status: str = Field("", description="状态；默认当前版本（草稿至已发布），all 为全部")
    provider: str = Field("", description="提供部门编码")
    resource_class: str = ""
    theme: str = ""
    share_type: str = ""
    open_type: str = ""
    grade: str = ""
    update_cycle: str = ""
    cursor: str | None = Field(None, max_length=CURSOR_MAX)
    limit: int = Field(20, ge=1, le=100)


class RegisterIn(Schema):
    provider: str = Field("", max_length=20, description="提供部门编码；默认本人所在部门")
    name: str = Field(max_length=200)
    summary: str = Field(max_length=4000)
    resource_class: str = Field(description="base / theme / department")
    theme: str = Field("", max_length=60)
    source_system: str = Field("", max_length=120)
    format: str = "database"
    share_type: str
    share_condition: str = Field("", max_length=2000)
    no_share_basis: str = Field("", max_length=2000)
    open_type: str = "closed"
    update_cycle: str
    data_class: str
    grade: str = "general"
    return_levels: list[int] = Field(default_factory=list)
    contact_name: str = Field("", max_length=50)
    contact_phone: str = Field("", max_length=30)


class UpdateIn(Schema):
    row_version: int
    name: str | None = Field(None, max_length=200)
    summary: str | None = Field(None, max_length=4000)
    resource_class: str | None = None
    theme: str | None = Field(None, max_length=60)
    source_system: str | None = Field(None, max_length=120)
    format: str | None = None
    share_type: str | None = None
    share_condition: str | None = Field(None, max_length=2000)
    no_share_basis: str | None = Field(None, max_length=2000)
    open_type: str | None = None
    update_cycle: str | None = None
    data_class: str | None = None
    grade: str | None = None
    return_levels: list[int] | None = None
    contact_name: str | None = Field(None, max_length=50)
    contact_phone: str | None = Field(None, max_length=30)


class FieldIn(Schema):
    name: str = Field(max_length=64)
    label: str = Field(max_length=120)
    element: str = Field("", max_length=20, description="数据元标识符，如 DE00001")
    data_type: str = Field("", max_length=16)
    share_type: str
    share_condition: str = Field("", max_length=2000)
    no_share_basis: str = Field("", max_length=2000)
    data_class: str
    grade: str = "general"
    default_mask: str = Field("", description="留空则按分级策略的默认脱敏")
    is_key: bool = False


class FieldsIn(Schema):
    row_version: int
    fields: list[FieldIn] = Field(max_length=300)


class MountIn(Schema):
    row_version: int
    mount_kind: str = Field(description="registry / offshore / external_api（数据集请用 /dataset 上传）")
    mount_target: str = Field("", max_length=300)
    mount_options: dict = Field(
        default_factory=dict, description='如 {"system": "客户端标识"}、{"harvester": "…"}'
    )


class StepIn(Schema):
    row_version: int


class ResourceReviewIn(Schema):
    row_version: int
    approve: bool
    note: str = Field("", max_length=2000)


class ResourceRetireIn(Schema):
    row_version: int
    notice: str = Field(max_length=2000)


# --- helpers -----------------------------------------------------------------------------------------------
def _summary(r: DataResource) -> dict:
    return {
        "id": r.public_id,
        "code": r.code,
        "version": r.version,
        "name": r.name,
        "summary": r.summary,
        "provider": {"code": r.provider.code, "name": r.provider.name},
        "resource_class": r.resource_class,
        "theme": r.theme,
        "share_type": r.share_type,
        "open_type": r.open_type,
        "update_cycle": r.update_cycle,
        "data_class": r.data_class,
        "grade": r.grade,
        "status": r.status,
        "released_on": r.released_on,
        "is_platform": r.is_platform,
    }


_HIDDEN_OPTIONS = ("file",)  # the storage name of an uploaded dataset stays inside


def _detail(principal, ref) -> dict:
    d = resource_detail(principal, ref)
    r = d.resource
    policy = d.policy
    return {
        **_summary(r),
        **{
            name: getattr(r, name)
            for name in (
                "source_system",
                "format",
                "share_condition",
                "no_share_basis",
                "mount_kind",
                "mount_target",
                "return_levels",
                "data_updated_at",
                "contact_name",
                "contact_phone",
                "review_note",
                "retire_notice",
                "row_version",
            )
        },
        "mount_options": {k: v for k, v in (r.mount_options or {}).items() if k not in _HIDDEN_OPTIONS},
        "previous": r.previous.public_id if r.previous_id else None,
        "fields": [
            {
                "name": f.name,
                "label": f.label,
                "element": f.element.identifier if f.element_id else None,
                "element_name": f.element.name if f.element_id else None,
                "data_type": f.data_type,
                "share_type": f.share_type,
                "share_condition": f.share_condition,
                "no_share_basis": f.no_share_basis,
                "data_class": f.data_class,
                "grade": f.grade,
                "default_mask": f.default_mask,
                "is_key": f.is_key,
            }
            for f in d.fields
        ],
        "versions": [
            {"id": v.public_id, "version": v.version, "status": v.status, "released_on": v.released_on}
            for v in d.versions
        ],
        "events": [
            {
                "seq": e.seq,
                "action": e.action,
                "from_status": e.from_status,
                "to_status": e.to_status,
                "actor": e.actor_label,
                "note": e.note,
                "at": e.created_at,
            }
            for e in d.events
        ],
        "actions": d.actions,
        "grade_policy": {
            n: getattr(policy, n)
            for n in ("default_mask", "requesters", "approval", "export_limit", "watermark", "log_level")
        },
        "active_grants": d.grant_count,
    }


def _conflict(request, exc: ResourceConflict):
    return problem(request, 409, _("操作冲突"), str(exc))


# --- reads -------------------------------------------------------------------------------------------------
@router.get("/", response={200: SearchOut, **_ERRORS}, summary="检索资源目录（中文检索 + 分面，键集分页）")
@requires(DATA_STEWARD, DATA_CENTRE)
def search(request: HttpRequest, filters: Query[SearchQuery]):
    values = filters.dict()
    cursor, limit = values.pop("cursor"), values.pop("limit")
    result = catalogue_search(principal_of(request), cursor=cursor, limit=limit, **values)
    return {
        "items": [_summary(r) for r in result.page.items],
        "next_cursor": result.page.next_cursor,
        "total": result.total,
        "facets": {
            name: [
                {"value": v.value, "label": v.label, "count": v.count, "selected": v.selected}
                for v in result.facets.get(name, [])
            ]
            for name in FACETS
        },
    }


@router.get("/review-queue", response={200: PageOut, **_ERRORS}, summary="待审核的资源（大数据中心）")
@requires(DATA_CENTRE)
def queue(
    request: HttpRequest,
    cursor: str | None = Query(None, max_length=CURSOR_MAX),
    limit: int = Query(50, ge=1, le=200),
):
    page = review_queue(principal_of(request), cursor=cursor, limit=limit)
    return {"items": [_summary(r) for r in page.items], "next_cursor": page.next_cursor}


@router.get("/{ref}", response={200: ResourceOut, **_ERRORS}, summary="资源详情（按标识或资源代码）")
@requires(DATA_STEWARD, DATA_CENTRE)
def detail(request: HttpRequest, ref: str):
    return _detail(principal_of(request), ref)


# --- writes ------------------------------------------------------------------------------------------------
@router.post("/", response={201: ResourceOut, **_ERRORS}, summary="登记数据资源（草稿）")
@requires(DATA_STEWARD, DATA_CENTRE)
def register(request: HttpRequest, payload: RegisterIn):
    principal = principal_of(request)
    values = payload.dict()
    provider = provider_for(principal, values.pop("provider"))
    resource = services.resource_register(actor=principal, provider=provider, **values)
    return Status(201, _detail(principal, resource.public_id))


def _step(request, ref, call):
    principal = principal_of(request)
    resource = resource_get_visible(principal, ref)
    try:
        result = call(principal, resource)
    except ResourceConflict as exc:
        return _conflict(request, exc)
    return _detail(principal, getattr(result, "public_id", resource.public_id))


@router.patch("/{ref}", response={200: ResourceOut, **_ERRORS}, summary="修改资源元数据（草稿或已挂接）")
@requires(DATA_STEWARD, DATA_CENTRE)
def update(request: HttpRequest, ref: str, payload: UpdateIn):
    values = {k: v for k, v in payload.dict(exclude_unset=True).items() if v is not None}
    row_version = values.pop("row_version")
    return _step(
        request,
        ref,
        lambda p, r: services.resource_update(actor=p, resource=r, row_version=row_version, **values),
    )


@router.put("/{ref}/fields", response={200: ResourceOut, **_ERRORS}, summary="设置信息项（整体替换）")
@requires(DATA_STEWARD, DATA_CENTRE)
def fields_set(request: HttpRequest, ref: str, payload: FieldsIn):
    rows = [f.dict() for f in payload.fields]
    return _step(
        request,
        ref,
        lambda p, r: (
            services.resource_fields_set(actor=p, resource=r, fields=rows, row_version=payload.row_version)
            and r
        ),
    )


@router.post(
    "/{ref}/mount", response={200: ResourceOut, **_ERRORS}, summary="挂接平台基础库、离岸库或外部接口"
)
@requires(DATA_STEWARD, DATA_CENTRE)
def mount(request: HttpRequest, ref: str, payload: MountIn):
    return _step(
        request,
        ref,
        lambda p, r: services.resource_mount(
            actor=p,
            resource=r,
            mount_kind=payload.mount_kind,
            mount_target=payload.mount_target,
            mount_options=payload.mount_options,
            row_version=payload.row_version,
        ),
    )


@router.post("/{ref}/dataset", response={200: ResourceOut, **_ERRORS}, summary="上传数据集（CSV/XLSX）并挂接")
@requires(DATA_STEWARD, DATA_CENTRE)
def dataset(request: HttpRequest, ref: str, row_version: Form[int], file: File[UploadedFile]):
    return _step(
        request,
        ref,
        lambda p, r: services.resource_mount(
            actor=p, resource=r, mount_kind="dataset", file=file, row_version=row_version
        ),
    )


@router.post("/{ref}/submit", response={200: ResourceOut, **_ERRORS}, summary="提交大数据中心审核")
@requires(DATA_STEWARD, DATA_CENTRE)
def submit(request: HttpRequest, ref: str, payload: StepIn):
    return _step(
        request,
        ref,
        lambda p, r: services.resource_submit(actor=p, resource=r, row_version=payload.row_version),
    )


@router.post(
    "/{ref}/review", response={200: ResourceOut, **_ERRORS}, summary="审核：发布或退回（大数据中心）"
)
@requires(DATA_CENTRE)
def review(request: HttpRequest, ref: str, payload: ResourceReviewIn):
    return _step(
        request,
        ref,
        lambda p, r: services.resource_review(
            actor=p, resource=r, approve=payload.approve, note=payload.note, row_version=payload.row_version
        ),
    )


@router.post("/{ref}/versions", response={201: ResourceOut, **_ERRORS}, summary="创建新版本（草稿）")
@requires(DATA_STEWARD, DATA_CENTRE)
def version_new(request: HttpRequest, ref: str, payload: StepIn):
    principal = principal_of(request)
    resource = resource_get_visible(principal, ref)
    try:
        new = services.resource_version_new(
            actor=principal, resource=resource, row_version=payload.row_version
        )
    except ResourceConflict as exc:
        return _conflict(request, exc)
    return Status(201, _detail(principal, new.public_id))


@router.post("/{ref}/retire", response={200: ResourceOut, **_ERRORS}, summary="下线（通知持有授权的部门）")
@requires(DATA_STEWARD, DATA_CENTRE)
def retire(request: HttpRequest, ref: str, payload: ResourceRetireIn):
    return _step(
        request,
        ref,
        lambda p, r: services.resource_retire(
            actor=p, resource=r, notice=payload.notice, row_version=payload.row_version
        ),
    )
