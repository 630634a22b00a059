"""Admin of 电子证照: read-only (licences are issued and changed only through the services, signed by a seal);
the list shows identifier, type, issuer, status and dates; the detail adds the history."""

from __future__ import annotations

from django.contrib import admin
from django.utils.translation import gettext_lazy

from yiwang.core.admin.org import admin_principal
from yiwang.core.permissions import LICENCE_MANAGE

from .models import Licence, LicenceEvent


class LicenceEventInline(admin.TabularInline):
    model = LicenceEvent
    fields = ("created_at", "action", "actor_label", "reason")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Licence)
class LicenceAdmin(admin.ModelAdmin):
    list_display = (
        "identifier",
        "licence_type",
        "issuer",
        "holder_name",
        "issued_on",
        "expires_on",
        "status",
    )
    list_filter = ("status", "licence_type")
    search_fields = ("identifier", "holder_name")
    list_select_related = ("licence_type", "issuer")
    show_full_result_count = False
    inlines = (LicenceEventInline,)
    fields = (
        "identifier",
        "licence_type",
        "issuer",
        "seal",
        "holder_name",
        "face",
        "issued_on",
        "expires_on",
        "status",
        "status_reason",
        "version",
        "supersedes",
        "case",
        "digest",
        "signature",
        "signed_at",
    )
    readonly_fields = fields

    @admin.display(description=gettext_lazy("持证主体"))
    def holder(self, obj):
        return obj.holder_name

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
