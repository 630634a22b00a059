"""Admin of 一件事 bundles: the bundle with its items (inline), validated on save with the errors of
catalog.bundles.services.bundle_validate and written through bundle_save (audited); publish and suspend as actions."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from yiwang.core.admin.org import admin_principal, adopt
from yiwang.core.permissions import CATALOG_MANAGE

from ..models import Bundle, BundleItem
from ..services import item_may_manage
from . import services


class BundleItemForm(forms.ModelForm):
    after = forms.CharField(
        label=gettext_lazy("前置事项"),
        required=False,
        max_length=400,
        help_text=gettext_lazy("须先准予的本一件事事项编码，空格或逗号分隔；不填表示提交后立即办理"),
        widget=forms.TextInput(attrs={"size": 40}),
    )

    class Meta:
        model = BundleItem
        fields = ("sort", "item_code", "after")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk and isinstance(self.instance.after, list):
            self.initial["after"] = " ".join(self.instance.after)

    def clean_item_code(self):
        return (self.cleaned_data.get("item_code") or "").strip().upper()

    def clean_after(self):
        text = (self.cleaned_data.get("after") or "").replace("，", ",").replace(",", " ")
        return [code.strip().upper() for code in text.split() if code.strip()]


class BundleItemFormSet(forms.BaseInlineFormSet):
    """Checks the whole declaration (the bundle's values as just entered, with every item row) at once."""

    def members(self) -> list[dict]:
        rows = [
            f.cleaned_data
            for f in self.forms
            if getattr(f, "cleaned_data", None)
            and not f.cleaned_data.get("DELETE")
            and f.cleaned_data.get("item_code")
        ]
        return [
            {"item_code": r["item_code"], "after": r.get("after") or [], "sort": r.get("sort") or 0}
            for r in rows
        ]

    def clean(self):
        super().clean()
        if any(self.errors):
            return
        try:
            services.bundle_validate(self.instance, self.members())
        except ValidationError as exc:
            raise ValidationError(exc.message_dict.get("members") or exc.messages) from exc


class BundleItemInline(admin.TabularInline):
    model = BundleItem
    form = BundleItemForm
    formset = BundleItemFormSet
    extra = 2
    min_num = 0
    fields = ("sort", "item_code", "after")

    def has_view_permission(self, request, obj=None):
        return admin_principal(request).has(CATALOG_MANAGE)

    def has_add_permission(self, request, obj=None):
        return _may_manage(request, obj)

    def has_change_permission(self, request, obj=None):
        return _may_manage(request, obj)

    def has_delete_permission(self, request, obj=None):
        return _may_manage(request, obj)


class BundleAdminForm(forms.ModelForm):
    class Meta:
        model = Bundle
        fields = ("code", "name", "description", "audience", "lead_department", "keywords", "sort")


def _may_manage(request, obj: Bundle | None) -> bool:
    actor = admin_principal(request)
    if obj is None or not obj.lead_department_id:
        return actor.has(CATALOG_MANAGE)
    return item_may_manage(actor, obj.lead_department)


@admin.register(Bundle)
class BundleAdmin(admin.ModelAdmin):
    form = BundleAdminForm
    inlines = (BundleItemInline,)
    list_display = ("code", "name", "audience", "lead_department", "status", "sort")
    list_filter = ("status", "audience")
    search_fields = ("code", "name", "keywords")
    list_select_related = ("lead_department",)
    raw_id_fields = ("lead_department",)
    readonly_fields = ("status", "public_id")
    actions = ("publish", "suspend")

    def get_readonly_fields(self, request, obj=None):
        return (*self.readonly_fields, "code") if obj is not None else self.readonly_fields

    def has_module_permission(self, request):
        return admin_principal(request).has(CATALOG_MANAGE)

    def has_view_permission(self, request, obj=None):
        return admin_principal(request).has(CATALOG_MANAGE)

    def has_add_permission(self, request):
        return admin_principal(request).has(CATALOG_MANAGE)

    def has_change_permission(self, request, obj=None):
        return _may_manage(request, obj)

    def has_delete_permission(self, request, obj=None):
        return False  # applications reference the bundle: suspend it instead

    def save_model(self, request, obj, form, change):
        pass  # written with its items in save_related, in one service call

    def save_related(self, request, form, formsets, change):
        members = next((fs.members() for fs in formsets if isinstance(fs, BundleItemFormSet)), [])
        data = form.cleaned_data
        saved = services.bundle_save(
            actor=admin_principal(request),
            bundle=Bundle.objects.get(pk=form.instance.pk) if change else None,
            code=data.get("code", form.instance.code),
            name=data["name"],
            audience=data["audience"],
            lead_department=data["lead_department"],
            description=data.get("description", ""),
            keywords=data.get("keywords", ""),
            sort=data.get("sort") or 0,
            members=members,
        )
        adopt(form.instance, saved)
        for formset in formsets:
            formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []

    def _run(self, request, queryset, action, done: str) -> None:
        actor = admin_principal(request)
        for bundle in queryset.select_related("lead_department"):
            try:
                result = action(actor=actor, bundle=bundle)
            except (ValidationError, PermissionDenied) as exc:
                problems = exc.messages if isinstance(exc, ValidationError) else [str(exc)]
                self.message_user(request, f"{bundle}：{'；'.join(problems)}", messages.ERROR)
            else:
                self.message_user(request, done % {"bundle": result}, messages.SUCCESS)

    @admin.action(description=gettext_lazy("发布"))
    def publish(self, request, queryset):
        self._run(request, queryset, services.bundle_publish, _("已发布：%(bundle)s"))

    @admin.action(description=gettext_lazy("暂停"))
    def suspend(self, request, queryset):
        self._run(request, queryset, services.bundle_suspend, _("已暂停：%(bundle)s"))
