"""Admin: 资源目录 (issue 14). Resources with their fields inline and the grade policies; saves go through
services.catalogue (validated, audited, with the lifecycle history): a new resource is registered, a draft's
metadata updated, the inline rows replace the field list; published resources change through a new version
(admin action), and the lifecycle steps are admin actions calling the same services as the pages and the API.
Lists are scoped like the pages (selectors.catalogue)."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from yiwang.core.admin.org import admin_principal, adopt
from yiwang.core.permissions import DATA_CENTRE, DATA_STEWARD

from ..models import DataResource, GradePolicy, ResourceEvent, ResourceField
from ..selectors.catalogue import resource_may_manage, resources_visible
from ..services import catalogue as services
from ..services.catalogue import META_FIELDS, ResourceConflict

_FIELD_COLUMNS = (
    "name",
    "label",
    "element",
    "data_type",
    "share_type",
    "share_condition",
    "no_share_basis",
    "data_class",
    "grade",
    "default_mask",
    "is_key",
    "position",
)


def _reader(request) -> bool:
    principal = admin_principal(request)
    return principal.has(DATA_CENTRE) or principal.has(DATA_STEWARD)


def _copy_errors(form: forms.Form, exc: ValidationError) -> None:
    for field, messages_ in exc.message_dict.items():
        for message in messages_:
            form.add_error(field if field in form.fields else None, message)


class DataResourceAdminForm(forms.ModelForm):
    class Meta:
        model = DataResource
        fields = ("provider", *[n for n in META_FIELDS if n != "return_levels"], "return_levels")

    def clean(self):
        cleaned = super().clean()
        if not self.errors:
            values = {n: cleaned.get(n) for n in META_FIELDS if n in self.fields}
            try:
                services.resource_meta_check(values, partial=bool(self.instance.pk))
            except ValidationError as exc:
                _copy_errors(self, exc)
        return cleaned


class FieldFormSet(forms.BaseInlineFormSet):
    def live_rows(self) -> list[dict]:
        live = [
            f
            for f in self.forms
            if getattr(f, "cleaned_data", None)
            and not f.cleaned_data.get("DELETE")
            and f.cleaned_data.get("name")
        ]
        live.sort(key=lambda f: f.cleaned_data.get("position") or 0)
        rows = []
        for f in live:
            row = {n: f.cleaned_data.get(n) for n in _FIELD_COLUMNS if n != "position"}
            element = row.get("element")
            row["element"] = element.identifier if element is not None else ""
            rows.append(row)
        return rows

    def clean(self):
        super().clean()
        if any(self.errors):
            return
        try:
            services.resource_fields_check(self.live_rows())
        except ValidationError as exc:
            raise ValidationError([f"{k}: {m}" for k, v in exc.message_dict.items() for m in v]) from exc

    def validate_unique(self):
        pass  # the service reports a repeated field name in Chinese


class ResourceFieldInline(admin.TabularInline):
    model = ResourceField
    formset = FieldFormSet
    fields = _FIELD_COLUMNS
    autocomplete_fields = ()
    raw_id_fields = ("element",)
    extra = 1

    def has_add_permission(self, request, obj=None):
        return obj is None or self._editable(request, obj)

    def has_change_permission(self, request, obj=None):
        return obj is None or self._editable(request, obj)

    def has_delete_permission(self, request, obj=None):
        return obj is not None and self._editable(request, obj)

    def has_view_permission(self, request, obj=None):
        return _reader(request)

    @staticmethod
    def _editable(request, obj) -> bool:
        return obj.status in services.EDITABLE and resource_may_manage(admin_principal(request), obj)


class ResourceEventInline(admin.TabularInline):
    model = ResourceEvent
    fields = ("seq", "action", "from_status", "to_status", "actor_label", "note", "created_at")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(DataResource)
class DataResourceAdmin(admin.ModelAdmin):
    form = DataResourceAdminForm
    list_display = ("code", "version", "name", "provider", "share_type", "grade", "status", "is_platform")
    list_filter = ("status", "resource_class", "share_type", "grade", "is_platform")
    search_fields = ("code", "name", "theme")
    list_select_related = ("provider",)
    inlines = (ResourceFieldInline, ResourceEventInline)
    show_full_result_count = False
    actions = ("action_submit", "action_publish", "action_version")
    readonly_fields = (
        "public_id",
        "code",
        "version",
        "status",
        "mount_kind",
        "mount_target",
        "review_note",
        "retire_notice",
        "released_on",
        "row_version",
    )

    def get_queryset(self, request):
        return resources_visible(admin_principal(request)).select_related("provider")

    def get_readonly_fields(self, request, obj=None):
        fields = tuple(self.readonly_fields)
        if obj is not None:
            fields += ("provider",)
            if not self.has_change_permission(request, obj):
                fields += tuple(n for n in META_FIELDS)
        return fields

    def has_module_permission(self, request):
        return _reader(request)

    def has_view_permission(self, request, obj=None):
        return _reader(request)

    def has_add_permission(self, request):
        return _reader(request)

    def has_change_permission(self, request, obj=None):
        if obj is None:
            return _reader(request)
        return obj.status in services.EDITABLE and resource_may_manage(admin_principal(request), obj)

    def has_delete_permission(self, request, obj=None):
        return False  # resources are retired, never deleted

    def save_model(self, request, obj, form, change):
        request._yiwang_resource = (
            obj,
            dict(form.cleaned_data),
            change,
        )  # written with its fields in save_related

    def save_related(self, request, form, formsets, change):
        obj, data, change = request._yiwang_resource
        actor = admin_principal(request)
        values = {n: data[n] for n in META_FIELDS if n in data}
        if change:
            saved = services.resource_update(
                actor=actor, resource=DataResource.objects.get(pk=obj.pk), **values
            )
        else:
            saved = services.resource_register(actor=actor, provider=data["provider"], **values)
        for formset in formsets:
            if formset.model is ResourceField and formset.has_changed():
                services.resource_fields_set(actor=actor, resource=saved, fields=formset.live_rows())
            formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        adopt(obj, DataResource.objects.get(pk=saved.pk))

    def _each(self, request, queryset, call, done: str) -> None:
        actor = admin_principal(request)
        n = 0
        for resource in queryset:
            try:
                call(actor, resource)
                n += 1
            except (ValidationError, PermissionDenied, ResourceConflict) as exc:
                text = "；".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
                self.message_user(request, f"{resource.code} v{resource.version}：{text}", messages.ERROR)
        if n:
            self.message_user(request, done % {"n": n}, messages.SUCCESS)

    @admin.action(description=gettext_lazy("提交审核"))
    def action_submit(self, request, queryset):
        self._each(
            request,
            queryset,
            lambda a, r: services.resource_submit(actor=a, resource=r),
            _("已提交 %(n)d 个资源。"),
        )

    @admin.action(description=gettext_lazy("审核通过并发布（大数据中心）"))
    def action_publish(self, request, queryset):
        self._each(
            request,
            queryset,
            lambda a, r: services.resource_review(actor=a, resource=r, approve=True),
            _("已发布 %(n)d 个资源。"),
        )

    @admin.action(description=gettext_lazy("创建新版本"))
    def action_version(self, request, queryset):
        self._each(
            request,
            queryset,
            lambda a, r: services.resource_version_new(actor=a, resource=r),
            _("已为 %(n)d 个资源创建新版本。"),
        )


@admin.register(GradePolicy)
class GradePolicyAdmin(admin.ModelAdmin):
    list_display = (
        "grade",
        "default_mask",
        "requesters",
        "approval",
        "export_limit",
        "watermark",
        "log_level",
    )
    fields = ("grade", "default_mask", "requesters", "approval", "export_limit", "watermark", "log_level")

    def get_readonly_fields(self, request, obj=None):
        return ("grade",) if obj is not None else ()

    def has_module_permission(self, request):
        return _reader(request)

    def has_view_permission(self, request, obj=None):
        return _reader(request)

    def has_add_permission(self, request):
        return admin_principal(request).has(DATA_CENTRE)

    def has_change_permission(self, request, obj=None):
        return admin_principal(request).has(DATA_CENTRE)

    def has_delete_permission(self, request, obj=None):
        return False  # without a row the built-in defaults apply; change the row instead

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        saved = services.grade_policy_set(
            actor=admin_principal(request),
            grade=obj.grade,
            **{n: data[n] for n in self.fields if n != "grade" and n in data},
        )
        adopt(obj, saved)
