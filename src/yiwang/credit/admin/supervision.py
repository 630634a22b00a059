"""Admin: 双随机、一公开 for planners (SUPERVISION_PLAN; a department sees its own rows, a superuser every one).

- 监管事项清单: added and changed here (the department is the planner's own; each save is audited);
- 执法检查人员名录库: in-post flag and qualifications changed here (registration through `inspector_register`, on the
  supervision page and the API); 回避关系: read-only here (recorded through `conflict_record`);
- 随机抽取 and 检查任务: read-only (drawn by `draw_execute`, recorded by `inspection_record`; nothing is deleted).
"""

from __future__ import annotations

from django.contrib import admin

from yiwang.core.admin.org import admin_principal
from yiwang.core.audit import audit_record
from yiwang.core.permissions import SUPERVISION_PLAN

from ..models import Conflict, Draw, InspectionMatter, InspectionTask, Inspector


class _PlannerScoped:
    department_path = "department_id"

    def _allowed(self, request) -> bool:
        return admin_principal(request).has(SUPERVISION_PLAN)

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        principal = admin_principal(request)
        if request.user.is_superuser:
            return qs
        staff = principal.staff
        return qs.filter(**{self.department_path: staff.department_id}) if staff is not None else qs.none()

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


@admin.register(InspectionMatter)
class InspectionMatterAdmin(_PlannerScoped, admin.ModelAdmin):
    list_display = ("code", "name", "department", "method", "publish_days", "is_active")
    list_filter = ("is_active",)
    search_fields = ("code", "name", "legal_basis")
    list_select_related = ("department",)
    fields = (
        "code",
        "name",
        "department",
        "legal_basis",
        "method",
        "object_kinds",
        "publish_days",
        "is_active",
    )

    def get_readonly_fields(self, request, obj=None):
        if request.user.is_superuser:
            return ("code",) if obj else ()
        return ("code", "department") if obj else ("department",)

    def has_add_permission(self, request):
        return self._allowed(request)

    def has_change_permission(self, request, obj=None):
        return self._allowed(request)

    def save_model(self, request, obj, form, change):
        principal = admin_principal(request)
        if not change and not request.user.is_superuser and principal.staff is not None:
            obj.department = principal.staff.department
        super().save_model(request, obj, form, change)
        audit_record(
            actor=principal,
            action="supervision.matter_change" if change else "supervision.matter_create",
            object_type="inspection_matter",
            object_id=obj.code,
            after={
                "name": obj.name,
                "department": obj.department.code,
                "legal_basis": obj.legal_basis,
                "publish_days": obj.publish_days,
                "is_active": obj.is_active,
            },
        )


@admin.register(Inspector)
class InspectorAdmin(_PlannerScoped, admin.ModelAdmin):
    department_path = "staff__department_id"
    list_display = ("certificate_no", "staff", "is_active")
    list_filter = ("is_active",)
    search_fields = ("certificate_no", "staff__name")
    list_select_related = ("staff",)
    fields = ("staff", "certificate_no", "qualifications", "is_active")
    readonly_fields = ("staff", "certificate_no")

    def has_change_permission(self, request, obj=None):
        return self._allowed(request)

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        audit_record(
            actor=admin_principal(request),
            action="supervision.inspector_change",
            object_type="inspector",
            object_id=obj.certificate_no,
            after={"qualifications": obj.qualifications, "is_active": obj.is_active},
        )


@admin.register(Conflict)
class ConflictAdmin(_PlannerScoped, admin.ModelAdmin):
    department_path = "inspector__staff__department_id"
    list_display = ("inspector", "organisation", "reason", "created_at")
    search_fields = ("inspector__certificate_no", "organisation__uscc", "organisation__name")
    list_select_related = ("inspector", "inspector__staff", "organisation")
    fields = ("inspector", "organisation", "reason", "created_at")
    readonly_fields = fields


class TaskInline(admin.TabularInline):
    model = InspectionTask
    extra = 0
    can_delete = False
    fields = ("position", "organisation", "status", "result", "publish_by", "published_at")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Draw)
class DrawAdmin(_PlannerScoped, admin.ModelAdmin):
    list_display = ("number", "title", "matter", "department", "status", "due_date", "created_at")
    list_filter = ("status",)
    search_fields = ("number", "title")
    list_select_related = ("matter", "department")
    fields = (
        "number",
        "title",
        "matter",
        "department",
        "status",
        "parameters",
        "parameters_sm3",
        "seed_commitment",
        "candidates_sm3",
        "commitment_entry",
        "draw_entry",
        "reveal_entry",
        "due_date",
        "created_by",
        "created_at",
        "drawn_at",
        "revealed_at",
        "published_at",
    )  # the seed is not shown here: it is secret until revealed, and public (the verification page) after
    readonly_fields = fields
    inlines = (TaskInline,)


@admin.register(InspectionTask)
class InspectionTaskAdmin(_PlannerScoped, admin.ModelAdmin):
    department_path = "draw__department_id"
    list_display = ("draw", "position", "organisation", "status", "result", "publish_by", "published_at")
    list_filter = ("status", "result")
    search_fields = ("draw__number", "organisation__name", "organisation__uscc")
    list_select_related = ("draw", "organisation")
    fields = (
        "draw",
        "position",
        "organisation",
        "status",
        "result",
        "findings",
        "penalty_amount",
        "due_date",
        "inspected_at",
        "publish_by",
        "published_at",
        "record",
    )
    readonly_fields = fields
