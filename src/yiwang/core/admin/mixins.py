"""Admin building blocks shared by the apps: read-only pages and audited reads."""

from __future__ import annotations

from django.db import transaction

from ..audit import audit_record
from .org import admin_principal


class ReadOnlyAdminMixin:
    """No add, change or delete, anywhere (model admins and inlines alike): rows change only through services."""

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class AuditedReadMixin:
    """Opening one row's page in the admin is audited like any staff read of it. The row is named by its
    `public_id`; set `audit_object_type` (also the action prefix: "<type>.read") and `audit_purpose`."""

    audit_object_type = ""
    audit_purpose = ""

    def change_view(self, request, object_id, form_url="", extra_context=None):
        response = super().change_view(request, object_id, form_url, extra_context)
        if request.method == "GET" and response.status_code == 200:
            row = (
                self.model.objects.filter(pk=object_id).only("public_id").first()
                if str(object_id).isdecimal()
                else None
            )
            with transaction.atomic():
                audit_record(
                    actor=admin_principal(request),
                    action=f"{self.audit_object_type}.read",
                    object_type=self.audit_object_type,
                    object_id=str(row.public_id) if row else str(object_id),
                    after={"via": "admin"},
                    purpose=str(self.audit_purpose),
                )
        return response


class PermissionGatedAdminMixin:
    """The model's admin pages (the module, the list, a row) only for holders of every permission named in
    `admin_permissions` (a superuser included only if they hold them too, like everyone)."""

    admin_permissions: tuple = ()

    def _permitted(self, request) -> bool:
        principal = admin_principal(request)
        return bool(self.admin_permissions) and all(principal.has(p) for p in self.admin_permissions)

    def has_module_permission(self, request) -> bool:
        return self._permitted(request)

    def has_view_permission(self, request, obj=None) -> bool:
        return self._permitted(request)
