"""Admin: cases, read-only. Cases change only through cases.services (workflow, locks, audit, notifications),
so the back office can look but not edit, add or delete; opening a case here is audited like any staff read."""

from __future__ import annotations

from django.contrib import admin
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from yiwang.core.admin.org import admin_principal
from yiwang.core.audit import audit_record

from .models import Case, CaseFile, CaseStatus, SupplementRequest


class _ReadOnly:
    """No add, change or delete, anywhere (admin models and inlines alike)."""

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class CaseStatusInline(_ReadOnly, admin.TabularInline):
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


class CaseFileInline(_ReadOnly, admin.TabularInline):
    model = CaseFile
    extra = 0
    can_delete = False
    fields = ("original_name", "material", "content_type", "size", "sm3", "created_at")
    readonly_fields = fields


class SupplementInline(_ReadOnly, admin.TabularInline):
    model = SupplementRequest
    extra = 0
    can_delete = False
    fields = ("requested_at", "requested_by", "items", "note", "deadline", "supplied_at")
    readonly_fields = fields


@admin.register(Case)
class CaseAdmin(_ReadOnly, admin.ModelAdmin):
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

    def change_view(self, request, object_id, form_url="", extra_context=None):
        response = super().change_view(request, object_id, form_url, extra_context)
        if request.method == "GET" and response.status_code == 200:
            case = (
                Case.objects.filter(pk=object_id).only("public_id").first()
                if str(object_id).isdigit()
                else None
            )
            with transaction.atomic():
                audit_record(
                    actor=admin_principal(request),
                    action="case.read",
                    object_type="case",
                    object_id=str(case.public_id) if case else str(object_id),
                    after={"via": "admin"},
                    purpose=_("后台查看办件"),
                )
        return response


@admin.register(SupplementRequest)
class SupplementRequestAdmin(_ReadOnly, admin.ModelAdmin):
    actions = None
    list_display = ("case", "requested_by", "requested_at", "deadline", "supplied_at")
    list_select_related = ("case", "requested_by")
    search_fields = ("=case__number",)
    ordering = ("-id",)
    fields = ("case", "requested_by", "items", "note", "requested_at", "deadline", "supplied_at")
    readonly_fields = fields


# Admin of the issue-4 features, one module each.
from . import admin_bundles, admin_instant, admin_pledge, admin_proactive, admin_reviews  # noqa: E402,F401
