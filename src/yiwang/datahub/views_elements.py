"""Pages: 数据元 (DATA_STEWARD or DATA_CENTRE). The element list with search and filters, one element (definition,
code values, versions, where it is bound), the draft form, the batches page (compose, publish with a change note)
and the conformance report. Writes go through services.elements; no transaction is opened here."""

from __future__ import annotations

from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from yiwang.core.models import Department
from yiwang.core.pageutils import page_requires
from yiwang.core.permissions import DATA_CENTRE, DATA_STEWARD

from . import conformance
from .bindings import bindings_sync
from .models import CodeList, DataElement, ElementBatch
from .selectors import elements as selectors
from .services import elements as services

_PAGE = (DATA_STEWARD, DATA_CENTRE)


# --- forms ------------------------------------------------------------------------------------------------------------
class ElementForm(forms.Form):
    identifier = forms.CharField(
        label=gettext_lazy("内部标识符"), max_length=7, help_text=gettext_lazy("DE 加5位数字，如 DE00123")
    )
    name = forms.CharField(label=gettext_lazy("中文名称"), max_length=100)
    definition = forms.CharField(
        label=gettext_lazy("定义"), max_length=2000, widget=forms.Textarea(attrs={"rows": 3})
    )
    data_type = forms.ChoiceField(label=gettext_lazy("数据类型"), choices=DataElement.DataType.choices)
    max_length = forms.IntegerField(
        label=gettext_lazy("最大长度"), required=False, min_value=1, max_value=100000
    )
    format = forms.CharField(
        label=gettext_lazy("表示格式"),
        max_length=60,
        required=False,
        help_text=gettext_lazy("如 c18、YYYYMMDD"),
    )
    code_list = forms.ChoiceField(label=gettext_lazy("值域代码表"), required=False)
    validator = forms.ChoiceField(
        label=gettext_lazy("值域校验"), choices=DataElement.Validator.choices, required=False
    )
    unit = forms.CharField(label=gettext_lazy("计量单位"), max_length=20, required=False)
    source_department = forms.ChoiceField(label=gettext_lazy("数源部门"))
    is_collected = forms.BooleanField(
        label=gettext_lazy("列入统一采集目录（政府已掌握，表单不得再索要）"), required=False
    )
    batch = forms.ChoiceField(
        label=gettext_lazy("发布批次"),
        required=False,
        help_text=gettext_lazy("修改已发布的数据元时必选：修改随该批次发布后生效"),
    )

    def __init__(self, *args, principal, creating: bool, **kwargs):
        super().__init__(*args, **kwargs)
        if not creating:
            del self.fields["identifier"]
        lists = CodeList.objects.filter(is_active=True).order_by("code").values_list("code", "name")
        self.fields["code_list"].choices = [("", "—")] + [(c, f"{n}（{c}）") for c, n in lists]
        departments = Department.objects.filter(is_active=True).order_by("code")
        if not principal.has(DATA_CENTRE):
            departments = departments.filter(pk__in=services.steward_department_ids(principal))
        self.fields["source_department"].choices = [(d.code, f"{d.name}（{d.code}）") for d in departments]
        batches = ElementBatch.objects.filter(status=ElementBatch.Status.DRAFT).order_by("-number")
        self.fields["batch"].choices = [("", "—")] + [
            (b.number, f"{b.number} {b.title}") for b in batches[:50]
        ]


def _initial(element: DataElement) -> dict:
    values = {
        "name": element.name,
        "definition": element.definition,
        "data_type": element.data_type,
        "max_length": element.max_length,
        "format": element.format,
        "code_list": element.code_list.code if element.code_list_id else "",
        "validator": element.validator,
        "unit": element.unit,
        "source_department": element.source_department.code,
        "is_collected": element.is_collected,
        "batch": element.batch.number if element.batch_id and element.batch.status == "draft" else "",
    }
    values.update(element.pending or {})
    return values


def _apply_errors(form: forms.Form, exc: ValidationError) -> None:
    for field, messages_ in exc.message_dict.items():
        for message in messages_:
            form.add_error(field if field in form.fields else None, message)


def _query(request: HttpRequest, **changes) -> str:
    params = {k: v for k, v in request.GET.items() if v}
    params.update({k: v for k, v in changes.items() if v is not None})
    return urlencode({k: v for k, v in params.items() if v})


# --- pages ------------------------------------------------------------------------------------------------------------
@page_requires(*_PAGE)
def element_list(request: HttpRequest) -> HttpResponse:
    principal = request.principal
    collected = {"yes": True, "no": False}.get(request.GET.get("collected", ""))
    filters = {
        "q": request.GET.get("q", "")[:100],
        "status": request.GET.get("status", "")
        if request.GET.get("status") in DataElement.Status.values
        else "",
        "department": request.GET.get("department", "")[:20],
        "data_type": request.GET.get("data_type", "")
        if request.GET.get("data_type") in DataElement.DataType.values
        else "",
    }
    try:
        page = selectors.elements_list(
            principal, **filters, collected=collected, cursor=request.GET.get("cursor"), limit=50
        )
    except ValidationError:
        page = selectors.elements_list(principal, **filters, collected=collected, limit=50)
    departments = Department.objects.filter(sourced_elements__isnull=False).distinct().order_by("code")
    return render(
        request,
        "datahub/elements/list.html",
        {
            "page": page,
            "filters": filters,
            "collected": request.GET.get("collected", ""),
            "statuses": DataElement.Status.choices,
            "data_types": DataElement.DataType.choices,
            "departments": departments,
            "next_query": _query(request, cursor=page.next_cursor) if page.next_cursor else "",
            "may_create": principal.has(DATA_CENTRE) or principal.has(DATA_STEWARD),
            "tab": "elements",
        },
    )


@page_requires(*_PAGE)
def element_detail(request: HttpRequest, identifier: str) -> HttpResponse:
    principal = request.principal
    element = selectors.element_get(principal, identifier)
    return render(
        request,
        "datahub/elements/detail.html",
        {
            "element": element,
            "code_values": selectors.code_list_values(element.code_list),
            "revisions": selectors.element_revisions(element),
            "where": selectors.element_where_bound(element),
            "mismatches": [m for m in conformance.mismatches_all() if m.identifier == element.identifier],
            "may_edit": element.status != DataElement.Status.RETIRED
            and services.may_edit_for(principal, element.source_department),
            "may_retire": principal.has(DATA_CENTRE) and element.status != DataElement.Status.RETIRED,
            "tab": "elements",
        },
    )


@page_requires(*_PAGE)
@require_http_methods(["GET", "POST"])
def element_create(request: HttpRequest) -> HttpResponse:
    principal = request.principal
    form = ElementForm(request.POST or None, principal=principal, creating=True)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        try:
            element = services.element_create(
                actor=principal, identifier=data.pop("identifier"), batch=data.pop("batch") or None, **data
            )
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(
                request, _("已保存数据元草稿 %(identifier)s。") % {"identifier": element.identifier}
            )
            return redirect("datahub:element_detail", identifier=element.identifier)
    return render(request, "datahub/elements/form.html", {"form": form, "element": None, "tab": "elements"})


@page_requires(*_PAGE)
@require_http_methods(["GET", "POST"])
def element_edit(request: HttpRequest, identifier: str) -> HttpResponse:
    principal = request.principal
    element = selectors.element_get(principal, identifier)
    if not services.may_edit_for(principal, element.source_department):
        messages.error(request, _("只有该数据元的数源部门或大数据中心可以维护它。"))
        return redirect("datahub:element_detail", identifier=element.identifier)
    form = ElementForm(request.POST or None, principal=principal, creating=False, initial=_initial(element))
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        batch = data.pop("batch") or None
        try:
            services.element_update(actor=principal, element=element, batch=batch, **data)
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, _("已保存。"))
            return redirect("datahub:element_detail", identifier=element.identifier)
    return render(
        request, "datahub/elements/form.html", {"form": form, "element": element, "tab": "elements"}
    )


@page_requires(DATA_CENTRE)
@require_POST
def element_retire(request: HttpRequest, identifier: str) -> HttpResponse:
    principal = request.principal
    element = selectors.element_get(principal, identifier)
    try:
        services.element_retire(
            actor=principal,
            element=element,
            note=request.POST.get("note", "")[:1000],
            force=request.POST.get("force") == "on",
        )
    except ValidationError as exc:
        messages.error(request, " ".join(m for ms in exc.message_dict.values() for m in ms))
    else:
        messages.success(request, _("已废止数据元 %(identifier)s。") % {"identifier": element.identifier})
    return redirect("datahub:element_detail", identifier=element.identifier)


@page_requires(*_PAGE)
def element_batches(request: HttpRequest) -> HttpResponse:
    principal = request.principal
    try:
        page = selectors.batches_list(principal, cursor=request.GET.get("cursor"), limit=30)
    except ValidationError:
        page = selectors.batches_list(principal, limit=30)
    drafts = {
        b.number: [e for e in services.batch_elements_to_publish(b) if e.status == "draft" or e.pending]
        for b in page.items
        if b.status == ElementBatch.Status.DRAFT
    }
    rows = [(b, drafts.get(b.number, [])) for b in page.items]
    return render(
        request,
        "datahub/elements/batches.html",
        {
            "rows": rows,
            "page": page,
            "next_query": _query(request, cursor=page.next_cursor) if page.next_cursor else "",
            "is_centre": principal.has(DATA_CENTRE),
            "tab": "batches",
            "errors": {},
            "values": {},
        },
    )


@page_requires(DATA_CENTRE)
@require_POST
def element_batch_create(request: HttpRequest) -> HttpResponse:
    try:
        batch = services.batch_create(
            actor=request.principal,
            number=request.POST.get("number", "")[:20],
            title=request.POST.get("title", "")[:200],
            change_note=request.POST.get("change_note", "")[:4000],
        )
    except ValidationError as exc:
        messages.error(request, " ".join(m for ms in exc.message_dict.values() for m in ms))
    else:
        messages.success(request, _("已新建发布批次 %(number)s。") % {"number": batch.number})
    return redirect("datahub:element_batches")


@page_requires(DATA_CENTRE)
@require_POST
def element_batch_publish(request: HttpRequest, number: str) -> HttpResponse:
    principal = request.principal
    batch = selectors.batch_get(principal, number)
    try:
        services.element_batch_publish(
            actor=principal, batch=batch, change_note=request.POST.get("change_note", "")[:4000]
        )
    except ValidationError as exc:
        messages.error(request, " ".join(m for ms in exc.message_dict.values() for m in ms))
    else:
        messages.success(request, _("已发布批次 %(number)s。") % {"number": batch.number})
    return redirect("datahub:element_batches")


@page_requires(*_PAGE)
def conformance_report(request: HttpRequest) -> HttpResponse:
    principal = request.principal
    section = request.GET.get("section", "mismatches")
    if section not in conformance.SECTIONS:
        section = "mismatches"
    cursor = request.GET.get("cursor")
    pagers = {
        "mismatches": lambda c: conformance.mismatches_page(principal, cursor=c),
        "names": lambda c: conformance.mismatches_page(principal, names=True, cursor=c),
        "asks_twice": lambda c: conformance.asks_twice_page(principal, cursor=c),
        "unbound_resource_fields": lambda c: conformance.unbound_resource_fields_page(principal, cursor=c),
        "unbound_form_fields": lambda c: conformance.unbound_form_fields_page(principal, cursor=c),
        "retired_bound": lambda c: conformance.retired_bound_page(principal, cursor=c),
    }
    try:
        page = pagers[section](cursor)
    except ValidationError:
        page = pagers[section](None)
    summary = conformance.conformance_summary(principal)
    return render(
        request,
        "datahub/elements/conformance.html",
        {
            "section": section,
            "sections": [
                (key, str(label), getattr(summary, key)) for key, label in conformance.SECTIONS.items()
            ],
            "title": conformance.section_title(section),
            "page": page,
            "summary": summary,
            "next_query": _query(request, cursor=page.next_cursor) if page.next_cursor else "",
            "is_centre": principal.has(DATA_CENTRE),
            "tab": "conformance",
        },
    )


@page_requires(DATA_CENTRE)
@require_POST
def bindings_sync_run(request: HttpRequest) -> HttpResponse:
    counts = bindings_sync(actor=request.principal)
    messages.success(
        request,
        _("数据元绑定已重建：新增 %(created)d，更新 %(updated)d，删除 %(deleted)d，未绑定 %(unbound)d。")
        % counts,
    )
    return redirect("datahub:conformance")


urlpatterns = [
    path("elements/", element_list, name="elements"),
    path("elements/new/", element_create, name="element_create"),
    path("elements/batches/", element_batches, name="element_batches"),
    path("elements/batches/new/", element_batch_create, name="element_batch_create"),
    path("elements/batches/<str:number>/publish/", element_batch_publish, name="element_batch_publish"),
    path("elements/conformance/", conformance_report, name="conformance"),
    path("elements/bindings-sync/", bindings_sync_run, name="bindings_sync"),
    path("elements/<str:identifier>/", element_detail, name="element_detail"),
    path("elements/<str:identifier>/edit/", element_edit, name="element_edit"),
    path("elements/<str:identifier>/retire/", element_retire, name="element_retire"),
]
