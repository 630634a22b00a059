"""Admin: the form register (表格目录清单) and its issues, read-only for the centre and form managers (forms are
registered, admitted and issued on the collab pages through the services); the admission actions 准入 / 不予准入
call the same service as the pages."""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils.translation import gettext_lazy

from yiwang.core.admin.org import admin_principal
from yiwang.core.permissions import FORM_ADMIT, FORM_MANAGE

from ..models import FormIssue, ReportField, ReportForm
from ..services.forms import form_admit


class _ReadOnly(admin.ModelAdmin):
    def _allowed(self, request) -> bool:
        principal = admin_principal(request)
        return principal.has(FORM_ADMIT) or principal.has(FORM_MANAGE)

    def has_module_permission(self, request):
        return self._allowed(request)

    def has_view_permission(self, request, obj=None):
        return self._allowed(request)

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ReportFieldInline(admin.TabularInline):
    model = ReportField
    extra = 0
    fields = ("position", "name", "label", "kind", "unit", "required", "per_row", "element", "prefill",
              "aggregate", "rule")  # fmt: skip
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ReportForm)
class ReportFormAdmin(_ReadOnly):
    list_display = (
        "code",
        "name",
        "owner_department",
        "frequency",
        "target_level",
        "status",
        "version",
        "source",
    )
    list_filter = ("status", "frequency", "target_level", "source")
    search_fields = ("code", "name")
    list_select_related = ("owner_department",)
    readonly_fields = ("code", "name", "purpose", "legal_basis", "owner_department", "frequency", "target_level",
                       "row_source", "status", "source", "version", "review_findings", "reviewed_by",
                       "reviewed_at", "review_note", "created_by", "created_at")  # fmt: skip
    exclude = ("public_id",)
    inlines = [ReportFieldInline]
    actions = ["admit", "reject"]

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        principal = admin_principal(request)
        if principal.has(FORM_ADMIT) or principal.staff is None:
            return queryset
        return queryset.filter(owner_department_id=principal.staff.department_id)

    def _decide(self, request, queryset, decision: str, note: str = ""):
        done = 0
        for form in queryset:
            try:
                form_admit(actor=admin_principal(request), form=form, decision=decision, note=note)
                done += 1
            except (PermissionDenied, ValidationError) as exc:
                messages.error(request, f"{form.code}: {'；'.join(getattr(exc, 'messages', [str(exc)]))}")
        if done:
            messages.success(request, gettext_lazy("已处理 %(n)d 张表格。") % {"n": done})

    @admin.action(description=gettext_lazy("准入所选表格"), permissions=["view"])
    def admit(self, request, queryset):
        self._decide(request, queryset, "approve")

    @admin.action(description=gettext_lazy("不予准入所选表格（请在页面中写明理由）"), permissions=["view"])
    def reject(self, request, queryset):
        self._decide(request, queryset, "reject", note=str(gettext_lazy("经后台审核不予准入")))


@admin.register(FormIssue)
class FormIssueAdmin(_ReadOnly):
    list_display = (
        "form",
        "period_label",
        "due_on",
        "root_division",
        "status",
        "units_count",
        "approved_count",
    )
    list_filter = ("status",)
    list_select_related = ("form", "root_division")
    search_fields = ("form__code", "form__name", "period_label")
    exclude = ("public_id",)
