"""Admin of 电子印章: creating a seal generates its SM2 key pair inside the keystore (services.core.seal_create);
the change form suspends, resumes or revokes it with a reason (audited). Only the key id and the public key are
ever shown; the private key never leaves the keystore."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy

from yiwang.core.admin.org import admin_principal, adopt
from yiwang.core.permissions import LICENCE_MANAGE

from .models import Seal
from .seal_image import seal_svg
from .services.core import seal_create, seal_resume, seal_revoke, seal_suspend

_ACTIONS = {"suspend": seal_suspend, "resume": seal_resume, "revoke": seal_revoke}


class SealAdminForm(forms.ModelForm):
    status_action = forms.ChoiceField(
        label=gettext_lazy("变更状态"),
        required=False,
        choices=[
            ("", "—"),
            ("suspend", gettext_lazy("暂停")),
            ("resume", gettext_lazy("恢复")),
            ("revoke", gettext_lazy("注销")),
        ],
    )
    reason = forms.CharField(label=gettext_lazy("原因"), required=False, max_length=200)

    class Meta:
        model = Seal
        fields = ("department", "name", "valid_from", "valid_until")

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("status_action") and not (cleaned.get("reason") or "").strip():
            self.add_error("reason", gettext_lazy("请填写原因。"))
        return cleaned


@admin.register(Seal)
class SealAdmin(admin.ModelAdmin):
    form = SealAdminForm
    list_display = ("name", "department", "key_id", "status", "valid_from", "valid_until")
    list_filter = ("status",)
    search_fields = ("name", "key_id", "department__name")
    list_select_related = ("department",)

    def get_fields(self, request, obj=None):
        if obj is None:
            return ("department", "name", "valid_from", "valid_until")
        return (
            "preview",
            "department",
            "name",
            "key_id",
            "public_key_hex",
            "valid_from",
            "valid_until",
            "status",
            "status_reason",
            "status_action",
            "reason",
        )

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ()
        return (
            "preview",
            "department",
            "name",
            "key_id",
            "public_key_hex",
            "valid_from",
            "valid_until",
            "status",
            "status_reason",
        )

    @admin.display(description=gettext_lazy("印章图样"))
    def preview(self, obj):
        return mark_safe(seal_svg(obj, size=120))  # noqa: S308 - every text in it is escaped

    def has_module_permission(self, request):
        return admin_principal(request).has(LICENCE_MANAGE)

    def has_view_permission(self, request, obj=None):
        return admin_principal(request).has(LICENCE_MANAGE)

    def has_add_permission(self, request):
        return admin_principal(request).has(LICENCE_MANAGE)

    def has_change_permission(self, request, obj=None):
        return admin_principal(request).has(LICENCE_MANAGE)

    def has_delete_permission(self, request, obj=None):
        return False  # licences refer to it; revoke it instead

    def save_model(self, request, obj, form, change):
        actor = admin_principal(request)
        data = form.cleaned_data
        try:
            if not change:
                saved = seal_create(
                    actor=actor,
                    department=data["department"],
                    name=data["name"],
                    valid_from=data.get("valid_from"),
                    valid_until=data.get("valid_until"),
                )
            else:
                saved = Seal.objects.get(pk=obj.pk)
                if data.get("status_action"):
                    saved = _ACTIONS[data["status_action"]](actor=actor, seal=saved, reason=data["reason"])
        except ValidationError as exc:
            # The form already checked the inputs; a state conflict (e.g. resume an active seal) lands here.
            from django.contrib import messages

            self.message_user(request, "；".join(exc.messages), messages.ERROR)
            saved = Seal.objects.get(pk=obj.pk) if change else None
            if saved is None:
                raise
        adopt(obj, saved)
