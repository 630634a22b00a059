"""Batch import API (/api/licences/imports): multipart CSV upload with a dry-run switch, the reports."""

from uuid import UUID

from django.http import HttpRequest
from ninja import File, Form, Query, Router, Schema, Status, UploadedFile

from yiwang.core.api.identity import ProblemOut
from yiwang.core.apiutils import principal_of, requires
from yiwang.core.pagination import keyset_page
from yiwang.core.permissions import LICENCE_ISSUE

from .selectors_imports import import_get, import_type_get, imports_visible
from .services.imports import licence_import

router = Router(tags=["licences"])
_ERRORS = {401: ProblemOut, 403: ProblemOut, 404: ProblemOut, 422: ProblemOut}


class ImportError_(Schema):
    row: int
    field: str
    message: str


class ImportOut(Schema):
    id: UUID
    licence_type: str
    file_name: str
    file_sm3: str
    dry_run: bool
    status: str
    total_rows: int
    ok_rows: int
    error_rows: int
    errors: list[ImportError_]
    created_at: str


class ImportPage(Schema):
    items: list[ImportOut]
    next_cursor: str | None


def _out(record) -> dict:
    return {
        "id": record.public_id,
        "licence_type": record.licence_type.code,
        "file_name": record.file_name,
        "file_sm3": record.file_sm3,
        "dry_run": record.dry_run,
        "status": record.status,
        "total_rows": record.total_rows,
        "ok_rows": record.ok_rows,
        "error_rows": record.error_rows,
        "errors": record.errors,
        "created_at": record.created_at.isoformat(),
    }


@router.post(
    "",
    response={201: ImportOut, **_ERRORS},
    summary="上传 CSV 批量签发证照（multipart：licence_type 证照类型代码，dry_run 是否仅预检，file CSV 文件）",
)
@requires(LICENCE_ISSUE)
def import_create(
    request: HttpRequest,
    licence_type: Form[str],
    dry_run: Form[bool] = True,
    file: File[UploadedFile] = None,
):
    principal = principal_of(request)
    record = licence_import(
        actor=principal, licence_type=import_type_get(principal, licence_type), file=file, dry_run=dry_run
    )
    return Status(201, _out(record))


@router.get("", response={200: ImportPage, **_ERRORS}, summary="本部门的批量导入记录（按时间倒序，游标分页）")
@requires(LICENCE_ISSUE)
def import_list(request: HttpRequest, cursor: Query[str] = None, limit: Query[int] = 50):
    page = keyset_page(imports_visible(principal_of(request)), cursor=cursor, limit=limit, descending=True)
    return {"items": [_out(r) for r in page.items], "next_cursor": page.next_cursor}


@router.get(
    "/{uuid:import_id}", response={200: ImportOut, **_ERRORS}, summary="一次批量导入的报告（逐行错误）"
)
@requires(LICENCE_ISSUE)
def import_detail(request: HttpRequest, import_id: UUID):
    return _out(import_get(principal_of(request), import_id))
