"""批量导入 pages (/licences/imports/): the upload form (type, CSV file, dry-run switch), the department's import
history and one import's report (row errors). An upload is queued as a background job (services.imports) and the
page goes straight to the report, which shows the job's progress and refreshes itself by HTMX polling (the
report fragment, `licences/_import_report.html`) until the job ends. Views parse and render; rules live in
services.imports."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from yiwang.core.pageutils import page_requires
from yiwang.core.pagination import keyset_page
from yiwang.core.permissions import LICENCE_ISSUE

from .selectors_imports import import_get, import_type_get, import_types, imports_visible
from .services.imports import BASE_COLUMNS, MAX_BYTES, licence_import_submit

PAGE_SIZE = 20
POLL_SECONDS = 2


@page_requires(LICENCE_ISSUE)
@require_http_methods(["GET", "POST"])
def imports(request: HttpRequest) -> HttpResponse:
    principal = request.principal
    types = list(import_types(principal))
    errors: list[str] = []
    chosen = request.POST.get("licence_type") or request.GET.get("type") or ""
    dry_run = request.method == "GET" or request.POST.get("dry_run") == "1"
    if request.method == "POST":
        try:
            licence_type = import_type_get(principal, chosen)
            record = licence_import_submit(
                actor=principal, licence_type=licence_type, file=request.FILES.get("file"), dry_run=dry_run
            )
        except ValidationError as exc:
            errors = exc.messages
        else:
            messages.info(request, _("文件已上传，正在后台处理，本页会显示进度。"))
            return redirect("licences:import_detail", import_id=record.public_id)
    page = keyset_page(
        imports_visible(principal), cursor=request.GET.get("cursor"), limit=PAGE_SIZE, descending=True
    )
    columns = {
        t.code: [
            *BASE_COLUMNS[:3],
            *(["expires_on"] if t.validity == "until" else []),
            *(f["name"] for f in t.face_fields),
        ]
        for t in types
    }
    return render(
        request,
        "licences/imports.html",
        {
            "types": types,
            "columns": columns,
            "chosen": chosen,
            "dry_run": dry_run,
            "errors": errors,
            "page": page,
            "max_mb": MAX_BYTES // (1024 * 1024),
        },
        status=422 if errors else 200,
    )


@page_requires(LICENCE_ISSUE)
@require_GET
def import_detail(request: HttpRequest, import_id) -> HttpResponse:
    """The report; while the job runs, its progress (the HTMX poll asks for the fragment only)."""
    record = import_get(request.principal, import_id)
    template = "licences/_import_report.html" if request.htmx else "licences/import_detail.html"
    return render(request, template, {"record": record, "poll_seconds": POLL_SECONDS})


urlpatterns = [
    path("imports/", imports, name="imports"),
    path("imports/<uuid:import_id>/", import_detail, name="import_detail"),
]
