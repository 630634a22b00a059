"""Admin: 数据资产登记 (read-only for the big-data centre: every step goes through services.assets, from the pages
and the API, so that it is audited and signed; the admin lists and shows assets, sources and their records)."""

from __future__ import annotations

from django.contrib import admin

from yiwang.core.admin.org import admin_principal
from yiwang.core.permissions import DATA_CENTRE

from ..models.assets import DataAsset, DataAssetEvent, DataAssetSource


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


class SourceInline(admin.TabularInline):
    model = DataAssetSource
    fields = ("resource", "legal_basis", "grant")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


class EventInline(admin.TabularInline):
    model = DataAssetEvent
    fields = ("seq", "action", "from_status", "to_status", "actor_label", "note", "audit_uuid", "created_at")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(DataAsset)
class DataAssetAdmin(_CentreReadOnly):
    list_display = ("name", "number", "holder_name", "status", "version", "registered_at", "created_at")
    list_filter = ("status",)
    search_fields = ("name", "number", "holder_name", "holder_uscc")
    list_select_related = ("holder",)
    readonly_fields = (
        "public_id",
        "number",
        "name",
        "description",
        "holder",
        "holder_name",
        "holder_uscc",
        "producer",
        "rights",
        "valuation_note",
        "compliance_note",
        "compliance_review",
        "status",
        "version",
        "registered_at",
        "pending_change",
        "certificate",
        "signature",
        "key_id",
        "created_at",
    )
    fields = readonly_fields
    inlines = (SourceInline, EventInline)


@admin.register(DataAssetEvent)
class DataAssetEventAdmin(_CentreReadOnly):
    list_display = ("asset", "seq", "action", "from_status", "to_status", "actor_label", "created_at")
    list_filter = ("action",)
    search_fields = ("asset__name", "asset__number")
    list_select_related = ("asset",)
    readonly_fields = (
        "asset",
        "seq",
        "action",
        "from_status",
        "to_status",
        "actor_label",
        "note",
        "detail",
        "audit_uuid",
        "created_at",
    )
    fields = readonly_fields
