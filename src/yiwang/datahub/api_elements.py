"""API: 数据元 (/api/datahub/elements). The element dictionary, code lists, publication batches, value checks,
the bindings sync and the conformance report.

Readers: data officers and the big-data centre (DATA_STEWARD or DATA_CENTRE). Writes: a data officer for the
elements its department supplies (数源部门), the centre for everything; code lists, batches, publication,
retirement and the bindings sync only the centre. Errors are problem+json: 401, 403, 404, 422 with field errors.

(No `from __future__ import annotations` here: django-ninja reads the parameter annotations at import time.)
"""

from datetime import datetime

from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from ninja import Field, Query, Router, Schema, Status

from yiwang.core.apiutils import principal_of, requires
from yiwang.core.permissions import DATA_CENTRE, DATA_STEWARD
from yiwang.core.schemas import ProblemOut

from . import conformance
from .bindings import bindings_sync
from .models import DataElement
from .selectors import elements as selectors
from .services import elements as services
from .validators import element_value_problem

router = Router(tags=["数据元"])
router.add_decorator(never_cache, mode="view")

_ERRORS = {401: ProblemOut, 403: ProblemOut, 404: ProblemOut, 422: ProblemOut}


# --- schemas ------------------------------------------------------------------------------------------------------
class ElementOut(Schema):
    identifier: str = Field(description="内部标识符，如 DE00001")
    name: str
    definition: str
    data_type: str = Field(description="string/integer/decimal/date/datetime/boolean/code/binary")
    max_length: int | None = None
    format: str = Field("", description="表示格式，如 c18、YYYYMMDD")
    code_list: str = Field("", description="值域代码表标识")
    validator: str = Field("", description="值域校验：gb11643、gb32100、gbt2260、phone")
    unit: str = ""
    source_department: str = Field(description="数源部门编码")
    source_department_name: str
    is_collected: bool = Field(description="列入统一采集目录（表单不得再向申请人索要）")
    version: int
    status: str = Field(description="draft / published / retired")
    batch: str = Field("", description="所在发布批次号")
    pending: dict = Field(default_factory=dict, description="已发布数据元待随批次发布的修改")
    retired_at: datetime | None = None
    updated_at: datetime


class ElementPageOut(Schema):
    items: list[ElementOut]
    next_cursor: str | None = None


class CodeValueOut(Schema):
    value: str
    label: str
    is_active: bool


class RevisionOut(Schema):
    version: int
    batch: str
    change_note: str
    snapshot: dict
    created_at: datetime


class BoundOut(Schema):
    kind: str = Field(description="resource_field / form_field / licence_face / prefill / incident_field")
    owner: str = Field(description="资源代码、事项编码、证照类型代码、预填来源或 incident")
    owner_label: str
    field_name: str
    label: str


class ElementDetailOut(ElementOut):
    code_values: list[CodeValueOut] = Field(default_factory=list)
    revisions: list[RevisionOut] = Field(default_factory=list)
    bound: list[BoundOut] = Field(default_factory=list, description="绑定之处（至多各 200 条）")
    retire_note: str = ""


class ElementIn(Schema):
    identifier: str = Field(max_length=20, description="DE 加5位数字")
    name: str = Field(max_length=200)
    definition: str = Field(max_length=4000)
    data_type: str = Field(max_length=16)
    max_length: int | None = Field(None, ge=0, le=10_000_000)
    format: str = Field("", max_length=100)
    code_list: str = Field("", max_length=40)
    validator: str = Field("", max_length=16)
    unit: str = Field("", max_length=40)
    source_department: str = Field(max_length=20, description="数源部门编码")
    is_collected: bool = False
    batch: str = Field("", max_length=20, description="放入的编制中批次号（可空）")


class ElementPatchIn(Schema):
    name: str | None = Field(None, max_length=200)
    definition: str | None = Field(None, max_length=4000)
    data_type: str | None = Field(None, max_length=16)
    max_length: int | None = Field(None, ge=0, le=10_000_000)
    format: str | None = Field(None, max_length=100)
    code_list: str | None = Field(None, max_length=40)
    validator: str | None = Field(None, max_length=16)
    unit: str | None = Field(None, max_length=40)
    source_department: str | None = Field(None, max_length=20)
    is_collected: bool | None = None
    batch: str | None = Field(None, max_length=20, description="编制中的批次号；修改已发布数据元时必填")


class ElementRetireIn(Schema):
    note: str = Field(max_length=1000, description="废止说明")
    force: bool = Field(False, description="仍有绑定时强制废止（仅大数据中心）")


class CheckIn(Schema):
    values: list[str | int | float | bool | None] = Field(max_length=1000)


class ElementCheckOut(Schema):
    identifier: str
    results: list[dict] = Field(description="[{index, valid, problem}]")


class CodeListOut(Schema):
    code: str
    name: str
    standard: str
    description: str
    values: list[CodeValueOut]


class CodeValueIn(Schema):
    value: str = Field(max_length=80)
    label: str = Field(max_length=200)


class CodeListIn(Schema):
    code: str = Field(max_length=40, description="如 CL_GENDER")
    name: str = Field(max_length=200)
    standard: str = Field("", max_length=200)
    description: str = Field("", max_length=2000)
    values: list[CodeValueIn] = Field(max_length=2000)


class CodeListPutIn(Schema):
    name: str = Field(max_length=200)
    standard: str = Field("", max_length=200)
    description: str = Field("", max_length=2000)
    values: list[CodeValueIn] = Field(max_length=2000)


class ElementBatchOut(Schema):
    number: str
    title: str
    change_note: str
    status: str
    published_at: datetime | None = None
    published_by: str = ""
    element_count: int = 0


class BatchPageOut(Schema):
    items: list[ElementBatchOut]
    next_cursor: str | None = None


class BatchDetailOut(ElementBatchOut):
    elements: list[str] = Field(default_factory=list, description="待发布的数据元（编制中）或本批发布的版本")


class BatchIn(Schema):
    number: str = Field(max_length=20, description="如 2026-03")
    title: str = Field(max_length=200)
    change_note: str = Field("", max_length=4000)


class PublishIn(Schema):
    change_note: str = Field(max_length=4000, description="变更说明")


class SyncOut(Schema):
    created: int
    updated: int
    deleted: int
    unbound: int


class ConformanceOut(Schema):
    section: str
    title: str
    items: list[dict]
    next_cursor: str | None = None
    summary: dict


# --- helpers --------------------------------------------------------------------------------------------------------
def _element_out(element: DataElement) -> dict:
    return {
        "identifier": element.identifier,
        "name": element.name,
        "definition": element.definition,
        "data_type": element.data_type,
        "max_length": element.max_length,
        "format": element.format,
        "code_list": element.code_list.code if element.code_list_id else "",
        "validator": element.validator,
        "unit": element.unit,
        "source_department": element.source_department.code,
        "source_department_name": element.source_department.name,
        "is_collected": element.is_collected,
        "version": element.version,
        "status": element.status,
        "batch": element.batch.number if element.batch_id else "",
        "pending": element.pending or {},
        "retired_at": element.retired_at,
        "updated_at": element.updated_at,
    }


def _detail(principal, identifier: str) -> dict:
    element = selectors.element_get(principal, identifier)
    where = selectors.element_where_bound(element)
    bound = [
        {
            "kind": "resource_field",
            "owner": f.resource.code,
            "owner_label": f.resource.name,
            "field_name": f.name,
            "label": f.label,
        }
        for f in where.resource_fields
    ] + [
        {
            "kind": b.kind,
            "owner": b.owner,
            "owner_label": b.owner_label,
            "field_name": b.field_name,
            "label": b.label,
        }
        for b in where.bindings
    ]
    return {
        **_element_out(element),
        "retire_note": element.retire_note,
        "code_values": [
            {"value": v.value, "label": v.label, "is_active": v.is_active}
            for v in selectors.code_list_values(element.code_list)
        ],
        "revisions": [
            {
                "version": r.version,
                "batch": r.batch.number if r.batch_id else "",
                "change_note": r.change_note,
                "snapshot": r.snapshot,
                "created_at": r.created_at,
            }
            for r in selectors.element_revisions(element)
        ],
        "bound": bound,
    }


def _code_list_out(code_list) -> dict:
    return {
        "code": code_list.code,
        "name": code_list.name,
        "standard": code_list.standard,
        "description": code_list.description,
        "values": [
            {"value": v.value, "label": v.label, "is_active": v.is_active} for v in code_list.values.all()
        ],
    }


def _batch_out(batch) -> dict:
    return {
        "number": batch.number,
        "title": batch.title,
        "change_note": batch.change_note,
        "status": batch.status,
        "published_at": batch.published_at,
        "published_by": batch.published_by,
        "element_count": getattr(batch, "element_count", 0),
    }


def _batch_detail(principal, number: str) -> dict:
    batch = selectors.batch_get(principal, number)
    if batch.status == batch.Status.DRAFT:
        elements = [e.identifier for e in services.batch_elements_to_publish(batch)]
    else:
        elements = [f"{r.element.identifier}@{r.version}" for r in selectors.batch_revisions(batch)]
    return {**_batch_out(batch), "element_count": len(elements), "elements": elements}


# --- elements: literal routes first ------------------------------------------------------------------------------------
@router.get("/", response={200: ElementPageOut, **_ERRORS}, summary="数据元列表（检索、筛选，按标识符分页）")
@requires(DATA_STEWARD, DATA_CENTRE)
def elements_index(
    request: HttpRequest,
    q: str = Query("", max_length=100, description="检索词（名称、定义、标识符）"),
    status: str = Query("", max_length=16),
    department: str = Query("", max_length=20, description="数源部门编码"),
    data_type: str = Query("", max_length=16),
    collected: bool | None = Query(None, description="是否列入统一采集目录"),
    batch: str = Query("", max_length=20),
    cursor: str | None = Query(None, max_length=400),
    limit: int = Query(50, ge=1, le=200),
):
    page = selectors.elements_list(
        principal_of(request),
        q=q,
        status=status,
        department=department,
        data_type=data_type,
        collected=collected,
        batch=batch,
        cursor=cursor,
        limit=limit,
    )
    return {"items": [_element_out(e) for e in page.items], "next_cursor": page.next_cursor}


@router.post(
    "/", response={201: ElementOut, **_ERRORS}, summary="新建数据元草稿（数源部门数据专员或大数据中心）"
)
@requires(DATA_STEWARD, DATA_CENTRE)
def elements_create(request: HttpRequest, payload: ElementIn):
    data = payload.dict()
    element = services.element_create(
        actor=principal_of(request),
        identifier=data.pop("identifier"),
        batch=data.pop("batch") or None,
        **data,
    )
    return Status(201, _element_out(selectors.element_get(principal_of(request), element.identifier)))


@router.get("/code-lists", response={200: list[CodeListOut], **_ERRORS}, summary="代码表（含代码值）")
@requires(DATA_STEWARD, DATA_CENTRE)
def code_lists_index(request: HttpRequest):
    return [_code_list_out(c) for c in selectors.code_lists(principal_of(request))]


@router.post("/code-lists", response={201: CodeListOut, **_ERRORS}, summary="新建代码表（大数据中心）")
@requires(DATA_CENTRE)
def code_lists_create(request: HttpRequest, payload: CodeListIn):
    principal = principal_of(request)
    created = services.code_list_save(
        actor=principal,
        code=payload.code,
        name=payload.name,
        standard=payload.standard,
        description=payload.description,
        values=[v.dict() for v in payload.values],
    )
    return Status(201, _code_list_out(selectors.code_list_get(principal, created.code)))


@router.get("/code-lists/{code}", response={200: CodeListOut, **_ERRORS}, summary="一个代码表")
@requires(DATA_STEWARD, DATA_CENTRE)
def code_lists_detail(request: HttpRequest, code: str):
    return _code_list_out(selectors.code_list_get(principal_of(request), code))


@router.put("/code-lists/{code}", response={200: CodeListOut, **_ERRORS}, summary="修改代码表（大数据中心）")
@requires(DATA_CENTRE)
def code_lists_update(request: HttpRequest, code: str, payload: CodeListPutIn):
    principal = principal_of(request)
    code_list = selectors.code_list_get(principal, code)
    services.code_list_save(
        actor=principal,
        code=code_list.code,
        name=payload.name,
        standard=payload.standard,
        description=payload.description,
        values=[v.dict() for v in payload.values],
        code_list=code_list,
    )
    return _code_list_out(selectors.code_list_get(principal, code))


@router.get("/batches", response={200: BatchPageOut, **_ERRORS}, summary="发布批次，新的在前")
@requires(DATA_STEWARD, DATA_CENTRE)
def batches_index(
    request: HttpRequest,
    cursor: str | None = Query(None, max_length=400),
    limit: int = Query(50, ge=1, le=200),
):
    page = selectors.batches_list(principal_of(request), cursor=cursor, limit=limit)
    return {"items": [_batch_out(b) for b in page.items], "next_cursor": page.next_cursor}


@router.post("/batches", response={201: BatchDetailOut, **_ERRORS}, summary="新建发布批次（大数据中心）")
@requires(DATA_CENTRE)
def batches_create(request: HttpRequest, payload: BatchIn):
    principal = principal_of(request)
    batch = services.batch_create(
        actor=principal, number=payload.number, title=payload.title, change_note=payload.change_note
    )
    return Status(201, _batch_detail(principal, batch.number))


@router.get("/batches/{number}", response={200: BatchDetailOut, **_ERRORS}, summary="一个发布批次")
@requires(DATA_STEWARD, DATA_CENTRE)
def batches_detail(request: HttpRequest, number: str):
    return _batch_detail(principal_of(request), number)


@router.post(
    "/batches/{number}/publish",
    response={200: BatchDetailOut, **_ERRORS},
    summary="发布批次：批内草稿和修改一并发布，升版本并留存版本快照（大数据中心）",
)
@requires(DATA_CENTRE)
def batches_publish(request: HttpRequest, number: str, payload: PublishIn):
    principal = principal_of(request)
    batch = selectors.batch_get(principal, number)
    services.element_batch_publish(actor=principal, batch=batch, change_note=payload.change_note)
    return _batch_detail(principal, number)


@router.post("/bindings/sync", response={200: SyncOut, **_ERRORS}, summary="重建数据元绑定（大数据中心）")
@requires(DATA_CENTRE)
def bindings_sync_run(request: HttpRequest):
    return bindings_sync(actor=principal_of(request))


def _carrier(c) -> dict:
    return {
        "kind": c.kind,
        "owner": c.owner,
        "owner_label": c.owner_label,
        "field_name": c.field_name,
        "label": c.label,
    }


def _conformance_items(principal, section: str, cursor, limit):
    if section in ("mismatches", "names"):
        page = conformance.mismatches_page(principal, names=section == "names", cursor=cursor, limit=limit)
        items = [
            {
                "identifier": m.identifier,
                "name": m.name,
                "dimension": m.dimension,
                "expected": m.expected,
                "variants": [
                    {"value": v.value, "carriers": [_carrier(c) for c in v.carriers]} for v in m.variants
                ],
            }
            for m in page.items
        ]
    elif section == "asks_twice":
        page = conformance.asks_twice_page(principal, cursor=cursor, limit=limit)
        items = [
            {
                "item_code": b.owner,
                "item_name": b.owner_label,
                "field_name": b.field_name,
                "label": b.label,
                "element": b.element.identifier,
                "element_name": b.element.name,
                "source_department": b.element.source_department.code,
                "source_department_name": b.element.source_department.name,
            }
            for b in page.items
        ]
    elif section == "unbound_resource_fields":
        page = conformance.unbound_resource_fields_page(principal, cursor=cursor, limit=limit)
        items = [
            {
                "resource": f.resource.code,
                "resource_name": f.resource.name,
                "provider": f.resource.provider.code,
                "field_name": f.name,
                "label": f.label,
            }
            for f in page.items
        ]
    elif section == "unbound_form_fields":
        page = conformance.unbound_form_fields_page(principal, cursor=cursor, limit=limit)
        items = [
            {
                "item_code": d.owner,
                "item_name": d.owner_label,
                "field_name": d.field_name,
                "label": d.label,
                "declared": d.identifier,
            }
            for d in page.items
        ]
    else:
        page = conformance.retired_bound_page(principal, cursor=cursor, limit=limit)
        items = [
            {**_carrier(b), "element": b.element.identifier, "element_name": b.element.name}
            for b in page.items
        ]
    return items, page.next_cursor


@router.get(
    "/conformance",
    response={200: ConformanceOut, **_ERRORS},
    summary="一致性报告：同一数据元口径不一致、重复索要已掌握的数据、未绑定的字段",
)
@requires(DATA_STEWARD, DATA_CENTRE)
def conformance_report(
    request: HttpRequest,
    section: str = Query("mismatches", max_length=40, description="、".join(conformance.SECTIONS)),
    cursor: str | None = Query(None, max_length=400),
    limit: int = Query(50, ge=1, le=200),
):
    principal = principal_of(request)
    if section not in conformance.SECTIONS:
        raise ValidationError(
            {"section": _("报告部分无效，可选：%(s)s。") % {"s": "、".join(conformance.SECTIONS)}}
        )
    items, next_cursor = _conformance_items(principal, section, cursor, limit)
    summary = conformance.conformance_summary(principal)
    return {
        "section": section,
        "title": conformance.section_title(section),
        "items": items,
        "next_cursor": next_cursor,
        "summary": summary.__dict__,
    }


# --- one element ---------------------------------------------------------------------------------------------------------
@router.get(
    "/{identifier}",
    response={200: ElementDetailOut, **_ERRORS},
    summary="数据元详情（代码值、版本、绑定之处）",
)
@requires(DATA_STEWARD, DATA_CENTRE)
def elements_detail(request: HttpRequest, identifier: str):
    return _detail(principal_of(request), identifier)


@router.patch(
    "/{identifier}",
    response={200: ElementDetailOut, **_ERRORS},
    summary="修改数据元：草稿直接修改；已发布的修改随编制中批次发布",
)
@requires(DATA_STEWARD, DATA_CENTRE)
def elements_update(request: HttpRequest, identifier: str, payload: ElementPatchIn):
    principal = principal_of(request)
    element = selectors.element_get(principal, identifier)
    values = payload.dict(exclude_unset=True)
    batch = values.pop("batch", None)
    services.element_update(actor=principal, element=element, batch=batch or None, **values)
    return _detail(principal, identifier)


@router.post(
    "/{identifier}/retire", response={200: ElementDetailOut, **_ERRORS}, summary="废止数据元（大数据中心）"
)
@requires(DATA_CENTRE)
def elements_retire(request: HttpRequest, identifier: str, payload: ElementRetireIn):
    principal = principal_of(request)
    element = selectors.element_get(principal, identifier)
    services.element_retire(actor=principal, element=element, note=payload.note, force=payload.force)
    return _detail(principal, identifier)


@router.post(
    "/{identifier}/check",
    response={200: ElementCheckOut, **_ERRORS},
    summary="按数据元校验取值（类型、长度、代码表、校验码）",
)
@requires(DATA_STEWARD, DATA_CENTRE)
def elements_check(request: HttpRequest, identifier: str, payload: CheckIn):
    element = selectors.element_get(principal_of(request), identifier)
    results = []
    for index, value in enumerate(payload.values):
        problem = element_value_problem(element, value)
        results.append({"index": index, "valid": problem is None, "problem": problem or ""})
    return {"identifier": element.identifier, "results": results}
