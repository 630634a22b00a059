"""Admin: divisions and grids, departments, staff and roles. Writes go through the services, so they are
validated the same way as the API and land in the audit chain."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import Model
from django.utils.translation import gettext_lazy as _

from ..forms import DepartmentAdminForm, DivisionAdminForm, StaffAdminForm
from ..models import Department, Division, Staff, StaffRole
from ..permissions import all_permissions
from ..principal import Principal
from ..services import org as services


def admin_principal(request) -> Principal:
    """Who acts in the back office. Superusers (made by `yiwang createadmin`) act with every permission;
    anyone else with the permissions of their roles, so the services still refuse what they may not do.
    Built once per request: one admin page asks it a dozen times (module, view, change permissions...)."""
    user = request.user
    remembered = getattr(request, "_yiwang_admin_principal", None)
    if remembered is not None and remembered.account is user:
        return remembered
    if user.is_superuser:
        principal = Principal(account=user, permissions=frozenset(all_permissions().values()))
    else:
        principal = Principal.for_account(user)
    request._yiwang_admin_principal = principal
    return principal


def adopt(target: Model, saved: Model) -> None:
    """Makes the admin's in-memory object the row the service wrote (pk and all), for the admin's log and redirect."""
    for key, value in saved.__dict__.items():
        if key != "_state":
            target.__dict__[key] = value
    target._state.adding = False
    target._state.db = saved._state.db


@admin.register(Division)
class DivisionAdmin(admin.ModelAdmin):
    form = DivisionAdminForm
    list_display = ("code", "name", "level", "parent", "is_active", "updated_at")
    list_filter = ("level", "is_active")
    search_fields = ("code", "name")
    raw_id_fields = ("parent",)
    list_select_related = ("parent",)
    readonly_fields = ("min_lon", "min_lat", "max_lon", "max_lat", "updated_at")
    show_full_result_count = False

    def get_readonly_fields(self, request, obj=None):
        fields = tuple(super().get_readonly_fields(request, obj))
        # Code, level and parent define where the division sits; codes below it are derived from them.
        return ("code", "level", "parent", *fields) if obj is not None else fields

    def save_model(self, request, obj, form, change):
        actor = admin_principal(request)
        data = form.cleaned_data
        if change:
            saved = services.division_update(
                actor=actor,
                division=obj,
                name=data["name"],
                geometry=data.get("geometry"),
                is_active=data.get("is_active", True),
            )
        else:
            saved = services.division_create(
                actor=actor,
                code=data["code"],
                name=data["name"],
                level=data["level"],
                parent=data.get("parent"),
                geometry=data.get("geometry"),
                is_active=data.get("is_active", True),
            )
        adopt(obj, saved)

    def has_delete_permission(self, request, obj=None):
        # Divisions are referenced by cases, incidents and people: deactivate instead of deleting.
        return False


@admin.register(Department)
class DepartmentAdmin(admin.ModelAdmin):
    form = DepartmentAdminForm
    list_display = ("code", "name", "uscc", "parent", "division", "is_command_centre", "is_active")
    list_filter = ("is_command_centre", "is_active")
    search_fields = ("code", "name", "=uscc")
    raw_id_fields = ("parent", "division")
    list_select_related = ("parent", "division")
    readonly_fields = ("public_id",)

    def get_readonly_fields(self, request, obj=None):
        fields = tuple(super().get_readonly_fields(request, obj))
        return ("code", *fields) if obj is not None else fields

    def save_model(self, request, obj, form, change):
        actor = admin_principal(request)
        data = form.cleaned_data
        if change:
            saved = services.department_update(
                actor=actor,
                department=obj,
                name=data["name"],
                uscc=data["uscc"],
                division=data["division"],
                parent=data.get("parent"),
                is_command_centre=data.get("is_command_centre", False),
                is_active=data.get("is_active", True),
            )
        else:
            saved = services.department_create(
                actor=actor,
                code=data["code"],
                name=data["name"],
                uscc=data["uscc"],
                division=data["division"],
                parent=data.get("parent"),
                is_command_centre=data.get("is_command_centre", False),
            )
        adopt(obj, saved)

    def has_delete_permission(self, request, obj=None):
        return False


class StaffRoleInline(admin.TabularInline):
    model = StaffRole
    extra = 1
    verbose_name = _("角色")
    verbose_name_plural = _("角色")


@admin.register(Staff)
class StaffAdmin(admin.ModelAdmin):
    form = StaffAdminForm
    inlines = (StaffRoleInline,)
    list_display = ("employee_no", "name", "department", "role_list", "grid", "is_active")
    list_filter = ("is_active", "roles__role")
    search_fields = ("=employee_no", "name", "=account__username")
    raw_id_fields = ("department", "grid")
    list_select_related = ("department", "grid")
    readonly_fields = ("public_id", "account")

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("roles")

    @admin.display(description=_("角色"))
    def role_list(self, obj: Staff) -> str:
        return "、".join(str(r.get_role_display()) for r in obj.roles.all())

    def get_readonly_fields(self, request, obj=None):
        return ("public_id", "account", "employee_no") if obj is not None else ()

    def get_fields(self, request, obj=None):
        common = ["department", "employee_no", "name", "title", "grid", "is_active"]
        if obj is None:
            # The login is created with the staff member; afterwards it is managed on the account page.
            return ["username", "password", *common]
        return ["public_id", "account", *common]

    def save_model(self, request, obj, form, change):
        actor = admin_principal(request)
        data = form.cleaned_data
        if change:
            saved = services.staff_update(
                actor=actor,
                staff=obj,
                name=data["name"],
                title=data.get("title", ""),
                department=data["department"],
                grid=data.get("grid"),
                is_active=data.get("is_active", True),
            )
        else:
            saved = services.staff_create(
                actor=actor,
                department=data["department"],
                username=data["username"],
                name=data["name"],
                employee_no=data["employee_no"],
                roles=[],
                password=data.get("password") or None,
                grid=data.get("grid"),
                title=data.get("title", ""),
            )
        adopt(obj, saved)

    def save_related(self, request, form, formsets, change):
        # Roles are set through the service (audited as one change) instead of saving the inline rows.
        roles: list[str] = []
        for formset in formsets:
            if formset.model is not StaffRole:
                formset.save()
                continue
            for row in formset.forms:
                cleaned = getattr(row, "cleaned_data", None) or {}
                if cleaned.get("role") and not cleaned.get("DELETE"):
                    roles.append(cleaned["role"])
            # The admin's change message reads these, which formset.save() would have set.
            formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        services.staff_roles_set(actor=admin_principal(request), staff=form.instance, roles=roles)

    def has_delete_permission(self, request, obj=None):
        # Staff who leave are set inactive; their past actions stay attributable.
        return False
