"""Admin of 证照批量导入: read-only reports (imports run only through the page or API, services.imports)."""

from __future__ import annotations

from django.contrib import admin

from yiwang.core.admin.org import admin_principal
from yiwang.core.permissions import LICENCE_MANAGE

from .models import LicenceImport


@admin.register(LicenceImport)
class LicenceImportAdmin(admin.ModelAdmin):
    list_display = (
        "created_at",
        "licence_type",
        "file_name",
        "dry_run",
        "status",
        "total_rows",
        "ok_rows",
        "error_rows",
    )
    list_filter = ("status", "dry_run", "licence_type")
    list_select_related = ("licence_type",)
    show_full_result_count = False
    fields = (  # not `upload`: the queued file is encrypted and deleted when the job ends
        "public_id",
        "licence_type",
        "uploaded_by",
        "uploaded_by_system",
        "file_name",
        "file_sm3",
        "dry_run",
        "status",
        "total_rows",
        "processed_rows",
        "ok_rows",
        "error_rows",
        "errors",
        "created_at",
        "started_at",
        "finished_at",
    )
    readonly_fields = fields

    def has_module_permission(self, request):
        return admin_principal(request).has(LICENCE_MANAGE)

    def has_view_permission(self, request, obj=None):
        return admin_principal(request).has(LICENCE_MANAGE)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
