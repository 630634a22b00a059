"""Pages: 资源目录 for the departments' data officers and the big-data centre.

- `datahub:catalogue` (/data/catalogue/): Chinese search with facets (provider, class, theme, share type, open
  type, grade, update cycle: counts for the current query), results re-rendered by HTMX as the query changes;
- `datahub:catalogue_mine` (/data/catalogue/mine/): every version of my department's resources;
- `datahub:catalogue_review` (/data/catalogue/review/): the centre's review queue;
- `datahub:resource_new` (/data/catalogue/new/): register a resource (the centre chooses the provider);
- `datahub:resource_detail` (/data/catalogue/<id>/): metadata, fields with element, share type, class, grade and
  default mask (不予共享 with its basis), versions, history, the caller's lifecycle buttons and 申请共享;
- `datahub:resource_edit` (/data/catalogue/<id>/edit/): metadata, the field rows (HTMX adds and removes rows),
  挂接 (a registry, the offshore store, an external API, or an uploaded CSV/XLSX) and 提交审核.
Every write calls the same services as the API (services/catalogue.py); views parse and render.
"""

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
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from yiwang.core.pageutils import page_requires
from yiwang.core.permissions import DATA_CENTRE, DATA_STEWARD

from .models import DataClass, DataElement, DataResource, Grade, Mask, OpenType, ShareType
from .readers import reader_names
from .selectors.catalogue import (
    FACETS,
    catalogue_search,
    department_resources,
    departments_registrable,
    is_centre,
    resource_detail,
    resource_get_visible,
    review_queue,
)
from .services import catalogue as services
from .services.catalogue import META_FIELDS, ResourceConflict

PAGE_SIZE = 20
FACET_LABELS = {
    "provider": gettext_lazy("提供部门"),
    "resource_class": gettext_lazy("资源分类"),
    "theme": gettext_lazy("主题"),
    "share_type": gettext_lazy("共享类型"),
    "open_type": gettext_lazy("开放类型"),
    "grade": gettext_lazy("数据分级"),
    "update_cycle": gettext_lazy("更新周期"),
}
FIELD_COLUMNS = (
    "name",
    "label",
    "element",
    "share_type",
    "share_condition",
    "no_share_basis",
    "data_class",
    "grade",
    "default_mask",
    "is_key",
)


# --- forms ---------------------------------------------------------------------------------------------------
class ResourceForm(forms.Form):
    provider = forms.ChoiceField(label=gettext_lazy("提供部门"), required=False)
    name = forms.CharField(label=gettext_lazy("资源名称"), max_length=200)
    summary = forms.CharField(
        label=gettext_lazy("资源摘要"), max_length=4000, widget=forms.Textarea(attrs={"rows": 3})
    )
    resource_class = forms.ChoiceField(
        label=gettext_lazy("资源分类"), choices=DataResource.ResourceClass.choices
    )
    theme = forms.CharField(label=gettext_lazy("主题"), max_length=60, required=False)
    source_system = forms.CharField(label=gettext_lazy("来源系统"), max_length=120, required=False)
    format = forms.ChoiceField(label=gettext_lazy("资源格式"), choices=DataResource.Format.choices)
    share_type = forms.ChoiceField(label=gettext_lazy("共享类型"), choices=ShareType.choices)
    share_condition = forms.CharField(
        label=gettext_lazy("共享条件"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=gettext_lazy("有条件共享时必填"),
    )
    no_share_basis = forms.CharField(
        label=gettext_lazy("不予共享依据"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=gettext_lazy("不予共享时必填：法律、法规依据"),
    )
    open_type = forms.ChoiceField(label=gettext_lazy("开放类型"), choices=OpenType.choices)
    update_cycle = forms.ChoiceField(label=gettext_lazy("更新周期"), choices=DataResource.UpdateCycle.choices)
    data_class = forms.ChoiceField(label=gettext_lazy("数据分类"), choices=DataClass.choices)
    grade = forms.ChoiceField(label=gettext_lazy("数据分级"), choices=Grade.choices)
    contact_name = forms.CharField(label=gettext_lazy("联系人"), max_length=50, required=False)
    contact_phone = forms.CharField(label=gettext_lazy("联系电话（办公）"), max_length=30, required=False)

    def __init__(self, *args, departments=None, **kwargs):
        super().__init__(*args, **kwargs)
        if departments is None:
            del self.fields["provider"]
        else:
            self.fields["provider"].choices = [(d.code, f"{d.name}（{d.code}）") for d in departments]
            self.fields["provider"].required = True

    def add_service_errors(self, exc: ValidationError) -> None:
        for key, messages_ in getattr(exc, "message_dict", {"__all__": exc.messages}).items():
            for message in messages_:
                self.add_error(key if key in self.fields else None, message)


def _meta_initial(resource: DataResource) -> dict:
    return {name: getattr(resource, name) for name in META_FIELDS if name != "return_levels"}


def _field_rows_from_post(post) -> list[dict]:
    columns = {name: post.getlist(f"f_{name}") for name in FIELD_COLUMNS}
    count = len(columns["name"])
    rows = []
    for i in range(count):
        row = {name: (values[i] if i < len(values) else "") for name, values in columns.items()}
        if not any(
            str(v).strip()
            for k, v in row.items()
            if k not in ("share_type", "data_class", "grade", "default_mask", "is_key")
        ):
            continue  # a blank row left on the page
        row["is_key"] = row["is_key"] == "1"
        rows.append(row)
    return rows


def _choices() -> dict:
    return {
        "share_types": ShareType.choices,
        "data_classes": DataClass.choices,
        "grades": Grade.choices,
        "masks": Mask.choices,
        "mount_kinds": [c for c in DataResource.MountKind.choices if c[0]],
        "readers": [n for n in reader_names() if n != "datahub.offshore"],
    }


def _field_errors(exc: ValidationError) -> list[str]:
    out = []
    for key, messages_ in exc.message_dict.items():
        parts = key.split(".")
        prefix = (
            _("第 %(n)d 行：") % {"n": int(parts[1]) + 1} if len(parts) >= 2 and parts[1].isdecimal() else ""
        )
        out.extend(prefix + m for m in messages_)
    return out


# --- search ----------------------------------------------------------------------------------------------------
def _query_without(filters, *drop: str, **extra) -> str:
    values = {"q": filters.q, "status": filters.status, **filters.facet_values(), **extra}
    return urlencode({k: v for k, v in values.items() if v and k not in drop})


@page_requires(DATA_STEWARD, DATA_CENTRE)
@require_GET
def catalogue(request: HttpRequest) -> HttpResponse:
    principal = request.principal
    values = {name: request.GET.get(name, "") for name in ("q", "status", *FACETS)}
    errors: dict = {}
    try:
        result = catalogue_search(principal, cursor=request.GET.get("cursor"), limit=PAGE_SIZE, **values)
    except ValidationError as exc:
        errors = {k: v[0] for k, v in exc.message_dict.items()}
        result = catalogue_search(principal, limit=PAGE_SIZE)
    filters = result.filters
    facets = [
        {
            "name": name,
            "label": FACET_LABELS[name],
            "values": [
                {
                    **v.__dict__,
                    "query": _query_without(filters, name, **({} if v.selected else {name: v.value})),
                }
                for v in result.facets.get(name, [])
            ],
        }
        for name in FACETS
    ]
    context = {
        "result": result,
        "filters": filters,
        "facets": facets,
        "errors": errors,
        "statuses": DataResource.Status.choices,
        "next_query": _query_without(filters, cursor=result.page.next_cursor or ""),
        "is_centre": is_centre(principal),
    }
    template = "datahub/catalogue/_results.html" if request.htmx else "datahub/catalogue/search.html"
    return render(request, template, context, status=422 if errors else 200)


@page_requires(DATA_STEWARD, DATA_CENTRE)
@require_GET
def catalogue_mine(request: HttpRequest) -> HttpResponse:
    status = request.GET.get("status", "")
    if status not in DataResource.Status.values:
        status = ""
    page = department_resources(request.principal, status=status, cursor=request.GET.get("cursor"), limit=50)
    return render(
        request,
        "datahub/catalogue/mine.html",
        {
            "page": page,
            "status": status,
            "statuses": DataResource.Status.choices,
            "next_query": urlencode({"status": status, "cursor": page.next_cursor or ""}),
        },
    )


@page_requires(DATA_CENTRE)
@require_GET
def catalogue_review(request: HttpRequest) -> HttpResponse:
    page = review_queue(request.principal, cursor=request.GET.get("cursor"), limit=50)
    return render(request, "datahub/catalogue/review.html", {"page": page})


# --- one resource ----------------------------------------------------------------------------------------------
@page_requires(DATA_STEWARD, DATA_CENTRE)
@require_http_methods(["GET", "POST"])
def resource_new(request: HttpRequest) -> HttpResponse:
    principal = request.principal
    departments = departments_registrable(principal)
    choose = departments if is_centre(principal) or len(departments) > 1 else None
    form = ResourceForm(request.POST or None, departments=choose)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        code = data.pop("provider", "") or ""
        provider = next((d for d in departments if d.code == code), None) if code else principal.department
        try:
            resource = services.resource_register(actor=principal, provider=provider, **data)
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(request, _("已登记，请继续填写信息项并挂接。"))
            return redirect("datahub:resource_edit", resource_id=resource.public_id)
    return render(
        request,
        "datahub/catalogue/new.html",
        {"form": form},
        status=422 if request.method == "POST" else 200,
    )


@page_requires(DATA_STEWARD, DATA_CENTRE)
@require_GET
def resource_detail_page(request: HttpRequest, resource_id) -> HttpResponse:
    detail = resource_detail(request.principal, resource_id)
    return render(
        request,
        "datahub/catalogue/detail.html",
        {"d": detail, "r": detail.resource, "is_centre": is_centre(request.principal)},
    )


def _edit_context(request, resource: DataResource, **extra) -> dict:
    detail = resource_detail(request.principal, resource.public_id)
    return {
        "d": detail,
        "r": detail.resource,
        "form": extra.pop("form", None) or ResourceForm(initial=_meta_initial(detail.resource)),
        "rows": extra.pop("rows", None) or [_row_of(f) for f in detail.fields],
        "elements": DataElement.objects.filter(status=DataElement.Status.PUBLISHED).only(
            "identifier", "name"
        )[:1000],
        **_choices(),
        **extra,
    }


def _row_of(f) -> dict:
    return {
        "name": f.name,
        "label": f.label,
        "element": f.element.identifier if f.element_id else "",
        "share_type": f.share_type,
        "share_condition": f.share_condition,
        "no_share_basis": f.no_share_basis,
        "data_class": f.data_class,
        "grade": f.grade,
        "default_mask": f.default_mask,
        "is_key": f.is_key,
    }


@page_requires(DATA_STEWARD, DATA_CENTRE)
@require_http_methods(["GET", "POST"])
def resource_edit(request: HttpRequest, resource_id) -> HttpResponse:
    principal = request.principal
    resource = resource_get_visible(principal, resource_id)
    if request.method == "GET":
        if "edit" not in resource_detail(principal, resource.public_id).actions:
            messages.warning(request, _("该资源当前不能修改。"))
            return redirect("datahub:resource_detail", resource_id=resource.public_id)
        return render(request, "datahub/catalogue/edit.html", _edit_context(request, resource))
    form = ResourceForm(request.POST)
    if form.is_valid():
        try:
            services.resource_update(
                actor=principal, resource=resource, row_version=_row_version(request), **form.cleaned_data
            )
        except ValidationError as exc:
            form.add_service_errors(exc)
        except ResourceConflict as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("资源信息已保存。"))
            return redirect("datahub:resource_edit", resource_id=resource.public_id)
    return render(
        request, "datahub/catalogue/edit.html", _edit_context(request, resource, form=form), status=422
    )


def _row_version(request) -> int | None:
    try:
        return int(request.POST.get("row_version", ""))
    except ValueError:
        return None


@page_requires(DATA_STEWARD, DATA_CENTRE)
@require_GET
def resource_field_row(request: HttpRequest, resource_id) -> HttpResponse:
    """HTMX: a blank field row to append (or, with ?remove=1, nothing: the row is swapped away)."""
    resource = resource_get_visible(request.principal, resource_id)
    if request.GET.get("remove"):
        return HttpResponse("")
    row = {"share_type": ShareType.CONDITIONAL, "data_class": DataClass.PERSONAL, "grade": Grade.GENERAL}
    return render(request, "datahub/catalogue/_field_row.html", {"row": row, "r": resource, **_choices()})


@page_requires(DATA_STEWARD, DATA_CENTRE)
@require_POST
def resource_fields(request: HttpRequest, resource_id) -> HttpResponse:
    principal = request.principal
    resource = resource_get_visible(principal, resource_id)
    rows = _field_rows_from_post(request.POST)
    try:
        services.resource_fields_set(
            actor=principal, resource=resource, fields=rows, row_version=_row_version(request)
        )
    except ValidationError as exc:
        context = _edit_context(request, resource, rows=rows, field_errors=_field_errors(exc))
        return render(request, "datahub/catalogue/edit.html", context, status=422)
    except ResourceConflict as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("信息项已保存（%(n)d 项）。") % {"n": len(rows)})
    return redirect("datahub:resource_edit", resource_id=resource.public_id)


@page_requires(DATA_STEWARD, DATA_CENTRE)
@require_POST
def resource_mount_page(request: HttpRequest, resource_id) -> HttpResponse:
    principal = request.principal
    resource = resource_get_visible(principal, resource_id)
    kind = request.POST.get("mount_kind", "")
    options = {}
    if request.POST.get("system"):
        options["system"] = request.POST["system"]
    if request.POST.get("harvester"):
        options["harvester"] = request.POST["harvester"]
    target = request.POST.get("mount_target", "")
    if kind == DataResource.MountKind.OFFSHORE:
        target = "datahub.offshore"
    try:
        services.resource_mount(
            actor=principal,
            resource=resource,
            mount_kind=kind,
            mount_target=target,
            mount_options=options,
            file=request.FILES.get("file"),
            row_version=_row_version(request),
        )
    except ValidationError as exc:
        context = _edit_context(request, resource, mount_errors=exc.messages)
        return render(request, "datahub/catalogue/edit.html", context, status=422)
    except ResourceConflict as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("已挂接。"))
    return redirect("datahub:resource_edit", resource_id=resource.public_id)


def _step(request, resource_id, call, success: str, *, back_to_edit_on_error: bool = False):
    principal = request.principal
    resource = resource_get_visible(principal, resource_id)
    try:
        result = call(principal, resource)
    except ValidationError as exc:
        for message in _field_errors(exc):
            messages.error(request, message)
        if back_to_edit_on_error:
            return redirect("datahub:resource_edit", resource_id=resource.public_id)
        return redirect("datahub:resource_detail", resource_id=resource.public_id)
    except ResourceConflict as exc:
        messages.error(request, str(exc))
        return redirect("datahub:resource_detail", resource_id=resource.public_id)
    messages.success(request, success)
    return redirect("datahub:resource_detail", resource_id=getattr(result, "public_id", resource.public_id))


@page_requires(DATA_STEWARD, DATA_CENTRE)
@require_POST
def resource_submit_page(request: HttpRequest, resource_id) -> HttpResponse:
    rv = _row_version(request)
    return _step(
        request,
        resource_id,
        lambda p, r: services.resource_submit(actor=p, resource=r, row_version=rv),
        _("已提交大数据中心审核。"),
        back_to_edit_on_error=True,
    )


@page_requires(DATA_CENTRE)
@require_POST
def resource_review_page(request: HttpRequest, resource_id) -> HttpResponse:
    rv = _row_version(request)
    approve = request.POST.get("decision") == "publish"
    note = request.POST.get("note", "")
    return _step(
        request,
        resource_id,
        lambda p, r: services.resource_review(
            actor=p, resource=r, approve=approve, note=note, row_version=rv
        ),
        _("已发布。") if approve else _("已退回提供部门。"),
    )


@page_requires(DATA_STEWARD, DATA_CENTRE)
@require_POST
def resource_version_page(request: HttpRequest, resource_id) -> HttpResponse:
    rv = _row_version(request)
    return _step(
        request,
        resource_id,
        lambda p, r: services.resource_version_new(actor=p, resource=r, row_version=rv),
        _("已创建新版本草稿。"),
    )


@page_requires(DATA_STEWARD, DATA_CENTRE)
@require_POST
def resource_retire_page(request: HttpRequest, resource_id) -> HttpResponse:
    rv = _row_version(request)
    notice = request.POST.get("notice", "")
    return _step(
        request,
        resource_id,
        lambda p, r: services.resource_retire(actor=p, resource=r, notice=notice, row_version=rv),
        _("资源已下线，已通知持有授权的部门。"),
    )


urlpatterns = [
    path("catalogue/", catalogue, name="catalogue"),
    path("catalogue/mine/", catalogue_mine, name="catalogue_mine"),
    path("catalogue/review/", catalogue_review, name="catalogue_review"),
    path("catalogue/new/", resource_new, name="resource_new"),
    path("catalogue/<uuid:resource_id>/", resource_detail_page, name="resource_detail"),
    path("catalogue/<uuid:resource_id>/edit/", resource_edit, name="resource_edit"),
    path("catalogue/<uuid:resource_id>/field-row/", resource_field_row, name="resource_field_row"),
    path("catalogue/<uuid:resource_id>/fields/", resource_fields, name="resource_fields"),
    path("catalogue/<uuid:resource_id>/mount/", resource_mount_page, name="resource_mount"),
    path("catalogue/<uuid:resource_id>/submit/", resource_submit_page, name="resource_submit"),
    path("catalogue/<uuid:resource_id>/review/", resource_review_page, name="resource_review"),
    path("catalogue/<uuid:resource_id>/version/", resource_version_page, name="resource_version"),
    path("catalogue/<uuid:resource_id>/retire/", resource_retire_page, name="resource_retire"),
]
