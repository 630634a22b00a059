"""Forms for the core pages and admin. Forms only parse; the rules live in the services and selectors, whose
ValidationErrors are mapped back onto the fields with `add_service_errors`."""

from __future__ import annotations

import json

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from .models import Department, Division, Organisation, Person, Staff


def add_service_errors(
    form: forms.BaseForm, exc: ValidationError, rename: dict[str, str] | None = None
) -> None:
    """Puts a service's field errors on the matching form fields (others become non-field errors).

    `rename` maps a service's field name to the form's, where they differ.
    """
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc.messages)
        return
    for field, messages in exc.message_dict.items():
        field = (rename or {}).get(field, field)
        form.add_error(field if field in form.fields else None, messages)


# --- pages -------------------------------------------------------------------------------------------
class PersonLookupForm(forms.Form):
    # Not `required`: the selector reports empty and invalid values together, with its own messages.
    id_number = forms.CharField(
        label=_("身份证号"),
        max_length=32,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off", "inputmode": "text", "spellcheck": "false"}),
    )
    purpose = forms.CharField(
        label=_("查询用途"),
        max_length=200,
        required=False,
        help_text=_("如：受理某某事项核验申请人身份。查询将连同用途记入审计日志。"),
    )


class OrganisationLookupForm(forms.Form):
    uscc = forms.CharField(
        label=_("统一社会信用代码"),
        max_length=32,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )


# --- admin -------------------------------------------------------------------------------------------
class GeometryField(forms.JSONField):
    """GeoJSON text area; the geometry rules are checked by the division service (core.geo)."""

    widget = forms.Textarea(attrs={"rows": 8, "cols": 90, "style": "font-family: monospace"})

    def prepare_value(self, value):
        if isinstance(value, (dict, list)):
            return json.dumps(value, ensure_ascii=False)
        return super().prepare_value(value)


class DivisionAdminForm(forms.ModelForm):
    geometry = GeometryField(
        label=_("边界"), required=False, help_text=Division._meta.get_field("geometry").help_text
    )

    class Meta:
        model = Division
        fields = ["code", "name", "level", "parent", "geometry", "is_active"]

    def clean(self):
        from .services.org import division_validate

        data = super().clean()
        if self.errors:
            return data
        instance = self.instance if self.instance.pk else None
        try:
            division_validate(
                code=(data.get("code") or "").strip() if instance is None else instance.code,
                name=data.get("name") or "",
                level=data.get("level") if instance is None else instance.level,
                parent=data.get("parent") if instance is None else instance.parent,
                geometry=data.get("geometry"),
                instance=instance,
                is_active=data.get("is_active", True),
            )
        except ValidationError as exc:
            add_service_errors(self, exc)
        return data


class DepartmentAdminForm(forms.ModelForm):
    class Meta:
        model = Department
        fields = ["code", "name", "uscc", "parent", "division", "is_command_centre", "is_active"]

    def clean(self):
        from .services.org import department_validate
        from .validators import normalise_uscc

        data = super().clean()
        if self.errors:
            return data
        instance = self.instance if self.instance.pk else None
        try:
            department_validate(
                code=instance.code if instance else (data.get("code") or "").strip().upper(),
                name=(data.get("name") or "").strip(),
                uscc=normalise_uscc(data.get("uscc") or ""),
                division=data.get("division"),
                parent=data.get("parent"),
                instance=instance,
            )
        except ValidationError as exc:
            add_service_errors(self, exc)
        return data


class StaffAdminForm(forms.ModelForm):
    """On add, the login name and an optional first password create the staff Account."""

    username = forms.CharField(label=_("登录名"), max_length=150, required=False)
    password = forms.CharField(
        label=_("初始口令"),
        required=False,
        widget=forms.PasswordInput(render_value=False),
        help_text=_("留空则账户暂不能登录，需另行设置口令。"),
    )

    class Meta:
        model = Staff
        fields = ["department", "employee_no", "name", "title", "grid", "is_active"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The admin shows username/password on the add page only (StaffAdmin.get_fields).
        if "username" in self.fields and not self.instance.pk:
            self.fields["username"].required = True

    def clean_grid(self):
        grid = self.cleaned_data.get("grid")
        if grid is not None and grid.level != Division.Level.GRID:
            raise ValidationError(_("负责网格必须是网格层级的区划。"))
        return grid


class PersonAdminForm(forms.ModelForm):
    """身份证号 and phone are typed in here but never shown back in plain text: the inputs are separate form
    fields (not the model's), so the admin never pre-fills them from the stored values."""

    id_number_input = forms.CharField(
        label=_("身份证号"),
        max_length=32,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
        help_text=_("登记时必填；修改时留空表示不变。"),
    )
    phone_input = forms.CharField(
        label=_("联系电话"),
        max_length=20,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
        help_text=_("修改时留空表示不变。"),
    )
    SERVICE_FIELDS = {"id_number": "id_number_input", "phone": "phone_input"}

    class Meta:
        model = Person
        fields = ["name", "division", "address", "is_deceased"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.instance.pk:
            self.fields["id_number_input"].required = True

    def clean(self):
        from .services.people import person_validate

        data = super().clean()
        if self.errors:
            return data
        instance = self.instance if self.instance.pk else None
        try:
            person_validate(
                name=data.get("name") or "",
                id_number=data.get("id_number_input") or (instance.id_number if instance else ""),
                phone=data.get("phone_input") or (instance.phone if instance else ""),
                division=data.get("division"),
                address=data.get("address") or "",
                instance=instance,
            )
        except ValidationError as exc:
            add_service_errors(self, exc, rename=self.SERVICE_FIELDS)
        return data


class OrganisationAdminForm(forms.ModelForm):
    class Meta:
        model = Organisation
        fields = [
            "uscc",
            "name",
            "kind",
            "status",
            "established_on",
            "registered_capital",
            "business_scope",
            "division",
            "address",
            "employee_count",
        ]

    def clean(self):
        from .services.people import organisation_validate

        data = super().clean()
        if self.errors:
            return data
        instance = self.instance if self.instance.pk else None
        try:
            organisation_validate(
                uscc=data.get("uscc") or (instance.uscc if instance else ""),
                name=data.get("name") or "",
                kind=data.get("kind") or "",
                status=data.get("status") or (instance.status if instance else Organisation.Status.ACTIVE),
                established_on=data.get("established_on"),
                registered_capital=data.get("registered_capital"),
                division=data.get("division"),
                employee_count=data.get("employee_count") or 0,
                instance=instance,
            )
        except ValidationError as exc:
            add_service_errors(self, exc)
        return data
