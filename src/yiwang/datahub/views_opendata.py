"""Pages: 公共数据开放 management (/data/open/…).

- `datahub:open_datasets` (DATA_STEWARD, DATA_CENTRE): the datasets of my department (the centre: all), by status;
- `datahub:open_dataset_new`, `datahub:open_dataset_edit`: create (from a published catalogue resource whose
  开放类型 allows it, or standalone) and edit a draft;
- `datahub:open_dataset_detail`: files (upload CSV/XLSX), the publication check item by item, the actions
  (run the check, submit; publish and return for the centre; withdraw) and the receipts of publication;
- `datahub:open_applications`, `datahub:open_application`: applications for 有条件开放, decided by the opening
  department's data officers (approve with a validity date, or reject with reasons);
- `datahub:open_negative` (DATA_CENTRE): the 不予开放清单; `datahub:open_apps` (DATA_CENTRE): apps to show or hide.
"""

from __future__ import annotations

from datetime import date

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from yiwang.core.pageutils import page_requires
from yiwang.core.permissions import DATA_CENTRE, DATA_STEWARD

from .api_opendata import receipt_download_path
from .models import DataResource
from .models.opendata import OpenApp, OpenApplication, OpenDataset, OpenTheme, OpenTier
from .selectors import opendata as sel
from .services import opendata as svc

STATUSES = OpenDataset.Status.choices


def _errors(exc: ValidationError) -> dict[str, str]:
    if hasattr(exc, "error_dict"):
        return {k: "；".join(v) for k, v in exc.message_dict.items()}
    return {"__all__": "；".join(exc.messages)}


@page_requires(DATA_STEWARD, DATA_CENTRE)
def open_datasets(request: HttpRequest) -> HttpResponse:
    status = request.GET.get("status", "")
    if status not in OpenDataset.Status.values:
        status = ""
    try:
        page = sel.datasets_managed(
            request.principal,
            status=status,
            q=request.GET.get("q", "")[:100],
            cursor=request.GET.get("cursor") or None,
        )
    except ValidationError:
        return redirect("datahub:open_datasets")
    return render(
        request,
        "datahub/opendata/datasets.html",
        {"page": page, "status": status, "statuses": STATUSES, "is_centre": svc.is_centre(request.principal)},
    )


def _form_values(request: HttpRequest, keys) -> dict[str, str]:
    return {k: request.POST.get(k, "")[:8000] for k in keys}


_FORM_KEYS = (
    "title",
    "notes",
    "department",
    "resource",
    "tier",
    "conditions",
    "update_cycle",
    "tags",
    "name",
    "licence_id",
)


def _form_context(request: HttpRequest, values, errors, *, dataset=None) -> dict:
    return {
        "values": values,
        "errors": errors,
        "dataset": dataset,
        "departments": sel.departments_for(request.principal) if dataset is None else [],
        "resources": sel.resources_openable(request.principal) if dataset is None else [],
        "tiers": OpenTier.choices,
        "cycles": DataResource.UpdateCycle.choices,
        "themes": list(OpenTheme.objects.all()),
        "chosen_themes": request.POST.getlist("themes")
        if request.method == "POST"
        else ([t.name for t in dataset.themes.all()] if dataset else []),
    }


@require_http_methods(["GET", "POST"])
@page_requires(DATA_STEWARD, DATA_CENTRE)
def open_dataset_new(request: HttpRequest) -> HttpResponse:
    principal = request.principal
    values = {k: "" for k in _FORM_KEYS}
    values["licence_id"] = "odc-by"
    errors: dict[str, str] = {}
    if request.method == "POST":
        values = _form_values(request, _FORM_KEYS)
        department = next((d for d in sel.departments_for(principal) if d.code == values["department"]), None)
        resource = (
            next((r for r in sel.resources_openable(principal) if r.code == values["resource"]), None)
            if values["resource"]
            else None
        )
        try:
            if values["resource"] and resource is None:
                raise ValidationError({"resource": _("没有找到可开放的目录资源。")})
            dataset = svc.open_dataset_create(
                actor=principal,
                title=values["title"],
                notes=values["notes"],
                department=department,
                resource=resource,
                tier=values["tier"],
                conditions=values["conditions"],
                update_cycle=values["update_cycle"],
                tags=values["tags"],
                themes=request.POST.getlist("themes"),
                name=values["name"] or None,
                licence_id=values["licence_id"] or "odc-by",
            )
        except ValidationError as exc:
            errors = _errors(exc)
        else:
            messages.success(request, _("数据集已创建（草稿），请上传数据文件并运行发布检查。"))
            return redirect("datahub:open_dataset_detail", dataset_id=dataset.public_id)
    return render(
        request,
        "datahub/opendata/form.html",
        _form_context(request, values, errors),
        status=422 if errors else 200,
    )


@require_http_methods(["GET", "POST"])
@page_requires(DATA_STEWARD, DATA_CENTRE)
def open_dataset_edit(request: HttpRequest, dataset_id) -> HttpResponse:
    dataset = sel.dataset_managed_get(request.principal, dataset_id)
    if not svc.dataset_may_manage(request.principal, dataset):
        raise PermissionDenied(_("只有开放部门的数据专员或大数据中心可以管理该数据集。"))
    values = {k: getattr(dataset, k, "") for k in _FORM_KEYS if hasattr(dataset, k)}
    values["tags"] = "、".join(dataset.tags or [])
    errors: dict[str, str] = {}
    if request.method == "POST":
        values = _form_values(request, _FORM_KEYS)
        try:
            svc.open_dataset_update(
                actor=request.principal,
                dataset=dataset,
                expected_version=int(request.POST.get("row_version") or dataset.row_version),
                title=values["title"],
                notes=values["notes"],
                tier=values["tier"] or dataset.tier,
                conditions=values["conditions"],
                update_cycle=values["update_cycle"],
                tags=values["tags"],
                themes=request.POST.getlist("themes"),
                licence_id=values["licence_id"] or dataset.licence_id,
            )
        except (ValidationError, ValueError) as exc:
            errors = _errors(exc) if isinstance(exc, ValidationError) else {"row_version": str(exc)}
        else:
            messages.success(request, _("已保存。"))
            return redirect("datahub:open_dataset_detail", dataset_id=dataset.public_id)
    return render(
        request,
        "datahub/opendata/form.html",
        _form_context(request, values, errors, dataset=dataset),
        status=422 if errors else 200,
    )


@page_requires(DATA_STEWARD, DATA_CENTRE)
def open_dataset_detail(request: HttpRequest, dataset_id) -> HttpResponse:
    principal = request.principal
    dataset = sel.dataset_managed_get(principal, dataset_id)
    rows = [
        {"row": e, "download_url": receipt_download_path(dataset, e)} for e in sel.dataset_receipts(dataset)
    ]
    return render(
        request,
        "datahub/opendata/detail.html",
        {
            "ds": dataset,
            "resources": sel.dataset_resources(dataset),
            "check": dataset.publication_check or {},
            "is_centre": svc.is_centre(principal),
            "may_manage": svc.dataset_may_manage(principal, dataset),
            "editable": dataset.status in svc.EDITABLE,
            "receipts": rows,
        },
    )


@require_POST
@page_requires(DATA_STEWARD, DATA_CENTRE)
def open_resource_upload(request: HttpRequest, dataset_id) -> HttpResponse:
    dataset = sel.dataset_managed_get(request.principal, dataset_id)
    try:
        svc.open_resource_add(
            actor=request.principal,
            dataset=dataset,
            upload=request.FILES.get("file"),
            name=request.POST.get("name", "")[:200],
            description=request.POST.get("description", "")[:2000],
        )
    except ValidationError as exc:
        messages.error(request, "；".join(_errors(exc).values()))
    else:
        messages.success(request, _("文件已上传。"))
    return redirect("datahub:open_dataset_detail", dataset_id=dataset.public_id)


@require_POST
@page_requires(DATA_STEWARD, DATA_CENTRE)
def open_resource_delete(request: HttpRequest, dataset_id, resource_id) -> HttpResponse:
    dataset = sel.dataset_managed_get(request.principal, dataset_id)
    resource = sel.resource_managed_get(request.principal, dataset, resource_id)
    try:
        svc.open_resource_delete(actor=request.principal, resource=resource)
    except ValidationError as exc:
        messages.error(request, "；".join(_errors(exc).values()))
    return redirect("datahub:open_dataset_detail", dataset_id=dataset.public_id)


@require_POST
@page_requires(DATA_STEWARD, DATA_CENTRE)
def open_dataset_act(request: HttpRequest, dataset_id) -> HttpResponse:
    principal = request.principal
    dataset = sel.dataset_managed_get(principal, dataset_id)
    action = request.POST.get("action", "")
    note = request.POST.get("note", "")[:2000]
    try:
        version = int(request.POST.get("row_version") or dataset.row_version)
    except ValueError:
        version = dataset.row_version
    done = {
        "check": _("发布检查已完成。"),
        "submit": _("已提交大数据中心审核。"),
        "publish": _("数据集已开放。"),
        "return": _("已退回开放部门。"),
        "withdraw": _("数据集已撤回。"),
    }
    try:
        if action == "check":
            result = svc.open_dataset_check(actor=principal, dataset=dataset)
            if not result["ok"]:
                messages.warning(request, _("发布检查未通过，请按检查结果修改。"))
        elif action == "submit":
            svc.open_dataset_submit(actor=principal, dataset=dataset, expected_version=version)
        elif action == "publish":
            svc.open_dataset_publish(actor=principal, dataset=dataset, expected_version=version)
        elif action == "return":
            svc.open_dataset_return(actor=principal, dataset=dataset, note=note, expected_version=version)
        elif action == "withdraw":
            svc.open_dataset_withdraw(actor=principal, dataset=dataset, reason=note, expected_version=version)
        else:
            raise ValidationError({"action": _("未知操作。")})
    except ValidationError as exc:
        messages.error(request, "；".join(_errors(exc).values()))
    else:
        messages.success(request, done[action])
    return redirect("datahub:open_dataset_detail", dataset_id=dataset.public_id)


@page_requires(DATA_STEWARD, DATA_CENTRE)
def open_applications(request: HttpRequest) -> HttpResponse:
    status = request.GET.get("status", "submitted")
    if status not in OpenApplication.Status.values and status != "":
        status = "submitted"
    try:
        page = sel.applications_to_decide(
            request.principal, status=status, cursor=request.GET.get("cursor") or None
        )
    except ValidationError:
        return redirect("datahub:open_applications")
    return render(
        request,
        "datahub/opendata/applications.html",
        {"page": page, "status": status, "statuses": OpenApplication.Status.choices},
    )


@require_http_methods(["GET", "POST"])
@page_requires(DATA_STEWARD, DATA_CENTRE)
def open_application(request: HttpRequest, application_id) -> HttpResponse:
    principal = request.principal
    application = sel.application_managed_get(principal, application_id)
    errors: dict[str, str] = {}
    values = {"note": "", "valid_until": ""}
    if request.method == "POST":
        values = {k: request.POST.get(k, "")[:2000] for k in values}
        approve = request.POST.get("decision") == "approve"
        try:
            valid_until = None
            if values["valid_until"]:
                try:
                    valid_until = date.fromisoformat(values["valid_until"])
                except ValueError:
                    raise ValidationError({"valid_until": _("日期格式应为 YYYY-MM-DD。")}) from None
            svc.open_application_decide(
                actor=principal,
                application=application,
                approve=approve,
                note=values["note"],
                valid_until=valid_until,
                expected_version=int(request.POST.get("row_version") or application.row_version),
            )
        except ValidationError as exc:
            errors = _errors(exc)
        else:
            messages.success(request, _("已批准。") if approve else _("已不予批准。"))
            return redirect("datahub:open_application", application_id=application.public_id)
    return render(
        request,
        "datahub/opendata/application.html",
        {
            "a": application,
            "values": values,
            "errors": errors,
            "may_decide": svc.dataset_may_decide(principal, application.dataset)
            and application.status == OpenApplication.Status.SUBMITTED,
            "reports": list(application.usage_reports.all()[:50]),
        },
        status=422 if errors else 200,
    )


@require_http_methods(["GET", "POST"])
@page_requires(DATA_CENTRE)
def open_negative(request: HttpRequest) -> HttpResponse:
    errors: dict[str, str] = {}
    values = {"resource_code": "", "element_code": "", "basis": ""}
    if request.method == "POST":
        values = {k: request.POST.get(k, "")[:4000] for k in values}
        try:
            svc.negative_item_create(actor=request.principal, **values)
        except ValidationError as exc:
            errors = _errors(exc)
        else:
            messages.success(request, _("已加入不予开放清单。"))
            return redirect("datahub:open_negative")
    return render(
        request,
        "datahub/opendata/negative.html",
        {"items": sel.negative_list(request.principal), "values": values, "errors": errors},
        status=422 if errors else 200,
    )


@page_requires(DATA_CENTRE)
def open_apps(request: HttpRequest) -> HttpResponse:
    status = request.GET.get("status", "")
    if status not in OpenApp.Status.values:
        status = ""
    try:
        page = sel.apps_for_review(request.principal, status=status, cursor=request.GET.get("cursor") or None)
    except ValidationError:
        return redirect("datahub:open_apps")
    return render(
        request,
        "datahub/opendata/apps.html",
        {"page": page, "status": status, "statuses": OpenApp.Status.choices},
    )


@require_POST
@page_requires(DATA_CENTRE)
def open_app_review(request: HttpRequest, app_id) -> HttpResponse:
    app = sel.app_get(request.principal, app_id)
    svc.open_app_review(actor=request.principal, app=app, show=request.POST.get("show") == "1")
    messages.success(request, _("已更新展示状态。"))
    return redirect("datahub:open_apps")


urlpatterns = [
    path("open/", open_datasets, name="open_datasets"),
    path("open/new/", open_dataset_new, name="open_dataset_new"),
    path("open/applications/", open_applications, name="open_applications"),
    path("open/applications/<uuid:application_id>/", open_application, name="open_application"),
    path("open/negative/", open_negative, name="open_negative"),
    path("open/apps/", open_apps, name="open_apps"),
    path("open/apps/<uuid:app_id>/review", open_app_review, name="open_app_review"),
    path("open/<uuid:dataset_id>/", open_dataset_detail, name="open_dataset_detail"),
    path("open/<uuid:dataset_id>/edit/", open_dataset_edit, name="open_dataset_edit"),
    path("open/<uuid:dataset_id>/upload", open_resource_upload, name="open_resource_upload"),
    path(
        "open/<uuid:dataset_id>/resources/<uuid:resource_id>/delete",
        open_resource_delete,
        name="open_resource_delete",
    ),
    path("open/<uuid:dataset_id>/act", open_dataset_act, name="open_dataset_act"),
]
