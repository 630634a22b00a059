"""API: 公共信用：信用档案与记录 (mounted at /api/credit/files).

- GET  ?q=&grade=&list=&cursor=&limit=   the district's files (CREDIT_VIEW; keyset, newest first)
- GET  /{id}?purpose=                    one file: grade, reasons, model version, records, list entries, credit
                                         checks on cases, objections, repairs (a person's file: purpose required,
                                         the read audited)
- POST /records                          add a record by hand (CREDIT_MANAGE; subject by USCC or ID number, taken
                                         from the registry; it must be registered in the caller's district)
- POST /imports                          CSV import (multipart: file, source_name) → 201 (200: file seen before)
- GET  /imports                          the district's import batches (CREDIT_MANAGE)
- GET  /imports/{id}                     one batch with its row errors

Errors are problem+json: 401, 403 (missing permission), 404 (another district's file or batch, a guessed id),
422 (field errors; nothing written).

(No `from __future__ import annotations` here: django-ninja reads the annotations at import time.)
"""

from datetime import date, datetime
from uuid import UUID

from django.http import Http404, HttpRequest
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from ninja import Field, File, Form, Query, Router, Schema, Status, UploadedFile

from yiwang.core.apiutils import principal_of, requires
from yiwang.core.pagination import CURSOR_MAX
from yiwang.core.permissions import CREDIT_MANAGE, CREDIT_VIEW
from yiwang.core.schemas import ProblemOut

from .selectors import files as sel
from .services.imports import credit_import_csv
from .services.records import credit_record_add_manual

router = Router(tags=["公共信用：信用档案与记录"])
router.add_decorator(never_cache, mode="view")

_READ = {401: ProblemOut, 403: ProblemOut, 404: ProblemOut, 422: ProblemOut}


# --- schemas ---------------------------------------------------------------------------------------------------
class CreditFileItemOut(Schema):
    id: UUID
    subject: str = Field(description="organisation 法人 / person 自然人")
    name: str = Field(description="法人名称；自然人为脱敏姓名")
    code: str = Field(description="统一社会信用代码；自然人为脱敏身份证号")
    grade: str
    score: int
    is_black: bool
    is_red: bool
    records_active: int
    evaluated_at: datetime | None = None


class CreditFilePageOut(Schema):
    items: list[CreditFileItemOut]
    next_cursor: str | None = None


class CreditFileDeptOut(Schema):
    code: str
    name: str


class CreditFileRecordOut(Schema):
    id: UUID
    kind: str
    kind_label: str
    polarity: str
    source: str
    source_label: str
    department: CreditFileDeptOut
    title: str
    detail: str
    legal_basis: str
    occurred_on: date
    effective_until: date | None = None
    status: str
    status_label: str
    is_public: bool
    in_effect: bool


class CreditFileReasonOut(Schema):
    record: str
    kind: str
    title: str
    occurred_on: str
    points: int


class CreditFileEntryOut(Schema):
    id: UUID
    list_type: str
    list_label: str
    reason: str
    legal_basis: str
    department: CreditFileDeptOut
    starts_on: date
    ends_on: date | None = None
    status: str
    is_published: bool


class CreditFileCheckOut(Schema):
    case_number: str
    moment: str
    moment_label: str
    grade: str
    lists: list[str]
    applied: list[dict]
    outcome: str
    checked_at: datetime


class CreditFileObjectionOut(Schema):
    number: str
    record: UUID
    status: str
    status_label: str
    due_date: date
    decision: str


class CreditFileRepairOut(Schema):
    number: str
    status: str
    status_label: str
    due_date: date
    decision: str


class CreditFileOut(CreditFileItemOut):
    model_version: int
    reasons: list[CreditFileReasonOut]
    lists: list[dict]
    effects: list[dict]
    records: list[CreditFileRecordOut]
    entries: list[CreditFileEntryOut]
    checks: list[CreditFileCheckOut]
    objections: list[CreditFileObjectionOut]
    repairs: list[CreditFileRepairOut]


class CreditFileRecordIn(Schema):
    uscc: str = Field("", max_length=18, description="法人的统一社会信用代码（与 id_number 二选一）")
    id_number: str = Field("", max_length=18, description="自然人的身份证号（与 uscc 二选一）")
    kind: str = Field(max_length=24, description="记录类别（CreditRecord.Kind 的值或中文名称）")
    title: str = Field(max_length=200)
    detail: str = Field("", max_length=2000)
    legal_basis: str = Field(max_length=300)
    occurred_on: date
    effective_until: date | None = Field(None, description="空：按类别的默认有效期")


class CreditImportErrorOut(Schema):
    row: int
    field: str
    message: str


class CreditImportOut(Schema):
    id: UUID
    channel: str
    source_name: str
    department: CreditFileDeptOut
    file_sm3: str
    rows: int
    accepted: int
    refused: int
    errors: list[CreditImportErrorOut]
    created_at: datetime
    duplicate: bool = Field(False, description="该文件此前已导入（未重复处理）")


class CreditImportPageOut(Schema):
    items: list[CreditImportOut]
    next_cursor: str | None = None


# --- shaping ---------------------------------------------------------------------------------------------------
def _dept(d) -> dict:
    return {"code": d.code, "name": d.name}


def _item(row: sel.FileRow) -> dict:
    f = row.file
    return {
        "id": f.public_id,
        "subject": f.subject,
        "name": row.name,
        "code": row.code,
        "grade": f.grade,
        "score": f.score,
        "is_black": f.is_black,
        "is_red": f.is_red,
        "records_active": f.records_active,
        "evaluated_at": f.evaluated_at,
    }


def _record(r, today) -> dict:
    return {
        "id": r.public_id,
        "kind": r.kind,
        "kind_label": str(r.get_kind_display()),
        "polarity": r.polarity,
        "source": r.source,
        "source_label": str(r.get_source_display()),
        "department": _dept(r.department),
        "title": r.title,
        "detail": r.detail,
        "legal_basis": r.legal_basis,
        "occurred_on": r.occurred_on,
        "effective_until": r.effective_until,
        "status": r.status,
        "status_label": str(r.get_status_display()),
        "is_public": r.is_public,
        "in_effect": r.status == r.Status.ACTIVE
        and (r.effective_until is None or r.effective_until >= today),
    }


def _file_out(view: sel.FileView) -> dict:
    from django.utils import timezone

    today = timezone.localdate()
    f = view.file
    return {
        **_item(sel.FileRow(file=f, name=view.name, code=view.code)),
        "model_version": f.model_version,
        "reasons": f.reasons or [],
        "lists": f.lists or [],
        "effects": f.effects or [],
        "records": [_record(r, today) for r in view.records],
        "entries": [
            {
                "id": e.public_id,
                "list_type": e.list_type,
                "list_label": str(e.get_list_type_display()),
                "reason": e.reason,
                "legal_basis": e.legal_basis,
                "department": _dept(e.department),
                "starts_on": e.starts_on,
                "ends_on": e.ends_on,
                "status": e.status,
                "is_published": e.is_published,
            }
            for e in view.entries
        ],
        "checks": [
            {
                "case_number": c.case.number,
                "moment": c.moment,
                "moment_label": str(c.get_moment_display()),
                "grade": c.grade,
                "lists": c.lists or [],
                "applied": c.applied or [],
                "outcome": c.outcome,
                "checked_at": c.checked_at,
            }
            for c in view.checks
        ],
        "objections": [
            {
                "number": o.number,
                "record": o.record.public_id,
                "status": o.status,
                "status_label": str(o.get_status_display()),
                "due_date": o.due_date,
                "decision": o.decision,
            }
            for o in view.objections
        ],
        "repairs": [
            {
                "number": r.number,
                "status": r.status,
                "status_label": str(r.get_status_display()),
                "due_date": r.due_date,
                "decision": r.decision,
            }
            for r in view.repairs
        ],
    }


def _batch_out(batch, *, duplicate: bool = False) -> dict:
    return {
        "id": batch.public_id,
        "channel": batch.channel,
        "source_name": batch.source_name,
        "department": _dept(batch.department),
        "file_sm3": batch.file_sm3,
        "rows": batch.rows,
        "accepted": batch.accepted,
        "refused": batch.refused,
        "errors": [
            {
                "row": int(e.get("row", 0)),
                "field": str(e.get("field", "")),
                "message": str(e.get("message", "")),
            }
            for e in batch.errors or []
        ],
        "created_at": batch.created_at,
        "duplicate": duplicate,
    }


# --- operations ------------------------------------------------------------------------------------------------
@router.get(
    "",
    response={200: CreditFilePageOut, **_READ},
    summary="本区的信用档案（按名称或统一社会信用代码检索；按等级、红黑名单筛选；游标分页）",
)
@requires(CREDIT_VIEW)
def file_list(
    request: HttpRequest,
    q: str = Query("", max_length=100),
    grade: str = Query("", max_length=1),
    list: str = Query("", max_length=8, description="black 黑名单 / red 红名单"),  # noqa: A002
    cursor: str | None = Query(None, max_length=CURSOR_MAX),
    limit: int = Query(20, ge=1, le=200),
):
    page = sel.credit_file_list(
        principal_of(request), q=q, grade=grade, list_=list, cursor=cursor, limit=limit
    )
    return {"items": [_item(r) for r in page.items], "next_cursor": page.next_cursor}


@router.post(
    "/records",
    response={201: CreditFileRecordOut, **_READ},
    summary="人工录入一条信用记录（主体按统一社会信用代码或身份证号从基础库取得）",
)
@requires(CREDIT_MANAGE)
def record_create(request: HttpRequest, payload: CreditFileRecordIn):
    from django.utils import timezone

    record = credit_record_add_manual(actor=principal_of(request), **payload.dict())
    return Status(201, _record(record, timezone.localdate()))


@router.post(
    "/imports",
    response={200: CreditImportOut, 201: CreditImportOut, **_READ},
    summary="导入信用记录 CSV（multipart：file CSV 文件，source_name 数据来源）；同一文件再次上传返回原批次",
)
@requires(CREDIT_MANAGE)
def import_create(request: HttpRequest, source_name: Form[str] = "", file: File[UploadedFile] = None):
    batch, created = credit_import_csv(actor=principal_of(request), file=file, source_name=source_name)
    return Status(201 if created else 200, _batch_out(batch, duplicate=not created))


@router.get(
    "/imports", response={200: CreditImportPageOut, **_READ}, summary="本区的信用记录导入批次（游标分页）"
)
@requires(CREDIT_MANAGE)
def import_list(
    request: HttpRequest,
    cursor: str | None = Query(None, max_length=CURSOR_MAX),
    limit: int = Query(20, ge=1, le=200),
):
    page = sel.import_batch_list(principal_of(request), cursor=cursor, limit=limit)
    return {"items": [_batch_out(b) for b in page.items], "next_cursor": page.next_cursor}


@router.get(
    "/imports/{import_id}",
    response={200: CreditImportOut, **_READ},
    summary="一个导入批次：接收、拒收与逐行原因",
)
@requires(CREDIT_MANAGE)
def import_detail(request: HttpRequest, import_id: str):
    batch = sel.import_batch_find(principal_of(request), import_id)
    if batch is None:
        raise Http404(_("没有找到该导入批次。"))
    return _batch_out(batch)


@router.get(
    "/{file_id}",
    response={200: CreditFileOut, **_READ},
    summary="一份信用档案（自然人档案须提供查询用途 purpose，查询记入审计）",
)
@requires(CREDIT_VIEW)
def file_detail(request: HttpRequest, file_id: str, purpose: str = Query("", max_length=200)):
    view = sel.credit_file_view(principal_of(request), file_id, purpose=purpose)
    if view is None:
        raise Http404(_("没有找到该信用档案。"))
    return _file_out(view)
