"""Admin of 纠错: read-only. Objections, their events and pushes are written only by services.objections (the pages
and the API); the admin lists them for the centre, with filters by status and origin."""

from __future__ import annotations

from django.contrib import admin

from yiwang.core.admin.mixins import ReadOnlyAdminMixin

from ..models.objections import CorrectionPush, Objection, ObjectionEvent


class ObjectionEventInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = ObjectionEvent
    fields = ("seq", "action", "from_status", "to_status", "actor_label", "note", "audit_uuid", "created_at")
    readonly_fields = fields
    extra = 0
    can_delete = False


class CorrectionPushInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = CorrectionPush
    fields = ("consumer", "channel", "grant", "status", "sent_at", "acknowledged_at")
    readonly_fields = fields
    extra = 0
    can_delete = False


@admin.register(Objection)
class ObjectionAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = (
        "number",
        "origin",
        "resource",
        "field_name",
        "source_department",
        "status",
        "due_on",
        "created_at",
    )
    list_filter = ("status", "origin")
    search_fields = ("number", "resource__code", "resource__name", "field_name")
    list_select_related = ("resource", "source_department")
    raw_id_fields = (
        "resource",
        "subject_person",
        "subject_organisation",
        "source_department",
        "raised_by",
        "raised_by_department",
        "licence_dispute",
        "quality_result",
        "resolved_by",
    )
    exclude = ("current_value", "proposed_value", "corrected_value")  # personal values: on the pages, audited
    inlines = [ObjectionEventInline, CorrectionPushInline]
    show_full_result_count = False


@admin.register(CorrectionPush)
class CorrectionPushAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("objection", "consumer", "channel", "status", "sent_at", "acknowledged_at")
    list_filter = ("status", "channel")
    search_fields = ("objection__number", "consumer__name", "consumer__code")
    list_select_related = ("objection", "consumer")
    raw_id_fields = ("objection", "consumer", "grant")
    show_full_result_count = False
