"""Admin of 证照类型: the face-field schema and the validity rule are checked by services.core.licence_type_validate
(field-level Chinese errors) and saved through licence_type_save (audited)."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy

from yiwang.catalog.admin import PrettyJSONField
from yiwang.core.admin.org import admin_principal, adopt
from yiwang.core.permissions import LICENCE_MANAGE

from .models import LicenceType
from .services.core import licence_type_save, licence_type_validate

FIELDS = (
    "code",
    "name",
    "department",
    "holder_kind",
    "face_fields",
    "validity",
    "validity_years",
    "layout",
    "is_reference",
    "is_active",
)


class LicenceTypeAdminForm(forms.ModelForm):
    face_fields = PrettyJSONField(
        label=gettext_lazy("照面要素"),
        widget=forms.Textarea(attrs={"rows": 16, "cols": 100, "class": "vLargeTextField"}),
        help_text=gettext_lazy(
            '列表，每项 {"name": "shop_name", "label": "经营者名称", "type": "string|date|number|boolean", '
            '"required": true, "public": true, "source": "form:shop_name"}；来源可为 form:<字段>、registry:<键>、'
            "case:number、case:concluded_on、item:name、const:<文字>。"
        ),
    )
    layout = PrettyJSONField(
        label=gettext_lazy("版式"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 6, "cols": 100, "class": "vLargeTextField"}),
    )

    class Meta:
        model = LicenceType
        fields = FIELDS

    def clean(self):
        cleaned = super().clean()
        if "face_fields" in self.errors:
            return cleaned
        try:
            licence_type_validate(
                {
                    "face_fields": cleaned.get("face_fields"),
                    "validity": cleaned.get("validity"),
                    "validity_years": cleaned.get("validity_years"),
                }
            )
        except ValidationError as exc:
            for field, messages in exc.message_dict.items():
                for message in messages:
                    self.add_error(field if field in self.fields else None, message)
        if cleaned.get("layout") is None:
            cleaned["layout"] = {}
        return cleaned


@admin.register(LicenceType)
class LicenceTypeAdmin(admin.ModelAdmin):
    form = LicenceTypeAdminForm
    list_display = ("code", "name", "department", "holder_kind", "validity", "is_reference", "is_active")
    list_filter = ("holder_kind", "validity", "is_reference", "is_active")
    search_fields = ("code", "name")
    list_select_related = ("department",)

    def get_readonly_fields(self, request, obj=None):
        return ("code",) if obj is not None else ()

    def has_module_permission(self, request):
        return admin_principal(request).has(LICENCE_MANAGE)

    def has_view_permission(self, request, obj=None):
        return admin_principal(request).has(LICENCE_MANAGE)

    def has_add_permission(self, request):
        return admin_principal(request).has(LICENCE_MANAGE)

    def has_change_permission(self, request, obj=None):
        return admin_principal(request).has(LICENCE_MANAGE)

    def has_delete_permission(self, request, obj=None):
        return False  # licences refer to it; deactivate it instead

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        target = LicenceType.objects.get(pk=obj.pk) if change else LicenceType()
        saved = licence_type_save(
            actor=admin_principal(request),
            licence_type=target,
            values={name: data[name] for name in FIELDS if name in data},
        )
        adopt(obj, saved)
