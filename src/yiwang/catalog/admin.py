"""Admin: service items (with their materials) and themes. Every write goes through the catalogue services, so
the admin validates and audits exactly like every other caller; published versions are read-only here and the
"新建版本" action makes the editable draft."""

from __future__ import annotations

import json

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.forms.fields import InvalidJSONInput
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from yiwang.core.admin.org import admin_principal, adopt
from yiwang.core.permissions import CATALOG_MANAGE

from . import services
from .models import Material, ServiceItem, Theme
from .selectors import items_maintainable_by


class PrettyJSONField(forms.JSONField):
    """JSON shown indented and with Chinese as is, so declarations stay readable in the textarea."""

    def prepare_value(self, value):
        if isinstance(value, InvalidJSONInput):
            return value
        return json.dumps(value, ensure_ascii=False, indent=2, cls=self.encoder)


class ServiceItemAdminForm(forms.ModelForm):
    form_schema = PrettyJSONField(
        label=gettext_lazy("申请表单"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 18, "cols": 100, "class": "vLargeTextField"}),
        help_text=gettext_lazy(
            "JSON：schema（JSON Schema 2020-12）与 layout（分组、标签、预填来源、显示条件）"
        ),
    )
    process = PrettyJSONField(
        label=gettext_lazy("办理流程"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 18, "cols": 100, "class": "vLargeTextField"}),
        help_text=gettext_lazy("JSON：steps（步骤、角色、部门、时限占比）与 transitions（流转）"),
    )

    class Meta:
        model = ServiceItem
        fields = ("code", *services.EDITABLE_FIELDS, "themes")

    def clean(self):
        cleaned = super().clean()
        values = {
            name: cleaned.get(name, getattr(self.instance, name, None)) for name in services.EDITABLE_FIELDS
        }
        for name in ("form_schema", "process"):
            values[name] = values[name] or {}
        if self.instance.pk is None and "code" in self.fields and "code" not in self.errors:
            try:
                cleaned["code"] = services.item_code_check(cleaned.get("code", ""))
            except ValidationError as exc:
                self.add_error("code", exc.message_dict["code"][0])
        try:
            services.item_validate(values)
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                if field in self.errors:
                    continue  # the field's own parsing already failed; its value was not checked
                for message in errors:
                    self.add_error(field if field in self.fields else None, message)
        return cleaned


class MaterialFormSet(forms.BaseInlineFormSet):
    def clean(self):
        super().clean()
        seen: set[str] = set()
        for form in self.forms:
            data = getattr(form, "cleaned_data", None)
            if not data or data.get("DELETE"):
                continue
            try:
                row = services.material_validate(data)
            except ValidationError as exc:
                for field, errors in exc.message_dict.items():
                    for message in errors:
                        form.add_error(field if field in form.fields else None, message)
                continue
            if row["code"] in seen:
                form.add_error("code", _("材料编码“%(code)s”重复。") % {"code": row["code"]})
            seen.add(row["code"])


class MaterialInline(admin.TabularInline):
    model = Material
    formset = MaterialFormSet
    extra = 1
    fields = (
        "sort",
        "code",
        "name",
        "required",
        "form",
        "source",
        "licence_type_code",
        "registry_field",
        "tolerant",
        "pledge_allowed",
        "note",
    )

    def _editable(self, request, obj) -> bool:
        return obj is None or (obj.status == ServiceItem.Status.DRAFT and _may_manage(request, obj))

    def has_add_permission(self, request, obj=None):
        return self._editable(request, obj)

    def has_change_permission(self, request, obj=None):
        return self._editable(request, obj)

    def has_delete_permission(self, request, obj=None):
        return self._editable(request, obj)

    def has_view_permission(self, request, obj=None):
        return admin_principal(request).has(CATALOG_MANAGE)


def _may_manage(request, obj: ServiceItem | None) -> bool:
    actor = admin_principal(request)
    if obj is None:
        return actor.has(CATALOG_MANAGE)
    return services.item_may_manage(actor, obj.department)


def _run(modeladmin, request, queryset, action, done: str) -> None:
    actor = admin_principal(request)
    for item in queryset.select_related("department"):
        try:
            result = action(actor=actor, item=item)
        except (ValidationError, PermissionDenied) as exc:
            problems = exc.messages if isinstance(exc, ValidationError) else [str(exc)]
            modeladmin.message_user(request, f"{item}：{'；'.join(problems)}", messages.ERROR)
        else:
            modeladmin.message_user(request, done % {"item": result}, messages.SUCCESS)


@admin.register(ServiceItem)
class ServiceItemAdmin(admin.ModelAdmin):
    form = ServiceItemAdminForm
    inlines = (MaterialInline,)
    filter_horizontal = ("themes",)
    list_display = (
        "code",
        "version",
        "name",
        "department",
        "item_type",
        "committed_days",
        "online_depth",
        "status",
    )
    list_filter = ("status", "item_type", "target", "online_depth", "themes")
    search_fields = ("=code", "name", "keywords")
    list_select_related = ("department",)
    raw_id_fields = ("department",)
    readonly_fields = ("version", "status", "published_at", "public_id")
    show_full_result_count = False
    actions = ("publish", "new_version", "suspend")

    def get_queryset(self, request):
        # The list, the change pages and the actions all read through this: another department's item is
        # not there to open, change or act on.
        return items_maintainable_by(admin_principal(request), super().get_queryset(request))

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and obj.status != ServiceItem.Status.DRAFT:
            return (*self.readonly_fields, "code", *services.EDITABLE_FIELDS, "themes")
        if obj is not None:
            return (*self.readonly_fields, "code")  # the code is shared by every version
        return self.readonly_fields

    # A published version is immutable: its change page is view-only; "新建版本" makes an editable draft.
    # The platform permission decides (not Django model permissions): department heads hold CATALOG_MANAGE.
    def has_module_permission(self, request):
        return admin_principal(request).has(CATALOG_MANAGE)

    def has_view_permission(self, request, obj=None):
        return admin_principal(request).has(CATALOG_MANAGE)

    def has_add_permission(self, request):
        return admin_principal(request).has(CATALOG_MANAGE)

    def has_change_permission(self, request, obj=None):
        if obj is None:
            return admin_principal(request).has(CATALOG_MANAGE)
        return obj.status == ServiceItem.Status.DRAFT and _may_manage(request, obj)

    def has_delete_permission(self, request, obj=None):
        return False  # versions stay: cases reference the version they were filed under

    def save_model(self, request, obj, form, change):
        actor = admin_principal(request)
        data = form.cleaned_data
        values = {name: data[name] for name in services.EDITABLE_FIELDS if name in data}
        if change:
            saved = services.item_update_draft(actor=actor, item=obj, themes=data.get("themes", []), **values)
        else:
            saved = services.item_create(
                actor=actor, code=data["code"], themes=data.get("themes", []), **values
            )
        adopt(obj, saved)

    def save_related(self, request, form, formsets, change):
        # Themes went with the item; materials replace the draft's list in one service call (audited).
        for formset in formsets:
            if formset.model is not Material:
                formset.save()
                continue
            rows = [
                {name: row.cleaned_data.get(name) for name in services.MATERIAL_FIELDS}
                for row in sorted(
                    (
                        r
                        for r in formset.forms
                        if getattr(r, "cleaned_data", None) and not r.cleaned_data.get("DELETE")
                    ),
                    key=lambda r: r.cleaned_data.get("sort") or 0,
                )
            ]
            services.item_update_draft(actor=admin_principal(request), item=form.instance, materials=rows)
            formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []

    @admin.action(description=gettext_lazy("发布"))
    def publish(self, request, queryset):
        _run(self, request, queryset, services.item_publish, _("已发布：%(item)s"))

    @admin.action(description=gettext_lazy("新建版本"))
    def new_version(self, request, queryset):
        _run(self, request, queryset, services.item_new_version, _("已新建草稿版本：%(item)s"))

    @admin.action(description=gettext_lazy("暂停"))
    def suspend(self, request, queryset):
        _run(self, request, queryset, services.item_suspend, _("已暂停：%(item)s"))


class ThemeAdminForm(forms.ModelForm):
    class Meta:
        model = Theme
        fields = ("code", "name", "audience", "sort")


@admin.register(Theme)
class ThemeAdmin(admin.ModelAdmin):
    form = ThemeAdminForm
    list_display = ("code", "name", "audience", "sort")
    list_filter = ("audience",)
    search_fields = ("code", "name")

    def get_readonly_fields(self, request, obj=None):
        return ("code",) if obj is not None else ()

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        saved = services.theme_save(
            actor=admin_principal(request),
            code=data.get("code", obj.code),
            name=data["name"],
            audience=data["audience"],
            sort=data.get("sort") or 0,
            theme=obj if change else None,
        )
        adopt(obj, saved)


# Admin of the issue-4 declarations, one module each (免申即享 policies: cases/proactive/admin_policies.py,
# since saving one evaluates it through cases).
from . import admin_rules  # noqa: E402,F401
from .bundles import admin as admin_bundles  # noqa: E402,F401
