"""Admin of 一件事 applications: read-only (they change only through cases.bundles.services and the sub-cases'
own services); opening one is audited like any staff read of an application."""

from __future__ import annotations

from django.contrib import admin
from django.utils.translation import gettext_lazy

from yiwang.core.admin.mixins import AuditedReadMixin, ReadOnlyAdminMixin

from ..models import BundleCase, BundlePart


class BundlePartInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = BundlePart
    extra = 0
    can_delete = False
    fields = ("sort", "item", "after", "state", "case", "note")
    readonly_fields = fields
    verbose_name_plural = gettext_lazy("各事项办理")


@admin.register(BundleCase)
class BundleCaseAdmin(AuditedReadMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    audit_object_type = "bundle_case"
    audit_purpose = gettext_lazy("后台查看一件事办件")
    actions = None
    show_full_result_count = False
    list_display = ("number", "bundle", "state", "outcome", "due_date", "submitted_at", "concluded_at")
    list_filter = ("state", "outcome")
    search_fields = ("=number",)
    search_help_text = gettext_lazy("按一件事编号精确查找")
    list_select_related = ("bundle",)
    ordering = ("-id",)
    list_per_page = 50
    inlines = (BundlePartInline,)
    fields = (
        ("number", "public_id"),
        "bundle",
        ("applicant_account", "applicant_person", "applicant_organisation"),
        ("state", "outcome"),
        ("submitted_at", "due_date", "concluded_at"),
        "form_data",
        "lock_version",
    )
    readonly_fields = tuple(name for row in fields for name in (row if isinstance(row, tuple) else (row,)))
