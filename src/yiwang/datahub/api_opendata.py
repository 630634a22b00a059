"""API: 公共数据开放 (/api/datahub/open).

Public, keyed (no session needed):
- `GET /datasets`, `GET /datasets/{name}`, `GET /apps`: what the portal lists (the visibility rule of
  `selectors/opendata_access.py`; an API key in `X-API-Key` — or CKAN's `Authorization: <key>` — makes the
  caller that account, so conditional metadata is listed to it).
- `GET /resources/{id}/rows` (limit, offset, q, sort, fields, filters as JSON): the rows of a tabular resource,
  through the datastore. Needs a key; 有条件开放 data needs an approved, unexpired application of the key's
  account. Rate-limited per key (`YIWANG_OPEN_API_RATE`, default 600/minute) → 429 with Retry-After.

Signed-in accounts (SELF_SERVICE): `/keys` (create: the key text is answered once; revoke), `/applications`
(apply for 有条件开放, list, key bound to an approved application, usage reports), `POST /apps` (submit an app).

Management (DATA_STEWARD of the opening department, DATA_CENTRE): `/manage/datasets` (list, create, edit, upload
a file, run the publication check, submit; publish and return by the centre; withdraw), receipts of publication
and withdrawal, `/manage/applications` (decide: the opening department's data officers), `/manage/negative`
(the centre), `/manage/apps/{id}/review` (the centre).

(No `from __future__ import annotations` here: django-ninja reads the parameter annotations at import time.)
"""

import json
from datetime import date, datetime
from typing import Any, Literal
from uuid import UUID

from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from ninja import Field, File, Form, Query, Router, Schema, Status, UploadedFile
from ninja.errors import AuthenticationError

from yiwang.core.apiutils import principal_of, receipt_download, requires
from yiwang.core.identity import bearer_account
from yiwang.core.permissions import DATA_CENTRE, DATA_STEWARD, PUBLIC, SELF_SERVICE
from yiwang.core.ratelimit import client_key, rate_limit_per
from yiwang.core.schemas import ProblemOut

from .models.opendata import OpenDataset
from .opendata_store import datastore_query
from .selectors import opendata as sel
from .selectors.opendata_access import ANONYMOUS, open_viewer
from .services import opendata as svc

router = Router(tags=["公共数据开放"])
router.add_decorator(never_cache, mode="view")

_READ = {401: ProblemOut, 403: ProblemOut, 404: ProblemOut, 422: ProblemOut, 429: ProblemOut}
_WRITE = {**_READ, 409: ProblemOut}
PUBLIC_RATE = "open_portal"
DEFAULT_KEY_RATE = "600/minute"
DEFAULT_PUBLIC_RATE = "300/minute"


# --- keys and viewers --------------------------------------------------------------------------------------------
def presented_key(request: HttpRequest) -> str:
    raw = request.headers.get("X-API-Key", "") or request.headers.get("Authorization", "")
    return raw.strip() if raw.strip().startswith(svc.KEY_PREFIX) else ""


def _viewer(request: HttpRequest, *, key_required: bool = False):
    raw = presented_key(request)
    if raw:
        key = svc.open_api_key_lookup(raw)
        if key is None:
            raise AuthenticationError()
        rate_limit_per(scope="open_api_key", key=str(key.public_id), rate=_key_rate())
        return open_viewer(api_key=key), key
    if key_required:
        raise AuthenticationError()
    rate_limit_per(scope=PUBLIC_RATE, key=_client(request), rate=_public_rate())
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return open_viewer(account=user), None
    account = bearer_account(request)  # an API client signed in as an account sees what its pages show
    if account is not None:
        return open_viewer(account=account), None
    return ANONYMOUS, None


def _client(request: HttpRequest) -> str:
    return client_key(request)


def _key_rate() -> str:
    return getattr(settings, "YIWANG_OPEN_API_RATE", DEFAULT_KEY_RATE)


def _public_rate() -> str:
    return getattr(settings, "YIWANG_OPEN_PORTAL_RATE", DEFAULT_PUBLIC_RATE)


# --- schemas ------------------------------------------------------------------------------------------------------
class OpenFieldOut(Schema):
    id: str
    type: str
    label: str = ""


class OpenResourceOut(Schema):
    id: UUID = Field(alias="public_id")
    name: str
    description: str
    format: str
    size: int
    sm3: str = Field(description="文件摘要（SM3，十六进制）")
    row_count: int
    datastore_active: bool
    fields: list[OpenFieldOut]
    download_url: str = ""

    @staticmethod
    def resolve_download_url(obj) -> str:
        return f"/open/dataset/{obj.dataset.name}/resource/{obj.public_id}/download"


class DatasetOut(Schema):
    id: UUID = Field(alias="public_id")
    name: str
    title: str
    notes: str
    department: str = Field(description="开放部门编码")
    department_name: str
    tier: str = Field(description="open 无条件开放 / conditional 有条件开放")
    conditions: str
    update_cycle: str
    tags: list[str]
    themes: list[str]
    licence_id: str
    published_at: datetime | None
    modified_at: datetime | None
    view_count: int
    download_count: int
    api_call_count: int

    @staticmethod
    def resolve_department(obj) -> str:
        return obj.department.code

    @staticmethod
    def resolve_department_name(obj) -> str:
        return obj.department.name

    @staticmethod
    def resolve_themes(obj) -> list[str]:
        return [t.name for t in obj.themes.all()]


class DatasetDetailOut(DatasetOut):
    resources: list[OpenResourceOut] = Field(alias="resource_list")
    data_allowed: bool = Field(description="调用方能否读取数据（下载、行数据）")


class DatasetPageOut(Schema):
    items: list[DatasetOut]
    next_cursor: str | None
    total: int
    facets: dict[str, list[dict[str, Any]]]


class RowsOut(Schema):
    fields: list[dict[str, str]]
    records: list[dict[str, Any]]
    total: int
    limit: int
    offset: int


class AppOut(Schema):
    id: UUID = Field(alias="public_id")
    name: str
    description: str
    developer: str
    url: str
    status: str
    datasets: list[str]

    @staticmethod
    def resolve_datasets(obj) -> list[str]:
        return [d.name for d in obj.datasets.all()]


# --- public -------------------------------------------------------------------------------------------------------
@router.get("/datasets", response={200: DatasetPageOut, **_READ}, auth=None, summary="开放数据集检索（分面）")
@requires(PUBLIC)
def datasets(
    request: HttpRequest,
    q: str = Query("", max_length=100),
    department: str = Query("", max_length=40),
    theme: str = Query("", max_length=60),
    format: str = Query("", max_length=16),
    tier: Literal["", "open", "conditional"] = Query(""),
    update_cycle: str = Query("", max_length=16),
    cursor: str | None = Query(None, max_length=300),
    limit: int = Query(20, ge=1, le=100),
):
    viewer, _key = _viewer(request)
    result = sel.portal_search(
        viewer,
        q=q,
        filters={
            "department": department,
            "theme": theme,
            "format": format,
            "tier": tier,
            "update_cycle": update_cycle,
        },
        cursor=cursor,
        limit=limit,
    )
    return {
        "items": result.page.items,
        "next_cursor": result.page.next_cursor,
        "total": result.total,
        "facets": {
            name: [{"value": v, "label": label, "count": n} for v, label, n in values]
            for name, values in result.facets.items()
        },
    }


def _detail(viewer, dataset: OpenDataset) -> OpenDataset:
    dataset.resource_list = sel.dataset_resources(dataset)
    for r in dataset.resource_list:
        r.dataset = dataset
    dataset.data_allowed = sel.data_allowed(viewer, dataset)
    return dataset


@router.get(
    "/datasets/{name}", response={200: DatasetDetailOut, **_READ}, auth=None, summary="开放数据集详情"
)
@requires(PUBLIC)
def dataset_detail(request: HttpRequest, name: str):
    viewer, _key = _viewer(request)
    dataset = sel.dataset_public_get(viewer, name)
    return _detail(viewer, dataset)


@router.get(
    "/resources/{uuid:resource_id}/rows",
    response={200: RowsOut, **_READ},
    auth=None,
    summary="数据接口：按密钥读取表格资源的行（X-API-Key）",
)
@requires(PUBLIC)
def resource_rows(
    request: HttpRequest,
    resource_id: UUID,
    limit: int = Query(100, ge=0, le=1000),
    offset: int = Query(0, ge=0, le=10_000_000),
    q: str = Query("", max_length=200),
    sort: str = Query("", max_length=200),
    fields: str = Query("", max_length=1000, description="逗号分隔的字段"),
    filters: str = Query("", max_length=2000, description='JSON 对象，如 {"镇街":"东城街道"}'),
):
    viewer, key = _viewer(request, key_required=True)
    resource = sel.resource_by_public_id(viewer, resource_id)
    sel.require_data(viewer, resource.dataset)
    parsed_filters = None
    if filters:
        try:
            parsed_filters = json.loads(filters)
        except (ValueError, RecursionError):  # (nested past the parser's depth)
            parsed_filters = "invalid"
        if not isinstance(parsed_filters, dict):
            raise ValidationError({"filters": _("filters 必须是 JSON 对象。")})
    result = datastore_query(
        resource,
        filters=parsed_filters,
        q=q or None,
        fields=[f.strip() for f in fields.split(",") if f.strip()] or None,
        sort=sort or None,
        limit=limit,
        offset=offset,
    )
    svc.open_dataset_api_called(resource.dataset, key)
    return {**result, "limit": limit, "offset": offset}


@router.get("/apps", response={200: list[AppOut], **_READ}, auth=None, summary="应用展示")
@requires(PUBLIC)
def apps(request: HttpRequest):
    _viewer(request)
    return sel.apps_shown()


# --- signed-in accounts --------------------------------------------------------------------------------------------
class KeyIn(Schema):
    label: str = Field(..., max_length=200)


class OpenKeyOut(Schema):
    id: UUID = Field(alias="public_id")
    label: str
    prefix: str
    created_at: datetime
    revoked_at: datetime | None
    last_used_at: datetime | None
    call_count: int


class KeyCreatedOut(OpenKeyOut):
    key: str = Field(description="密钥全文：只显示这一次，平台只保存其 SM3 摘要")


def _account(request):
    return principal_of(request).account


@router.get("/keys", response={200: list[OpenKeyOut], **_READ}, summary="我的开放接口密钥")
@requires(SELF_SERVICE)
def keys(request: HttpRequest):
    return sel.my_keys(_account(request))


@router.post("/keys", response={201: KeyCreatedOut, **_WRITE}, summary="创建密钥（只显示一次）")
@requires(SELF_SERVICE)
def key_create(request: HttpRequest, payload: KeyIn):
    key, raw = svc.open_api_key_create(actor=principal_of(request), label=payload.label)
    key.key = raw  # answered this once; only the SM3 is stored
    return Status(201, key)


@router.post("/keys/{uuid:key_id}/revoke", response={200: OpenKeyOut, **_WRITE}, summary="吊销密钥")
@requires(SELF_SERVICE)
def key_revoke(request: HttpRequest, key_id: UUID):
    key = sel.my_key_get(_account(request), key_id)
    return svc.open_api_key_revoke(actor=principal_of(request), key=key)


class ApplicationIn(Schema):
    applicant_name: str = Field(..., max_length=200)
    applicant_uscc: str = Field("", max_length=40)
    purpose: str = Field(..., max_length=4000)
    scenario: str = Field(..., max_length=400)
    agreement: bool = Field(..., description="已阅读并同意数据开放利用协议")


class UsageReportOut(Schema):
    period: str
    content: str
    submitted_at: datetime


class ApplicationOut(Schema):
    id: UUID = Field(alias="public_id")
    number: str
    dataset: str
    dataset_title: str
    applicant_name: str
    purpose: str
    scenario: str
    status: str
    decision_note: str
    decided_at: datetime | None
    valid_until: date | None
    created_at: datetime
    key_prefix: str = ""

    @staticmethod
    def resolve_dataset(obj) -> str:
        return obj.dataset.name

    @staticmethod
    def resolve_dataset_title(obj) -> str:
        return obj.dataset.title

    @staticmethod
    def resolve_key_prefix(obj) -> str:
        return obj.api_key.prefix if obj.api_key_id and obj.api_key else ""


class ApplicationPageOut(Schema):
    items: list[ApplicationOut]
    next_cursor: str | None


class DatasetReportIn(Schema):
    period: str = Field(..., max_length=20, description="2026、2026-06 或 2026-Q2")
    content: str = Field(..., max_length=8000)


@router.post(
    "/datasets/{name}/applications", response={201: ApplicationOut, **_WRITE}, summary="申请有条件开放数据"
)
@requires(SELF_SERVICE)
def application_create(request: HttpRequest, name: str, payload: ApplicationIn):
    account = _account(request)
    dataset = sel.dataset_public_get(open_viewer(account=account), name)
    application = svc.open_application_create(actor=principal_of(request), dataset=dataset, **payload.dict())
    return Status(201, application)


@router.get("/applications", response={200: ApplicationPageOut, **_READ}, summary="我的开放数据申请")
@requires(SELF_SERVICE)
def applications_mine(request: HttpRequest, cursor: str | None = Query(None, max_length=300)):
    page = sel.my_applications(_account(request), cursor=cursor)
    return {"items": page.items, "next_cursor": page.next_cursor}


@router.post(
    "/applications/{uuid:application_id}/key",
    response={201: KeyCreatedOut, **_WRITE},
    summary="为已批准的申请领取密钥（只显示一次）",
)
@requires(SELF_SERVICE)
def application_key(request: HttpRequest, application_id: UUID):
    application = sel.my_application_get(_account(request), application_id)
    key, raw = svc.open_application_key_issue(actor=principal_of(request), application=application)
    key.key = raw  # answered this once; only the SM3 is stored
    return Status(201, key)


@router.post(
    "/applications/{uuid:application_id}/reports",
    response={201: UsageReportOut, **_WRITE},
    summary="报告数据使用情况（按周期）",
)
@requires(SELF_SERVICE)
def application_report(request: HttpRequest, application_id: UUID, payload: DatasetReportIn):
    application = sel.my_application_get(_account(request), application_id)
    return Status(
        201,
        svc.open_usage_report_create(
            actor=principal_of(request),
            application=application,
            period=payload.period,
            content=payload.content,
        ),
    )


class AppIn(Schema):
    name: str = Field(..., max_length=200)
    description: str = Field(..., max_length=4000)
    developer: str = Field(..., max_length=200)
    url: str = Field("", max_length=200)
    datasets: list[str] = Field(default_factory=list, max_length=20)


@router.post("/apps", response={201: AppOut, **_WRITE}, summary="提交应用到应用展示（待大数据中心审核）")
@requires(SELF_SERVICE)
def app_submit(request: HttpRequest, payload: AppIn):
    return Status(201, svc.open_app_submit(actor=principal_of(request), **payload.dict()))


# --- management ------------------------------------------------------------------------------------------------
class ManagedDatasetOut(DatasetOut):
    status: str
    row_version: int
    resource_code: str = ""
    publication_check: dict[str, Any]
    audit_uuid: UUID | None

    @staticmethod
    def resolve_resource_code(obj) -> str:
        return obj.resource.code if obj.resource_id and obj.resource else ""


class ManagedDetailOut(ManagedDatasetOut):
    resources: list[OpenResourceOut] = Field(alias="resource_list")


class ManagedPageOut(Schema):
    items: list[ManagedDatasetOut]
    next_cursor: str | None


class DatasetIn(Schema):
    title: str = Field(..., max_length=400)
    notes: str = Field("", max_length=8000)
    department: str = Field("", max_length=40, description="开放部门编码（默认本部门）")
    resource: str = Field("", max_length=60, description="目录资源代码或标识（从目录资源创建时）")
    tier: Literal["", "open", "conditional"] = ""
    conditions: str = Field("", max_length=4000)
    update_cycle: str = Field("", max_length=16)
    tags: list[str] = Field(default_factory=list, max_length=20)
    themes: list[str] = Field(default_factory=list, max_length=20)
    name: str = Field("", max_length=120)
    licence_id: str = Field("odc-by", max_length=40)


class DatasetPatchIn(Schema):
    expected_version: int | None = None
    title: str | None = Field(None, max_length=400)
    notes: str | None = Field(None, max_length=8000)
    tier: Literal["open", "conditional"] | None = None
    conditions: str | None = Field(None, max_length=4000)
    update_cycle: str | None = Field(None, max_length=16)
    tags: list[str] | None = Field(None, max_length=20)
    themes: list[str] | None = Field(None, max_length=20)
    licence_id: str | None = Field(None, max_length=40)


class MoveIn(Schema):
    expected_version: int | None = None
    note: str = Field("", max_length=2000)


def _managed_detail(dataset: OpenDataset) -> OpenDataset:
    dataset.resource_list = sel.dataset_resources(dataset)
    for r in dataset.resource_list:
        r.dataset = dataset
    return dataset


def _department_for(principal, code: str):
    if not code:
        return None
    for department in sel.departments_for(principal):
        if department.code == code:
            return department
    raise ValidationError({"department": _("只能为本部门（及下属部门）创建开放数据集。")})


def _resource_for(principal, ref: str):
    if not ref:
        return None
    for resource in sel.resources_openable(principal):
        if resource.code == ref or str(resource.public_id) == ref:
            return resource
    raise ValidationError({"resource": _("没有找到可开放的目录资源（须已发布、开放类型不是不予开放）。")})


@router.get("/manage/datasets", response={200: ManagedPageOut, **_READ}, summary="本部门的开放数据集")
@requires(DATA_STEWARD, DATA_CENTRE)
def manage_datasets(
    request: HttpRequest,
    status: Literal["", "draft", "in_review", "published", "withdrawn"] = Query(""),
    q: str = Query("", max_length=100),
    cursor: str | None = Query(None, max_length=300),
):
    page = sel.datasets_managed(principal_of(request), status=status, q=q, cursor=cursor)
    return {"items": page.items, "next_cursor": page.next_cursor}


@router.post("/manage/datasets", response={201: ManagedDetailOut, **_WRITE}, summary="创建开放数据集（草稿）")
@requires(DATA_STEWARD, DATA_CENTRE)
def manage_dataset_create(request: HttpRequest, payload: DatasetIn):
    principal = principal_of(request)
    values = payload.dict()
    dataset = svc.open_dataset_create(
        actor=principal,
        department=_department_for(principal, values.pop("department")),
        resource=_resource_for(principal, values.pop("resource")),
        **values,
    )
    return Status(201, _managed_detail(dataset))


@router.get(
    "/manage/datasets/{uuid:dataset_id}", response={200: ManagedDetailOut, **_READ}, summary="数据集详情"
)
@requires(DATA_STEWARD, DATA_CENTRE)
def manage_dataset(request: HttpRequest, dataset_id: UUID):
    return _managed_detail(sel.dataset_managed_get(principal_of(request), dataset_id))


@router.patch(
    "/manage/datasets/{uuid:dataset_id}", response={200: ManagedDetailOut, **_WRITE}, summary="修改数据集"
)
@requires(DATA_STEWARD, DATA_CENTRE)
def manage_dataset_patch(request: HttpRequest, dataset_id: UUID, payload: DatasetPatchIn):
    dataset = sel.dataset_managed_get(principal_of(request), dataset_id)
    values = {k: v for k, v in payload.dict().items() if v is not None}
    expected = values.pop("expected_version", None)
    dataset = svc.open_dataset_update(
        actor=principal_of(request), dataset=dataset, expected_version=expected, **values
    )
    return _managed_detail(dataset)


@router.post(
    "/manage/datasets/{uuid:dataset_id}/resources",
    response={201: OpenResourceOut, **_WRITE},
    summary="上传数据文件（CSV 或 XLSX，按内容识别）",
)
@requires(DATA_STEWARD, DATA_CENTRE)
def manage_resource_add(
    request: HttpRequest,
    dataset_id: UUID,
    file: File[UploadedFile],
    name: Form[str] = "",
    description: Form[str] = "",
):
    dataset = sel.dataset_managed_get(principal_of(request), dataset_id)
    resource = svc.open_resource_add(
        actor=principal_of(request),
        dataset=dataset,
        upload=file,
        name=name[:200],
        description=description[:2000],
    )
    resource.dataset = dataset
    return Status(201, resource)


@router.delete(
    "/manage/datasets/{uuid:dataset_id}/resources/{uuid:resource_id}",
    response={204: None, **_WRITE},
    summary="删除数据文件",
)
@requires(DATA_STEWARD, DATA_CENTRE)
def manage_resource_delete(request: HttpRequest, dataset_id: UUID, resource_id: UUID):
    principal = principal_of(request)
    dataset = sel.dataset_managed_get(principal, dataset_id)
    svc.open_resource_delete(
        actor=principal, resource=sel.resource_managed_get(principal, dataset, resource_id)
    )
    return Status(204, None)


@router.post(
    "/manage/datasets/{uuid:dataset_id}/check", response={200: dict, **_WRITE}, summary="运行发布检查"
)
@requires(DATA_STEWARD, DATA_CENTRE)
def manage_dataset_check(request: HttpRequest, dataset_id: UUID):
    dataset = sel.dataset_managed_get(principal_of(request), dataset_id)
    return svc.open_dataset_check(actor=principal_of(request), dataset=dataset)


class OpenReceiptItemOut(Schema):
    entry_uuid: UUID
    action: str
    occurred_at: datetime
    download_url: str


def receipt_download_path(dataset: OpenDataset, entry) -> str:
    return f"/api/datahub/open/manage/datasets/{dataset.public_id}/receipts/{entry.uuid}"


@router.get(
    "/manage/datasets/{uuid:dataset_id}/receipts",
    response={200: list[OpenReceiptItemOut], **_READ},
    summary="开放与撤回的存证回执",
)
@requires(DATA_STEWARD, DATA_CENTRE)
def manage_receipts(request: HttpRequest, dataset_id: UUID):
    dataset = sel.dataset_managed_get(principal_of(request), dataset_id)
    return [
        {
            "entry_uuid": e.uuid,
            "action": e.action,
            "occurred_at": e.occurred_at,
            "download_url": receipt_download_path(dataset, e),
        }
        for e in sel.dataset_receipts(dataset)
    ]


@router.get(
    "/manage/datasets/{uuid:dataset_id}/receipts/{uuid:entry_uuid}",
    response={200: dict, **_WRITE},
    summary="下载存证回执（JSON）",
)
@requires(DATA_STEWARD, DATA_CENTRE)
def manage_receipt(request: HttpRequest, dataset_id: UUID, entry_uuid: UUID):
    dataset = sel.dataset_managed_get(principal_of(request), dataset_id)
    entry = sel.dataset_receipt_entry(dataset, entry_uuid)
    return receipt_download(request, entry)


_MOVES = {
    "submit": lambda p, d, body: svc.open_dataset_submit(
        actor=p, dataset=d, expected_version=body.expected_version
    ),
    "publish": lambda p, d, body: svc.open_dataset_publish(
        actor=p, dataset=d, expected_version=body.expected_version
    ),
    "return": lambda p, d, body: svc.open_dataset_return(
        actor=p, dataset=d, note=body.note, expected_version=body.expected_version
    ),
    "withdraw": lambda p, d, body: svc.open_dataset_withdraw(
        actor=p, dataset=d, reason=body.note, expected_version=body.expected_version
    ),
}


@router.post(
    "/manage/datasets/{uuid:dataset_id}/{action}",
    response={200: ManagedDetailOut, **_WRITE},
    summary="提交审核（submit）、开放（publish，大数据中心）、退回（return，大数据中心）、撤回（withdraw）",
)
@requires(DATA_STEWARD, DATA_CENTRE)
def manage_dataset_move(
    request: HttpRequest,
    dataset_id: UUID,
    action: Literal["submit", "publish", "return", "withdraw"],
    payload: MoveIn,
):
    principal = principal_of(request)
    dataset = sel.dataset_managed_get(principal, dataset_id)
    return _managed_detail(_MOVES[action](principal, dataset, payload))


class ManagedApplicationOut(ApplicationOut):
    applicant_uscc: str
    row_version: int


class ManagedApplicationPageOut(Schema):
    items: list[ManagedApplicationOut]
    next_cursor: str | None


class DecideIn(Schema):
    approve: bool
    note: str = Field("", max_length=2000)
    valid_until: date | None = None
    expected_version: int | None = None


@router.get(
    "/manage/applications",
    response={200: ManagedApplicationPageOut, **_READ},
    summary="待审核的有条件开放申请",
)
@requires(DATA_STEWARD, DATA_CENTRE)
def manage_applications(
    request: HttpRequest,
    status: Literal["", "submitted", "approved", "rejected", "revoked"] = Query(""),
    cursor: str | None = Query(None, max_length=300),
):
    page = sel.applications_to_decide(principal_of(request), status=status, cursor=cursor)
    return {"items": page.items, "next_cursor": page.next_cursor}


@router.post(
    "/manage/applications/{uuid:application_id}/decide",
    response={200: ManagedApplicationOut, **_WRITE},
    summary="批准（含有效期）或不予批准",
)
@requires(DATA_STEWARD)
def manage_application_decide(request: HttpRequest, application_id: UUID, payload: DecideIn):
    application = sel.application_managed_get(principal_of(request), application_id)
    return svc.open_application_decide(actor=principal_of(request), application=application, **payload.dict())


class NegativeOut(Schema):
    resource_code: str
    element_code: str
    basis: str
    created_at: datetime

    @staticmethod
    def resolve_resource_code(obj) -> str:
        return obj.resource.code if obj.resource_id else ""

    @staticmethod
    def resolve_element_code(obj) -> str:
        return obj.element.identifier if obj.element_id else ""


class NegativeIn(Schema):
    resource_code: str = Field("", max_length=60)
    element_code: str = Field("", max_length=60)
    basis: str = Field(..., max_length=4000)


@router.get("/manage/negative", response={200: list[NegativeOut], **_READ}, summary="不予开放清单")
@requires(DATA_CENTRE)
def manage_negative(request: HttpRequest):
    return sel.negative_list(principal_of(request))


@router.post("/manage/negative", response={201: NegativeOut, **_WRITE}, summary="加入不予开放清单")
@requires(DATA_CENTRE)
def manage_negative_add(request: HttpRequest, payload: NegativeIn):
    return Status(201, svc.negative_item_create(actor=principal_of(request), **payload.dict()))


class OpenReviewIn(Schema):
    show: bool


@router.get("/manage/apps", response={200: list[AppOut], **_READ}, summary="应用审核列表")
@requires(DATA_CENTRE)
def manage_apps(request: HttpRequest, status: Literal["", "submitted", "shown", "hidden"] = Query("")):
    return sel.apps_for_review(principal_of(request), status=status).items


@router.post("/manage/apps/{uuid:app_id}/review", response={200: AppOut, **_WRITE}, summary="展示或隐藏应用")
@requires(DATA_CENTRE)
def manage_app_review(request: HttpRequest, app_id: UUID, payload: OpenReviewIn):
    app = sel.app_get(principal_of(request), app_id)
    return svc.open_app_review(actor=principal_of(request), app=app, show=payload.show)
