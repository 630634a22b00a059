"""Admin: 采集器 (options validated by the plugin's schema, saved through `harvester_save`, audited) and the
采集记录 (read-only; the 离岸库 records themselves are encrypted personal data and have no admin)."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy

from yiwang.catalog.admin import PrettyJSONField
from yiwang.core.admin.org import admin_principal, adopt
from yiwang.core.permissions import DATA_CENTRE

from ..harvesters import harvester_choices
from ..models import Harvester, HarvestRun
from ..services.returnflow import HARVESTER_FIELDS, harvest_request, harvester_save, harvester_validate


class HarvesterAdminForm(forms.ModelForm):
    plugin = forms.ChoiceField(label=gettext_lazy("采集方式"), choices=())
    options = PrettyJSONField(
        label=gettext_lazy("插件参数"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 8, "cols": 90, "class": "vLargeTextField"}),
        help_text=gettext_lazy(
            'file_drop：{"directory": "dibao", "format": "csv|json|auto", "encoding": "auto|utf-8|gb18030", '
            '"max_bytes": 20971520}；http_pull：{"url": "https://…", "token": "…", "timeout_seconds": 15, '
            '"max_bytes": 20971520, "rows_path": "data.rows"}；均可加 "max_invalid_percent": 5（无效记录占比上限）。'
        ),
    )

    class Meta:
        model = Harvester
        fields = HARVESTER_FIELDS

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["plugin"].choices = harvester_choices()

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned
        values = {name: cleaned.get(name) for name in HARVESTER_FIELDS if name in cleaned}
        if values.get("options") is None:
            values["options"] = {}
        try:
            cleaned.update(harvester_validate(values))
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                for error in errors:
                    self.add_error(field if field in self.fields else None, error)
        return cleaned


@admin.register(Harvester)
class HarvesterAdmin(admin.ModelAdmin):
    form = HarvesterAdminForm
    list_display = ("name", "plugin", "source_name", "resource", "is_active", "next_run_at", "current_run")
    list_filter = ("plugin", "is_active")
    search_fields = ("name", "source_name", "resource__name", "resource__code")
    list_select_related = ("resource", "current_run")
    raw_id_fields = ("resource",)
    actions = ("run_now",)

    def _allowed(self, request) -> bool:
        return admin_principal(request).has(DATA_CENTRE)

    def has_module_permission(self, request):
        return self._allowed(request)

    def has_view_permission(self, request, obj=None):
        return self._allowed(request)

    def has_add_permission(self, request):
        return self._allowed(request)

    def has_change_permission(self, request, obj=None):
        return self._allowed(request)

    def has_delete_permission(self, request, obj=None):
        return False  # runs and the 离岸库 refer to it: deactivate it instead

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        target = Harvester.objects.get(pk=obj.pk) if change else Harvester()
        saved = harvester_save(
            actor=admin_principal(request),
            harvester=target,
            values={name: data[name] for name in HARVESTER_FIELDS if name in data},
        )
        adopt(obj, saved)

    @admin.action(description=gettext_lazy("立即采集"))
    def run_now(self, request, queryset):
        principal = admin_principal(request)
        queued = 0
        for harvester in queryset:
            try:
                harvest_request(actor=principal, harvester=harvester)
                queued += 1
            except ValidationError as exc:
                self.message_user(request, f"{harvester.name}：{'；'.join(exc.messages)}", messages.WARNING)
        if queued:
            self.message_user(request, gettext_lazy("已提交立即采集。"), messages.SUCCESS)


@admin.register(HarvestRun)
class HarvestRunAdmin(admin.ModelAdmin):
    list_display = ("harvester", "started_at", "finished_at", "status", "rows_read", "rows_written", "error")
    list_filter = ("status",)
    list_select_related = ("harvester",)
    search_fields = ("harvester__name",)
    readonly_fields = (
        "harvester",
        "started_at",
        "finished_at",
        "status",
        "rows_read",
        "rows_written",
        "error",
        "source_digest",
        "provenance",
    )
    fields = readonly_fields

    def has_module_permission(self, request):
        return admin_principal(request).has(DATA_CENTRE)

    def has_view_permission(self, request, obj=None):
        return admin_principal(request).has(DATA_CENTRE)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
