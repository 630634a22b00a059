"""Admin: 通知, read-only for the district's notice holders with the adoption view (区领导, 办公室, 系统管理员): notices
are written, published and withdrawn on the notice pages and through the API (services.notices); the action
立即发送未读提醒 runs the same sweep Huey runs every 15 minutes."""

from __future__ import annotations

from django.contrib import admin, messages
from django.utils.translation import gettext_lazy

from yiwang.core.admin.org import admin_principal
from yiwang.core.permissions import COLLAB_ADOPTION, COLLAB_NOTICE

from ..models import Notice, NoticeAudience
from ..services.notices import notices_remind_sweep


class NoticeAudienceInline(admin.TabularInline):
    model = NoticeAudience
    extra = 0
    can_delete = False
    fields = ("kind", "value")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Notice)
class NoticeAdmin(admin.ModelAdmin):
    list_display = (
        "title",
        "department",
        "sender",
        "status",
        "published_at",
        "recipients_count",
        "read_count",
    )
    list_filter = ("status", "requires_receipt")
    search_fields = ("title",)
    list_select_related = ("department", "sender")
    readonly_fields = (
        "public_id",
        "title",
        "body",
        "sender",
        "department",
        "status",
        "requires_receipt",
        "remind_every_hours",
        "read_by",
        "recipients_count",
        "read_count",
        "created_at",
        "published_at",
    )
    fields = readonly_fields
    inlines = (NoticeAudienceInline,)
    actions = ("remind_now",)

    def _allowed(self, request) -> bool:
        principal = admin_principal(request)
        return principal.has(COLLAB_NOTICE) and principal.has(COLLAB_ADOPTION)

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

    @admin.action(description=gettext_lazy("立即发送未读提醒（全部到期通知）"))
    def remind_now(self, request, queryset):
        reminded = notices_remind_sweep()
        messages.info(request, gettext_lazy("已提醒 %(n)d 人次。") % {"n": reminded})
