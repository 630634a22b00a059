"""Admin: 数据元 (issue 14). Saves go through services.elements (validated, audited): code lists with their values,
elements (drafts edited in place, published ones as pending changes of a draft batch), batches created by the
centre (publication is on the batches page, with its change note). Bindings and revisions are read-only."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy

from yiwang.core.admin.org import admin_principal, adopt
from yiwang.core.permissions import DATA_CENTRE, DATA_STEWARD

from ..models import CodeList, CodeListValue, DataElement, ElementBatch, ElementBinding, ElementRevision
from ..services import elements as services


def _reader(request) -> bool:
    principal = admin_principal(request)
    return principal.has(DATA_CENTRE) or principal.has(DATA_STEWARD)


def _centre(request) -> bool:
    return admin_principal(request).has(DATA_CENTRE)


def _copy_errors(form: forms.Form, exc: ValidationError) -> None:
    for field, messages in exc.message_dict.items():
        for message in messages:
            field = "batch_number" if field == "batch" else field
            form.add_error(field if field in form.fields else None, message)


# --- code lists -------------------------------------------------------------------------------------------------------
class CodeListValueInline(admin.TabularInline):
    model = CodeListValue
    fields = ("value", "label", "position", "is_active")
    readonly_fields = ("is_active",)
    extra = 1

    def has_delete_permission(self, request, obj=None):
        return _centre(request)  # a removed value is deactivated by the service, not deleted


@admin.register(CodeList)
class CodeListAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "standard", "is_active", "updated_at")
    search_fields = ("code", "name", "standard")
    list_filter = ("is_active",)
    inlines = (CodeListValueInline,)
    fields = ("code", "name", "standard", "description")

    def get_readonly_fields(self, request, obj=None):
        return ("code",) if obj is not None else ()

    def has_module_permission(self, request):
        return _reader(request)

    def has_view_permission(self, request, obj=None):
        return _reader(request)

    def has_add_permission(self, request):
        return _centre(request)

    def has_change_permission(self, request, obj=None):
        return _centre(request)

    def has_delete_permission(self, request, obj=None):
        return False  # elements refer to it

    def save_model(self, request, obj, form, change):
        request._yiwang_code_list = (obj, form.cleaned_data, change)  # saved with its values in save_related

    def save_related(self, request, form, formsets, change):
        obj, data, change = request._yiwang_code_list
        rows = []
        for formset in formsets:
            if formset.model is not CodeListValue:
                continue
            live = [
                f
                for f in formset.forms
                if getattr(f, "cleaned_data", None)
                and not f.cleaned_data.get("DELETE")
                and f.cleaned_data.get("value")
            ]
            live.sort(key=lambda f: f.cleaned_data.get("position") or 0)
            rows = [
                {"value": f.cleaned_data["value"], "label": f.cleaned_data.get("label", "")} for f in live
            ]
            formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        saved = services.code_list_save(
            actor=admin_principal(request),
            code=data.get("code") or obj.code,
            name=data.get("name", ""),
            standard=data.get("standard", ""),
            description=data.get("description", ""),
            values=rows,
            code_list=CodeList.objects.get(pk=obj.pk) if change else None,
        )
        adopt(obj, saved)


# --- elements ---------------------------------------------------------------------------------------------------------
class DataElementAdminForm(forms.ModelForm):
    batch_number = forms.ChoiceField(label=gettext_lazy("发布批次"), required=False)

    class Meta:
        model = DataElement
        fields = ("identifier", *services.ELEMENT_FIELDS)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        drafts = ElementBatch.objects.filter(status=ElementBatch.Status.DRAFT).order_by("-number")
        self.fields["batch_number"].choices = [("", "—")] + [(b.number, str(b)) for b in drafts[:50]]

    def validate_unique(self):
        pass  # the service checks the identifier and reports it in Chinese

    def clean(self):
        cleaned = super().clean()
        if not self.errors:
            values = {name: cleaned.get(name) for name in services.ELEMENT_FIELDS if name in self.fields}
            if self.instance.pk:
                values = {**services.element_values(self.instance), **values}
            try:
                services.element_values_check(
                    values,
                    identifier=None if self.instance.pk else cleaned.get("identifier", ""),
                    batch=cleaned.get("batch_number") or None,
                    element=DataElement.objects.select_related("batch").get(pk=self.instance.pk)
                    if self.instance.pk
                    else None,
                )
            except ValidationError as exc:
                _copy_errors(self, exc)
        return cleaned


class ElementRevisionInline(admin.TabularInline):
    model = ElementRevision
    fields = ("version", "batch", "change_note", "created_at")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(DataElement)
class DataElementAdmin(admin.ModelAdmin):
    form = DataElementAdminForm
    list_display = (
        "identifier",
        "name",
        "data_type",
        "source_department",
        "is_collected",
        "version",
        "status",
    )
    list_filter = ("status", "data_type", "is_collected", "validator")
    search_fields = ("=identifier", "name")
    list_select_related = ("source_department",)
    raw_id_fields = ("source_department",)
    readonly_fields = ("status", "version", "batch", "pending", "retired_at", "retire_note", "public_id")
    inlines = (ElementRevisionInline,)
    show_full_result_count = False

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and obj.status == DataElement.Status.RETIRED:
            return (*self.readonly_fields, "identifier", *services.ELEMENT_FIELDS)
        if obj is not None:
            return (*self.readonly_fields, "identifier")
        return self.readonly_fields

    def has_module_permission(self, request):
        return _reader(request)

    def has_view_permission(self, request, obj=None):
        return _reader(request)

    def has_add_permission(self, request):
        return _reader(request)

    def has_change_permission(self, request, obj=None):
        if obj is None:
            return _reader(request)
        return obj.status != DataElement.Status.RETIRED and services.may_edit_for(
            admin_principal(request), obj.source_department
        )

    def has_delete_permission(self, request, obj=None):
        return False  # retire it instead (bindings and revisions refer to it)

    def save_model(self, request, obj, form, change):
        data = {
            name: form.cleaned_data[name] for name in services.ELEMENT_FIELDS if name in form.cleaned_data
        }
        batch = form.cleaned_data.get("batch_number") or None
        actor = admin_principal(request)
        if change:
            saved = services.element_update(
                actor=actor, element=DataElement.objects.get(pk=obj.pk), batch=batch, **data
            )
        else:
            saved = services.element_create(
                actor=actor, identifier=form.cleaned_data["identifier"], batch=batch, **data
            )
        adopt(obj, saved)


# --- batches and bindings ------------------------------------------------------------------------------------------------
@admin.register(ElementBatch)
class ElementBatchAdmin(admin.ModelAdmin):
    list_display = ("number", "title", "status", "published_at", "published_by")
    list_filter = ("status",)
    search_fields = ("number", "title")
    fields = ("number", "title", "change_note", "status", "published_at", "published_by")

    def get_readonly_fields(self, request, obj=None):
        if obj is not None:
            return self.fields
        return ("status", "published_at", "published_by")

    def has_module_permission(self, request):
        return _reader(request)

    def has_view_permission(self, request, obj=None):
        return _reader(request)

    def has_add_permission(self, request):
        return _centre(request)

    def has_change_permission(self, request, obj=None):
        return False  # publication happens on the batches page, with its change note

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        saved = services.batch_create(
            actor=admin_principal(request),
            number=data["number"],
            title=data["title"],
            change_note=data.get("change_note", ""),
        )
        adopt(obj, saved)


@admin.register(ElementBinding)
class ElementBindingAdmin(admin.ModelAdmin):
    list_display = ("kind", "owner", "field_name", "label", "element", "asks_applicant", "synced_at")
    list_filter = ("kind", "asks_applicant")
    search_fields = ("owner", "field_name", "label", "element__identifier")
    list_select_related = ("element",)
    show_full_result_count = False

    def has_module_permission(self, request):
        return _reader(request)

    def has_view_permission(self, request, obj=None):
        return _reader(request)

    def has_add_permission(self, request):
        return False  # rebuilt from the declarations by the bindings sync

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
