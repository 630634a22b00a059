"""Admin: 公共数据开放 — themes (maintained here), the 不予开放清单 (added and removed through the services, audited),
datasets (read-only here; publish and withdraw as actions through the services) and the app showcase (show or
hide through the service). Only the big-data centre (DATA_CENTRE) sees these pages."""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils.translation import gettext_lazy

from yiwang.core.admin.org import admin_principal, adopt
from yiwang.core.audit import audit_record
from yiwang.core.permissions import DATA_CENTRE

from ..models.opendata import NegativeListItem, OpenApp, OpenDataset, OpenTheme
from ..services import opendata as svc


class CentreOnly(admin.ModelAdmin):
    def _allowed(self, request) -> bool:
        return admin_principal(request).has(DATA_CENTRE)

    def has_module_permission(self, request):
        return self._allowed(request)

    def has_view_permission(self, request, obj=None):
        return self._allowed(request)

    def has_add_permission(self, request):
        return self._allowed(request)

    def has_change_permission(self, request, obj=None):
        return self._allowed(request)

    def has_delete_permission(self, request, obj=None):
        return self._allowed(request)


@admin.register(OpenTheme)
class OpenThemeAdmin(CentreOnly):
    list_display = ("title", "name", "position")
    search_fields = ("title", "name")
    ordering = ("position", "name")

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        audit_record(
            actor=admin_principal(request),
            action="datahub.open.theme_save",
            object_type="datahub.opentheme",
            object_id=obj.name,
            after={"title": obj.title},
        )

    def has_delete_permission(self, request, obj=None):
        return False  # datasets refer to it


@admin.register(NegativeListItem)
class NegativeListItemAdmin(CentreOnly):
    list_display = ("resource", "element", "basis", "created_at")
    list_select_related = ("resource", "element")
    raw_id_fields = ("resource", "element")
    search_fields = ("basis", "resource__code", "element__identifier")
    fields = ("resource", "element", "basis")

    def has_change_permission(self, request, obj=None):
        return False if obj is not None else self._allowed(request)

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        saved = svc.negative_item_create(
            actor=admin_principal(request),
            basis=data.get("basis", ""),
            resource_code=data["resource"].code if data.get("resource") else "",
            element_code=data["element"].identifier if data.get("element") else "",
        )
        adopt(obj, saved)

    def delete_model(self, request, obj):
        svc.negative_item_delete(actor=admin_principal(request), item=obj)

    def delete_queryset(self, request, queryset):
        for item in queryset:
            svc.negative_item_delete(actor=admin_principal(request), item=item)


@admin.register(OpenDataset)
class OpenDatasetAdmin(CentreOnly):
    list_display = ("title", "name", "department", "tier", "status", "modified_at", "download_count")
    list_filter = ("status", "tier")
    list_select_related = ("department",)
    search_fields = ("title", "name")
    readonly_fields = (
        "public_id",
        "name",
        "title",
        "notes",
        "department",
        "resource",
        "tier",
        "conditions",
        "status",
        "publication_check",
        "audit_uuid",
        "published_at",
        "modified_at",
        "view_count",
        "download_count",
        "api_call_count",
    )
    fields = readonly_fields
    actions = ("publish", "withdraw")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def _run(self, request, queryset, call, done):
        principal = admin_principal(request)
        n = 0
        for dataset in queryset:
            try:
                call(principal, dataset)
                n += 1
            except (ValidationError, PermissionDenied) as exc:
                self.message_user(
                    request,
                    f"{dataset.title}：{'；'.join(getattr(exc, 'messages', [str(exc)]))}",
                    messages.WARNING,
                )
        if n:
            self.message_user(request, done, messages.SUCCESS)

    @admin.action(description=gettext_lazy("审核通过并开放"))
    def publish(self, request, queryset):
        self._run(
            request,
            queryset,
            lambda p, d: svc.open_dataset_publish(actor=p, dataset=d),
            gettext_lazy("已开放。"),
        )

    @admin.action(description=gettext_lazy("撤回"))
    def withdraw(self, request, queryset):
        self._run(
            request,
            queryset,
            lambda p, d: svc.open_dataset_withdraw(actor=p, dataset=d, reason=str(gettext_lazy("后台撤回"))),
            gettext_lazy("已撤回。"),
        )


@admin.register(OpenApp)
class OpenAppAdmin(CentreOnly):
    list_display = ("name", "developer", "status", "created_at")
    list_filter = ("status",)
    search_fields = ("name", "developer")
    readonly_fields = ("name", "description", "developer", "url", "status", "submitted_by")
    fields = readonly_fields
    actions = ("show", "hide")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.action(description=gettext_lazy("展示"))
    def show(self, request, queryset):
        for app in queryset:
            svc.open_app_review(actor=admin_principal(request), app=app, show=True)

    @admin.action(description=gettext_lazy("隐藏"))
    def hide(self, request, queryset):
        for app in queryset:
            svc.open_app_review(actor=admin_principal(request), app=app, show=False)
