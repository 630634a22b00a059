"""Admin: 数据资源普查, read-only for the big-data centre (rounds are created and returns are filled and reviewed on
the census pages, through the services); the round actions 开始填报 / 结束本轮 call the same services."""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils.translation import gettext_lazy

from yiwang.core.admin.org import admin_principal
from yiwang.core.permissions import DATA_CENTRE

from ..models import CensusDataItem, CensusNeed, CensusReturn, CensusRound, CensusSystem
from ..services.census import CensusConflict, census_round_close, census_round_open


class _CentreReadOnly(admin.ModelAdmin):
    def _allowed(self, request) -> bool:
        return admin_principal(request).has(DATA_CENTRE)

    def has_module_permission(self, request):
        return self._allowed(request)

    def has_view_permission(self, request, obj=None):
        return self._allowed(request)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(CensusRound)
class CensusRoundAdmin(_CentreReadOnly):
    list_display = ("code", "name", "period_start", "period_end", "due_on", "status", "previous", "opened_at")
    list_filter = ("status",)
    search_fields = ("code", "name")
    list_select_related = ("previous",)
    readonly_fields = (
        "code",
        "name",
        "period_start",
        "period_end",
        "due_on",
        "previous",
        "status",
        "instructions",
        "opened_at",
        "closed_at",
        "created_at",
    )
    fields = readonly_fields
    actions = ("open_rounds", "close_rounds")

    def get_actions(self, request):
        return super().get_actions(request) if self._allowed(request) else {}

    def _run(self, request, queryset, service, done) -> None:
        principal = admin_principal(request)
        count = 0
        for round_ in queryset:
            try:
                service(actor=principal, round_=round_)
                count += 1
            except (CensusConflict, ValidationError, PermissionDenied) as exc:
                self.message_user(request, f"{round_.code}：{exc}", messages.WARNING)
        if count:
            self.message_user(request, done, messages.SUCCESS)

    @admin.action(description=gettext_lazy("开始填报（生成并预填各单位普查表）"))
    def open_rounds(self, request, queryset):
        self._run(request, queryset, census_round_open, gettext_lazy("已开始填报。"))

    @admin.action(description=gettext_lazy("结束本轮普查"))
    def close_rounds(self, request, queryset):
        self._run(request, queryset, census_round_close, gettext_lazy("本轮普查已结束。"))


class _LineInline(admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = False

    def has_view_permission(self, request, obj=None):
        return admin_principal(request).has(DATA_CENTRE)

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class SystemInline(_LineInline):
    model = CensusSystem
    fields = ("name", "owner_name", "deployment", "vertical_owner", "hosting", "status", "carried_from")
    readonly_fields = fields


class DataItemInline(_LineInline):
    model = CensusDataItem
    fk_name = "census_return"
    fields = ("name", "system", "update_cycle", "share_type", "open_type", "record_count", "resource")
    readonly_fields = fields


class NeedInline(_LineInline):
    model = CensusNeed
    fields = ("name", "wanted_from", "scenario", "status", "resource", "share_request")
    readonly_fields = fields


@admin.register(CensusReturn)
class CensusReturnAdmin(_CentreReadOnly):
    list_display = ("unit", "round", "unit_kind", "status", "submitted_at", "reviewed_at")
    list_filter = ("round", "status", "unit_kind")
    search_fields = ("unit__name", "unit__code", "round__code")
    list_select_related = ("unit", "round")
    readonly_fields = (
        "round",
        "unit",
        "unit_kind",
        "status",
        "prefilled_from",
        "submitted_at",
        "submitted_by",
        "reviewed_at",
        "reviewed_by",
        "review_note",
        "audit_uuid",
    )
    fields = readonly_fields
    inlines = (SystemInline, DataItemInline, NeedInline)
