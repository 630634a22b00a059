"""Admin: 公文流转 — the role clearances (角色可阅密级: the highest confidentiality each role may read; roles without
a row read 内部, 区领导/办公室文秘/部门负责人 read 敏感) for system administrators, and the documents read-only
(metadata and trace only: documents are written on the document pages and through the API, services.documents)."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.db import transaction
from django.utils.translation import gettext_lazy

from yiwang.core.admin.org import admin_principal
from yiwang.core.audit import audit_record
from yiwang.core.permissions import SYSTEM_MANAGE, Role

from ..models.documents import Document, DocumentStep, RoleClearance


class RoleClearanceForm(forms.ModelForm):
    role = forms.ChoiceField(label=gettext_lazy("角色"), choices=Role.choices)

    class Meta:
        model = RoleClearance
        fields = ("role", "max_level")


@admin.register(RoleClearance)
class RoleClearanceAdmin(admin.ModelAdmin):
    form = RoleClearanceForm
    list_display = ("role", "max_level")

    def _allowed(self, request) -> bool:
        return admin_principal(request).has(SYSTEM_MANAGE)

    def has_module_permission(self, request):
        return self._allowed(request)

    def has_view_permission(self, request, obj=None):
        return self._allowed(request)

    def has_add_permission(self, request):
        return self._allowed(request)

    def has_change_permission(self, request, obj=None):
        return self._allowed(request)

    def has_delete_permission(self, request, obj=None):
        return self._allowed(request)

    def save_model(self, request, obj, form, change):
        with transaction.atomic():
            super().save_model(request, obj, form, change)
            audit_record(
                actor=admin_principal(request),
                action="collab.document.clearance",
                object_type="collab_role_clearance",
                object_id=obj.role,
                after={"role": obj.role, "max_level": obj.max_level},
            )

    def delete_model(self, request, obj):
        with transaction.atomic():
            audit_record(
                actor=admin_principal(request),
                action="collab.document.clearance_delete",
                object_type="collab_role_clearance",
                object_id=obj.role,
                before={"role": obj.role, "max_level": obj.max_level},
            )
            super().delete_model(request, obj)


class DocumentStepInline(admin.TabularInline):
    model = DocumentStep
    extra = 0
    can_delete = False
    fields = ("at", "step", "actor", "department", "opinion", "handed_to")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Document)
class DocumentAdmin(admin.ModelAdmin):
    list_display = (
        "title",
        "number",
        "direction",
        "department",
        "step",
        "confidentiality",
        "due_on",
        "created_at",
    )
    list_filter = ("direction", "step", "confidentiality", "urgency")
    search_fields = ("title", "number")
    list_select_related = ("department",)
    fields = (
        "public_id",
        "direction",
        "kind",
        "title",
        "number",
        "department",
        "origin",
        "confidentiality",
        "urgency",
        "step",
        "holder",
        "holder_department",
        "due_on",
        "signer",
        "signed_at",
        "seal",
        "sealed_at",
        "payload_sm3",
        "verify_code",
        "current_version",
        "created_by",
        "created_at",
        "done_at",
        "archived_at",
    )
    readonly_fields = fields
    inlines = [DocumentStepInline]

    def _allowed(self, request) -> bool:
        return admin_principal(request).has(SYSTEM_MANAGE)

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
