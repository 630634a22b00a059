"""Admin: 授权用数 and 数据资产凭证, read-only. Holders give and revoke consents in 我的数据; the big-data centre
may revoke one here (an admin action through `services.consent.consent_revoke`, audited, with a reason)."""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from yiwang.core.admin.mixins import ReadOnlyAdminMixin
from yiwang.core.admin.org import admin_principal

from ..models import Consent, DataVoucher
from ..services.consent import consent_revoke


@admin.register(Consent)
class ConsentAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = (
        "public_id",
        "grantee_name",
        "grantee_kind",
        "purpose",
        "status",
        "uses",
        "max_uses",
        "valid_until",
        "created_at",
    )
    list_filter = ("status", "grantee_kind", "mode")
    search_fields = ("grantee_name", "grantee_uscc", "purpose")
    list_select_related = ("grantee_system",)
    raw_id_fields = ("holder_person", "holder_organisation", "given_by", "grantee_system")
    exclude = ("holder_person", "holder_organisation", "given_by")  # personal: the record names them masked
    show_full_result_count = False
    actions = ("revoke_selected",)

    @admin.action(description=gettext_lazy("撤回所选授权（大数据中心，立即生效）"))
    def revoke_selected(self, request, queryset):
        actor = admin_principal(request)
        done = 0
        for consent in queryset.filter(status=Consent.Status.ACTIVE)[:200]:
            try:
                consent_revoke(actor=actor, consent=consent, reason=_("大数据中心在管理后台撤回"))
            except (PermissionDenied, ValidationError) as exc:
                self.message_user(request, str(exc), level=messages.ERROR)
                return
            done += 1
        self.message_user(request, _("已撤回 %(n)d 项授权。") % {"n": done}, level=messages.SUCCESS)

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def get_actions(self, request):
        actions = super().get_actions(request)
        if "delete_selected" in actions:
            del actions["delete_selected"]
        return actions


@admin.register(DataVoucher)
class DataVoucherAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("public_id", "issued_at", "expires_at", "revoked_at", "digest")
    list_filter = ("revoked_at",)
    exclude = ("holder_person", "holder_organisation", "issued_by", "payload")
    show_full_result_count = False
