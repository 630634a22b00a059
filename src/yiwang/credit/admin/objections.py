"""Admin: 信用异议 and 信用修复, read-only (decided on the pages and through the API, services.objections /
services.repairs, so every decision is audited and notified); the action 立即提醒逾期异议 runs the reminder job."""

from __future__ import annotations

from django.contrib import admin, messages
from django.utils.translation import gettext_lazy

from yiwang.core.admin.mixins import PermissionGatedAdminMixin, ReadOnlyAdminMixin
from yiwang.core.permissions import CREDIT_MANAGE

from ..models import CreditObjection, CreditRepair
from ..services.objections import objections_remind_overdue


class _ReadOnly(ReadOnlyAdminMixin, PermissionGatedAdminMixin, admin.ModelAdmin):
    """The credit office's view of every objection and repair (they are decided on the credit pages)."""

    admin_permissions = (CREDIT_MANAGE,)


@admin.register(CreditObjection)
class CreditObjectionAdmin(_ReadOnly):
    list_display = ("number", "department", "status", "due_date", "decided_at")
    list_filter = ("status",)
    search_fields = ("number",)
    date_hierarchy = "created_at"
    list_select_related = ("department",)
    exclude = ("evidence",)
    actions = ["remind_overdue"]

    @admin.action(description=gettext_lazy("立即提醒逾期未核实的异议"))
    def remind_overdue(self, request, queryset):
        sent = objections_remind_overdue()
        self.message_user(request, gettext_lazy("已发送 %(n)s 条提醒。") % {"n": sent}, messages.SUCCESS)


@admin.register(CreditRepair)
class CreditRepairAdmin(_ReadOnly):
    list_display = ("number", "status", "due_date", "decided_at")
    list_filter = ("status",)
    search_fields = ("number",)
    date_hierarchy = "created_at"
    exclude = ("evidence",)
