"""Admin of 告知承诺: pledges and their verifications, read-only. A verification is recorded only through
cases.pledges.services.pledge_verify (the 核查 pages and API: row lock, once, revocation, audit), so the back
office can look but not edit, add or delete. Whether a material allows a pledge is edited with the item's
materials (catalog admin, field 可告知承诺)."""

from __future__ import annotations

from django.contrib import admin
from django.utils.translation import gettext_lazy

from yiwang.core.admin.mixins import ReadOnlyAdminMixin

from ..models import Pledge, PledgeVerification


@admin.register(Pledge)
class PledgeAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    actions = None
    show_full_result_count = False
    list_display = ("case", "materials", "pledged_at", "text_sm3")
    list_select_related = ("case",)
    search_fields = ("=case__number",)
    search_help_text = gettext_lazy("按办件编号精确查找")
    ordering = ("-id",)
    fields = ("case", "account", "materials", "text", "text_sm3", "pledged_at")
    readonly_fields = fields


@admin.register(PledgeVerification)
class PledgeVerificationAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    actions = None
    show_full_result_count = False
    list_display = ("case", "department", "due_date", "status", "verified_by", "verified_at")
    list_filter = ("status",)
    list_select_related = ("case", "department", "verified_by")
    search_fields = ("=case__number",)
    search_help_text = gettext_lazy("按办件编号精确查找")
    ordering = ("due_date", "id")
    fields = (
        "public_id",
        "case",
        "department",
        "due_date",
        "status",
        "result",
        "verified_by",
        "verified_at",
        "created_at",
    )
    readonly_fields = fields
