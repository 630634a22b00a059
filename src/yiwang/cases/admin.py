"""Admin: cases, read-only. Cases change only through cases.services (workflow, locks, audit, notifications),
so the back office can look but not edit, add or delete; opening a case here is audited like any staff read."""

from __future__ import annotations

from django.contrib import admin
from django.utils.translation import gettext_lazy

from yiwang.core.admin.mixins import AuditedReadMixin, ReadOnlyAdminMixin

from .models import Case, CaseFile, CaseStatus, SupplementRequest


class CaseStatusInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = CaseStatus
    extra = 0
    can_delete = False
    ordering = ("seq",)
    fields = (
        "seq",
        "created_at",
        "action",
        "from_step",
        "to_step",
        "state",
        "actor_label",
        "opinion",
        "opinion_public",
    )
    readonly_fields = fields
    verbose_name_plural = gettext_lazy("流转记录")


class CaseFileInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = CaseFile
    extra = 0
    can_delete = False
    fields = ("original_name", "material", "content_type", "size", "sm3", "created_at")
    readonly_fields = fields


class SupplementInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = SupplementRequest
    extra = 0
    can_delete = False
    fields = ("requested_at", "requested_by", "items", "note", "deadline", "supplied_at")
    readonly_fields = fields


@admin.register(Case)
class CaseAdmin(AuditedReadMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    audit_object_type = "case"
    audit_purpose = gettext_lazy("后台查看办件")
    actions = None
    show_full_result_count = False
    list_display = (
        "number",
        "item",
        "department",
        "state",
        "current_step",
        "step_due_date",
        "due_date",
        "submitted_at",
    )
    list_filter = ("state", "channel", "decision")
    search_fields = ("=number",)
    search_help_text = gettext_lazy("按办件编号精确查找")
    list_select_related = ("item", "department")
    ordering = ("-id",)
    list_per_page = 50
    inlines = (CaseStatusInline, CaseFileInline, SupplementInline)
    fields = (
        ("number", "public_id"),
        ("item", "department", "division"),
        ("applicant_account", "applicant_person", "applicant_organisation"),
        ("channel", "filed_by", "claimed_by"),
        ("state", "current_step", "decision"),
        "decision_reason",
        ("submitted_at", "accepted_at", "concluded_at"),
        ("due_date", "step_due_date", "step_started_at"),
        ("paused_since", "paused_working_days", "overdue_notified_at"),
        "form_data",
        "lock_version",
    )
    readonly_fields = tuple(name for row in fields for name in (row if isinstance(row, tuple) else (row,)))


@admin.register(SupplementRequest)
class SupplementRequestAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    actions = None
    list_display = ("case", "requested_by", "requested_at", "deadline", "supplied_at")
    list_select_related = ("case", "requested_by")
    search_fields = ("=case__number",)
    ordering = ("-id",)
    fields = ("case", "requested_by", "items", "note", "requested_at", "deadline", "supplied_at")
    readonly_fields = fields


# Admin of the issue-4 features, one module each.
from .bundles import admin as admin_bundles  # noqa: E402,F401
from .instant import admin as admin_instant  # noqa: E402,F401
from .pledges import admin as admin_pledge  # noqa: E402,F401
from .proactive import admin as admin_proactive  # noqa: E402,F401
from .reviews import admin as admin_reviews  # noqa: E402,F401
