"""Admin: 督办任务, read-only for TASK_ISSUE holders (区领导, 办公室): tasks are issued, handled and reviewed on the task
pages and through the API (services.tasks); the action 立即运行升级扫描 runs the same sweep Huey runs every 15
minutes."""

from __future__ import annotations

from django.contrib import admin, messages
from django.utils.translation import gettext_lazy

from yiwang.core.admin.org import admin_principal
from yiwang.core.permissions import TASK_ISSUE

from ..models import Task, TaskEvent, TaskMilestone, TaskUnit
from ..services.task_escalation import tasks_escalate_sweep


class _ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class TaskUnitInline(_ReadOnlyInline):
    model = TaskUnit
    fields = ("department", "role", "accepted_at")
    readonly_fields = fields


class TaskMilestoneInline(_ReadOnlyInline):
    model = TaskMilestone
    fields = ("position", "title", "due_on", "done_at", "done_by")
    readonly_fields = fields


class TaskEventInline(_ReadOnlyInline):
    model = TaskEvent
    fields = ("at", "kind", "level", "actor", "department", "note")
    readonly_fields = fields


@admin.register(Task)
class TaskAdmin(admin.ModelAdmin):
    list_display = ("code", "title", "lead_department", "status", "level", "due_on", "progress", "source")
    list_filter = ("status", "level", "source")
    search_fields = ("code", "title")
    list_select_related = ("lead_department",)
    readonly_fields = (
        "code",
        "title",
        "description",
        "source",
        "issued_by",
        "issuing_department",
        "lead_department",
        "status",
        "level",
        "start_on",
        "due_on",
        "report_every_workdays",
        "next_report_due",
        "indicator",
        "progress",
        "submitted_at",
        "closed_at",
        "reviewed_by",
        "review_note",
    )
    fields = readonly_fields
    inlines = (TaskUnitInline, TaskMilestoneInline, TaskEventInline)
    actions = ("escalate_now",)

    def _allowed(self, request) -> bool:
        return admin_principal(request).has(TASK_ISSUE)

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

    @admin.action(description=gettext_lazy("立即运行督办升级扫描（全部任务）"))
    def escalate_now(self, request, queryset):
        result = tasks_escalate_sweep()
        self.message_user(
            request,
            gettext_lazy("已检查 %(checked)d 个任务，升级 %(raised)d 个。") % result,
            messages.SUCCESS,
        )
