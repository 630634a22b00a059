"""Pages: 公共信用：信用档案与记录 (staff, CREDIT_VIEW; scope: the staff member's district).

- `credit:files` (/credit/files/): search by name or USCC (a person by the full ID number), facets grade and
  black/red list, keyset pages (the list body is swapped by HTMX as the search changes);
- `credit:file_detail` (/credit/files/<uuid>/): grade with reasons and model version, records with status, list
  entries, the credit checks made on cases, objections and repairs; a person's file asks for the purpose first
  (masked ID and name; the read is audited);
- `credit:record_new` (/credit/files/records/new/, CREDIT_MANAGE): add a record by hand;
- `credit:import` (/credit/import/, CREDIT_MANAGE): upload a CSV, the district's batches;
  `credit:import_detail` (/credit/import/<uuid>/): what was taken and each refused row with its reason.
Every write calls the same services as the API.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods

from yiwang.core.forms import add_service_errors
from yiwang.core.pageutils import page_requires
from yiwang.core.permissions import CREDIT_MANAGE, CREDIT_VIEW

from .models import CreditRecord, Grade
from .selectors import files as sel
from .services.imports import credit_import_csv
from .services.records import credit_record_add_manual

PAGE_SIZE = 20


class RecordForm(forms.Form):
    uscc = forms.CharField(
        label=gettext_lazy("统一社会信用代码"),
        max_length=18,
        required=False,
        help_text=gettext_lazy("法人填写；与身份证号二选一"),
    )
    id_number = forms.CharField(
        label=gettext_lazy("身份证号"), max_length=18, required=False, help_text=gettext_lazy("自然人填写")
    )
    kind = forms.ChoiceField(label=gettext_lazy("类别"), choices=CreditRecord.Kind.choices)
    title = forms.CharField(label=gettext_lazy("事由"), max_length=200)
    legal_basis = forms.CharField(label=gettext_lazy("法律依据"), max_length=300)
    occurred_on = forms.DateField(
        label=gettext_lazy("发生日期"), widget=forms.DateInput(attrs={"type": "date"})
    )
    effective_until = forms.DateField(
        label=gettext_lazy("有效期至"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=gettext_lazy("不填则按类别的默认有效期"),
    )
    detail = forms.CharField(
        label=gettext_lazy("内容"), max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 4})
    )


class ImportForm(forms.Form):
    source_name = forms.CharField(
        label=gettext_lazy("数据来源"), max_length=100, help_text=gettext_lazy("如：区人民法院、区税务局")
    )
    file = forms.FileField(
        label=gettext_lazy("CSV 文件"),
        help_text=gettext_lazy(
            "UTF-8 编码，至多 5 MB；列：统一社会信用代码或身份证号、类别、事由、法律依据、发生日期、有效期至（可空）"
        ),
    )


@page_requires(CREDIT_VIEW)
@require_GET
def files(request: HttpRequest) -> HttpResponse:
    principal = request.principal
    q = (request.GET.get("q") or "").strip()[:100]
    grade = request.GET.get("grade") or ""
    list_ = request.GET.get("list") or ""
    cursor = request.GET.get("cursor") or None
    error = ""
    try:
        page = sel.credit_file_list(principal, q=q, grade=grade, list_=list_, cursor=cursor, limit=PAGE_SIZE)
    except ValidationError as exc:
        error = "；".join(exc.messages)
        page = sel.Page(items=[], next_cursor=None)
    query = {k: v for k, v in (("q", q), ("grade", grade), ("list", list_)) if v}
    next_query = urlencode({**query, "cursor": page.next_cursor}) if page.next_cursor else ""
    template = "credit/files/_rows.html" if request.headers.get("HX-Request") else "credit/files/list.html"
    return render(
        request,
        template,
        {
            "page": page,
            "q": q,
            "grade": grade,
            "list": list_,
            "grades": Grade.choices,
            "error": error,
            "next_query": next_query,
            "may_manage": principal.has(CREDIT_MANAGE),
        },
    )


@page_requires(CREDIT_VIEW)
@require_GET
def file_detail(request: HttpRequest, file_id) -> HttpResponse:
    principal = request.principal
    purpose = (request.GET.get("purpose") or "").strip()
    try:
        view = sel.credit_file_view(principal, file_id, purpose=purpose)
    except sel.PurposeRequired as exc:
        file = sel.credit_file_find(principal, file_id)
        if file is None:
            raise Http404(_("没有找到该信用档案。")) from None
        status = 422 if "purpose" in request.GET else 200
        return render(
            request,
            "credit/files/purpose.html",
            {
                "file": file,
                "row": sel.file_row(file),
                "purpose": purpose,
                "error": exc.messages[0] if status == 422 else "",
            },
            status=status,
        )
    if view is None:
        raise Http404(_("没有找到该信用档案。"))
    today = timezone.localdate()
    for record in view.records:
        record.in_effect = record.status == CreditRecord.Status.ACTIVE and (
            record.effective_until is None or record.effective_until >= today
        )
    return render(request, "credit/files/detail.html", {"view": view, "file": view.file, "purpose": purpose})


@page_requires(CREDIT_MANAGE)
@require_http_methods(["GET", "POST"])
def record_new(request: HttpRequest) -> HttpResponse:
    principal = request.principal
    initial = {}
    if request.method == "GET" and request.GET.get("uscc"):
        initial["uscc"] = request.GET["uscc"][:18]
    form = RecordForm(request.POST or None, initial=initial)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                record = credit_record_add_manual(actor=principal, **data)
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, _("信用记录已录入，信用等级已重新评价。"))
                return redirect("credit:file_detail", file_id=record.file.public_id)
        status = 422
    return render(request, "credit/files/record_new.html", {"form": form}, status=status)


@page_requires(CREDIT_MANAGE)
@require_http_methods(["GET", "POST"])
def imports(request: HttpRequest) -> HttpResponse:
    principal = request.principal
    form = ImportForm(request.POST or None, request.FILES or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                batch, created = credit_import_csv(
                    actor=principal,
                    file=form.cleaned_data["file"],
                    source_name=form.cleaned_data["source_name"],
                )
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                if created:
                    messages.success(
                        request,
                        _("导入完成：共 %(rows)d 行，接收 %(ok)d 行，拒收 %(bad)d 行。")
                        % {"rows": batch.rows, "ok": batch.accepted, "bad": batch.refused},
                    )
                else:
                    messages.info(request, _("该文件此前已导入，未重复处理；以下是当时的导入结果。"))
                return redirect("credit:import_detail", batch_id=batch.public_id)
        status = 422
    cursor = request.GET.get("cursor") or None
    try:
        page = sel.import_batch_list(principal, cursor=cursor, limit=PAGE_SIZE)
    except ValidationError:
        page = sel.Page(items=[], next_cursor=None)
    return render(request, "credit/files/import.html", {"form": form, "page": page}, status=status)


@page_requires(CREDIT_MANAGE)
@require_GET
def import_detail(request: HttpRequest, batch_id) -> HttpResponse:
    batch = sel.import_batch_find(request.principal, batch_id)
    if batch is None:
        raise Http404(_("没有找到该导入批次。"))
    return render(request, "credit/files/import_detail.html", {"batch": batch})


urlpatterns = [
    path("files/", files, name="files"),
    path("files/records/new/", record_new, name="record_new"),
    path("files/<uuid:file_id>/", file_detail, name="file_detail"),
    path("import/", imports, name="import"),
    path("import/<uuid:batch_id>/", import_detail, name="import_detail"),
]
