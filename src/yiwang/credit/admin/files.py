"""Admin: 信用评价模型 (CREDIT_MANAGE) — a published version is read-only; "新建版本" copies one into a draft that
can be edited and checked; "发布为当前版本" calls `credit_model_publish` (the one active version; every file is
re-graded by a queued job). Credit records and import batches are shown read-only: records are written through
the services (platform events, the record form, imports), never edited here."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from yiwang.core.admin.mixins import PermissionGatedAdminMixin, ReadOnlyAdminMixin
from yiwang.core.admin.org import admin_principal
from yiwang.core.permissions import CREDIT_MANAGE, CREDIT_VIEW

from ..models import CreditModel, CreditRecord, ImportBatch
from ..services.models_admin import credit_model_check, credit_model_new_version, credit_model_publish


class CreditModelForm(forms.ModelForm):
    class Meta:
        model = CreditModel
        fields = ("name", "description", "base_score", "weights", "thresholds", "black_grade")

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        errors = credit_model_check(
            base_score=data.get("base_score"),
            weights=data.get("weights"),
            thresholds=data.get("thresholds"),
            black_grade=data.get("black_grade"),
        )
        for key, message in errors.items():
            self.add_error(key, message)
        return data


@admin.register(CreditModel)
class CreditModelAdmin(admin.ModelAdmin):
    form = CreditModelForm
    list_display = ("version", "name", "is_active", "published_at", "created_at")
    readonly_fields = ("version", "is_active", "published_at", "created_at")
    actions = ("new_version", "publish")

    def _allowed(self, request) -> bool:
        return admin_principal(request).has(CREDIT_MANAGE)

    def has_module_permission(self, request):
        return self._allowed(request)

    def has_view_permission(self, request, obj=None):
        return self._allowed(request)

    def has_add_permission(self, request):
        return False  # a new version is a copy ("新建版本")

    def has_change_permission(self, request, obj=None):
        return self._allowed(request) and (obj is None or obj.published_at is None)

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description=gettext_lazy("新建版本（复制所选版本为草稿）"))
    def new_version(self, request, queryset):
        principal = admin_principal(request)
        source = queryset.order_by("-version").first()
        try:
            model = credit_model_new_version(actor=principal, source=source)
        except PermissionDenied as exc:
            self.message_user(request, str(exc), messages.ERROR)
            return
        self.message_user(request, _("已新建评价模型版本 v%(v)d（草稿）。") % {"v": model.version})

    @admin.action(description=gettext_lazy("发布为当前版本并重新评价所有档案"))
    def publish(self, request, queryset):
        if queryset.count() != 1:
            self.message_user(request, _("请只选择一个版本发布。"), messages.ERROR)
            return
        try:
            model = credit_model_publish(actor=admin_principal(request), model=queryset.get())
        except (ValidationError, PermissionDenied) as exc:
            self.message_user(request, "；".join(getattr(exc, "messages", [str(exc)])), messages.ERROR)
            return
        self.message_user(
            request, _("评价模型 v%(v)d 已发布，所有信用档案将在后台重新评价。") % {"v": model.version}
        )


class _ReadOnly(ReadOnlyAdminMixin, PermissionGatedAdminMixin, admin.ModelAdmin):
    admin_permissions = (CREDIT_VIEW, CREDIT_MANAGE)


@admin.register(CreditRecord)
class CreditRecordAdmin(_ReadOnly):
    list_display = ("title", "kind", "source", "department", "occurred_on", "effective_until", "status")
    list_filter = ("kind", "source", "status")
    list_select_related = ("department",)
    search_fields = ("title", "=public_id")
    exclude = ("file", "batch", "created_by")
    show_full_result_count = False


@admin.register(ImportBatch)
class ImportBatchAdmin(_ReadOnly):
    list_display = ("created_at", "channel", "source_name", "department", "rows", "accepted", "refused")
    list_filter = ("channel",)
    list_select_related = ("department",)
    exclude = ("created_by",)
