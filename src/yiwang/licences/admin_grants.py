"""Admin of 授权用证: grants and their uses, read-only (holders grant and revoke in 我的授权; every write goes
through licences.services.grants and is audited)."""

from __future__ import annotations

from django.contrib import admin

from yiwang.core.admin.mixins import ReadOnlyAdminMixin

from .models import LicenceGrant, LicenceUse


class _ReadOnly(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Grants and their use logs change only through licences.services (holders grant and revoke)."""


@admin.register(LicenceGrant)
class LicenceGrantAdmin(_ReadOnly):
    list_display = (
        "public_id",
        "licence",
        "grantee_kind",
        "purpose",
        "expires_at",
        "revoked_at",
        "created_at",
    )
    list_filter = ("grantee_kind",)
    search_fields = ("licence__identifier", "purpose", "material_code")
    list_select_related = ("licence",)
    raw_id_fields = ("licence", "grantee_department", "grantee_case", "grantee_system", "created_by")
    show_full_result_count = False


@admin.register(LicenceUse)
class LicenceUseAdmin(_ReadOnly):
    list_display = ("created_at", "licence", "used_by_label", "purpose")
    search_fields = ("licence__identifier", "used_by_label")
    list_select_related = ("licence",)
    raw_id_fields = ("grant", "licence", "used_by_account", "used_by_system")
    show_full_result_count = False
