"""Admin: incidents and extension requests, read-only. Incidents change only through the incident services
(workflow table, locks, events, audit, notices), so the back office can look but not edit; opening an incident
here is audited like any staff read of personal data."""

from __future__ import annotations

from django.contrib import admin
from django.utils.translation import gettext_lazy

from yiwang.core.admin.mixins import AuditedReadMixin, ReadOnlyAdminMixin

from .models import Callback, Escalation, ExtensionRequest, Incident, IncidentAttachment, IncidentEvent


class EventInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = IncidentEvent
    extra = 0
    can_delete = False
    ordering = ("seq",)
    fields = (
        "seq",
        "created_at",
        "action",
        "from_state",
        "to_state",
        "department",
        "grid",
        "actor_label",
        "note",
    )
    readonly_fields = fields
    verbose_name_plural = gettext_lazy("流转记录")


class AttachmentInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = IncidentAttachment
    extra = 0
    can_delete = False
    fields = ("purpose", "original_name", "content_type", "size", "sm3", "created_at")
    readonly_fields = fields


class EscalationInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = Escalation
    extra = 0
    can_delete = False
    fields = ("level", "division", "reason", "notified", "outcome", "created_at", "resolved_at")
    readonly_fields = fields


class CallbackInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = Callback
    extra = 0
    can_delete = False
    fields = ("created_at", "satisfaction", "note", "by_staff", "by_account", "reopened")
    readonly_fields = fields


@admin.register(Incident)
class IncidentAdmin(AuditedReadMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    audit_object_type = "incident"
    audit_purpose = gettext_lazy("后台查看事件工单")
    actions = None
    show_full_result_count = False
    list_display = (
        "number",
        "title",
        "category",
        "channel",
        "state",
        "assigned_department",
        "due_at",
        "escalation_level",
    )
    list_filter = ("state", "channel", "kind", "closure", "escalation_level", "category")
    search_fields = ("=number",)
    search_help_text = gettext_lazy("按工单号精确查找")
    list_select_related = ("category", "assigned_department")
    ordering = ("-id",)
    list_per_page = 50
    inlines = (EventInline, AttachmentInline, EscalationInline, CallbackInline)
    fields = (
        ("number", "public_id"),
        ("channel", "kind", "category", "classified_by", "confidence"),
        "title",
        "description",
        ("lon", "lat", "address", "located_by"),
        ("grid", "village", "town"),
        ("reporter_name", "reporter_account", "reporter_staff", "reporter_system", "confidential"),
        ("state", "assigned_department", "assigned_grid", "dispatch_mode"),
        ("dispatched_at", "due_at", "extended"),
        ("return_count", "reassign_count", "reopen_count", "escalation_level"),
        ("handled_at", "verified_at", "closed_at", "closed_on_time"),
        ("closure", "satisfaction", "duplicate_of"),
        "resolution",
        "lock_version",
    )
    readonly_fields = tuple(name for row in fields for name in (row if isinstance(row, tuple) else (row,)))


@admin.register(ExtensionRequest)
class ExtensionRequestAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    actions = None
    list_display = (
        "incident",
        "department",
        "requested_by",
        "requested_due_at",
        "state",
        "decided_by",
        "created_at",
    )
    list_filter = ("state",)
    list_select_related = ("incident", "department", "requested_by", "decided_by")
    search_fields = ("=incident__number",)
    ordering = ("-id",)
    fields = (
        "incident",
        "department",
        "requested_by",
        "requested_due_at",
        "reason",
        "state",
        "decided_by",
        "decided_at",
        "decision_note",
        "created_at",
    )
    readonly_fields = fields
