"""Admin: 会议, read-only for meeting conveners (MEETING_CONVENE; a department sees its own meetings, the office and
leaders every one): meetings are convened, answered, held and minuted on the meeting pages and through the API
(services.meetings)."""

from __future__ import annotations

from django.contrib import admin

from yiwang.core.admin.org import admin_principal
from yiwang.core.permissions import COLLAB_ADOPTION, MEETING_CONVENE

from ..models import AgendaItem, Attendee, Decision, Meeting


class _ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class AgendaInline(_ReadOnlyInline):
    model = AgendaItem
    fields = ("position", "title", "presenter")
    readonly_fields = fields


class AttendeeInline(_ReadOnlyInline):
    model = Attendee
    fields = ("staff", "response", "delegate", "reason", "responded_at", "attended")
    readonly_fields = fields


class DecisionInline(_ReadOnlyInline):
    model = Decision
    fields = ("position", "text", "lead_department", "due_on", "task")
    readonly_fields = fields


@admin.register(Meeting)
class MeetingAdmin(admin.ModelAdmin):
    list_display = ("title", "department", "convener", "starts_at", "place", "status")
    list_filter = ("status",)
    search_fields = ("title", "place")
    list_select_related = ("department", "convener")
    date_hierarchy = "starts_at"
    readonly_fields = (
        "public_id",
        "title",
        "department",
        "convener",
        "starts_at",
        "ends_at",
        "place",
        "notice",
        "status",
        "reply_by",
        "minutes",
        "minutes_at",
        "created_at",
    )
    fields = readonly_fields
    inlines = (AgendaInline, AttendeeInline, DecisionInline)

    def _allowed(self, request) -> bool:
        return admin_principal(request).has(MEETING_CONVENE)

    def get_queryset(self, request):
        """The district's office and leaders (COLLAB_ADOPTION) see every meeting; a department its own."""
        qs = super().get_queryset(request)
        principal = admin_principal(request)
        if principal.has(COLLAB_ADOPTION):
            return qs
        staff = principal.staff
        return qs.filter(department_id=staff.department_id) if staff is not None else qs.none()

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
