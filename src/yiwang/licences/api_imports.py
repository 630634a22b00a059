"""Batch import API (/api/licences/imports): multipart CSV upload with a dry-run switch, run as a background job.

`POST` checks the file itself (size, type, UTF-8) and answers at once — 202 with the import's id and state
(`queued`) and a `Location` to poll; `GET /{id}` is the status and the report: `status` queued → checking →
(issuing) → checked / imported / failed / error, `progress` 0–100, `processed_rows` of `total_rows`, and the row
errors when done. Every answer carries `Cache-Control: no-store`.
"""

from datetime import datetime
from uuid import UUID

from django.http import HttpRequest, HttpResponse
from django.views.decorators.cache import never_cache
from ninja import Field, File, Form, Query, Router, Schema, Status, UploadedFile

from yiwang.core.apiutils import principal_of, requires
from yiwang.core.pagination import CURSOR_MAX, keyset_page
from yiwang.core.permissions import LICENCE_ISSUE
from yiwang.core.schemas import ProblemOut

from .selectors_imports import import_get, import_type_get, imports_visible
from .services.imports import licence_import_submit

router = Router(tags=["licences"])
router.add_decorator(never_cache, mode="view")
_ERRORS = {401: ProblemOut, 403: ProblemOut, 404: ProblemOut, 422: ProblemOut}


class ImportError_(Schema):
    row: int = Field(description="行号（1 为表头；0 为整个文件）")
    field: str
    message: str


class ImportOut(Schema):
    id: UUID
    licence_type: str
    file_name: str
    file_sm3: str
    dry_run: bool
    status: str = Field(
        description="queued 排队中 / checking 检查中 / issuing 签发中 / checked 已预检 / imported 已导入 / "
        "failed 导入失败（有错误行，未签发）/ error 处理出错"
    )
    running: bool = Field(description="任务尚未结束（queued、checking、issuing）")
    progress: int = Field(description="进度百分比 0–100")
    total_rows: int = Field(description="数据行数（任务结束前为估计值）")
    processed_rows: int = Field(description="已检查的数据行数")
    ok_rows: int
    error_rows: int
    errors: list[ImportError_]
    created_at: str
    started_at: datetime | None = None
    finished_at: datetime | None = None


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
        "running": record.running,
        "progress": record.progress,
        "total_rows": record.total_rows,
        "processed_rows": record.processed_rows,
        "ok_rows": record.ok_rows,
        "error_rows": record.error_rows,
        "errors": record.errors,
        "created_at": record.created_at.isoformat(),
        "started_at": record.started_at,
        "finished_at": record.finished_at,
    }


@router.post(
    "",
    response={202: ImportOut, **_ERRORS},
    summary="上传 CSV 批量签发证照（后台任务；multipart：licence_type 证照类型代码，dry_run 是否仅预检，file CSV 文件）",
)
@requires(LICENCE_ISSUE)
def import_create(
    request: HttpRequest,
    response: HttpResponse,
    licence_type: Form[str],
    dry_run: Form[bool] = True,
    file: File[UploadedFile] = None,
):
    principal = principal_of(request)
    record = licence_import_submit(
        actor=principal, licence_type=import_type_get(principal, licence_type), file=file, dry_run=dry_run
    )
    response["Location"] = f"{request.path.rstrip('/')}/{record.public_id}"
    return Status(202, _out(record))


@router.get("", response={200: ImportPage, **_ERRORS}, summary="本部门的批量导入记录（按时间倒序，游标分页）")
@requires(LICENCE_ISSUE)
def import_list(
    request: HttpRequest,
    cursor: str | None = Query(None, max_length=CURSOR_MAX),
    limit: Query[int] = 50,
):
    page = keyset_page(imports_visible(principal_of(request)), cursor=cursor, limit=limit, descending=True)
    return {"items": [_out(r) for r in page.items], "next_cursor": page.next_cursor}


@router.get(
    "/{uuid:import_id}",
    response={200: ImportOut, **_ERRORS},
    summary="一次批量导入的状态、进度与报告（逐行错误）",
)
@requires(LICENCE_ISSUE)
def import_detail(request: HttpRequest, import_id: UUID):
    return _out(import_get(principal_of(request), import_id))
