"""Admin: 质量规则 (saved through `quality_rule_save`: options checked per kind, audited; 立即检查 as an action)
and the 质量检查 runs with their results (read-only). Failed rows stay on the pages (masked) and have no admin."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy

from yiwang.catalog.admin import PrettyJSONField
from yiwang.core.admin.org import admin_principal, adopt
from yiwang.core.permissions import DATA_CENTRE

from ..models import QualityResult, QualityRule, QualityRun
from ..services.quality import RULE_FIELDS, quality_rule_save, quality_rule_validate, quality_run_request


class QualityRuleAdminForm(forms.ModelForm):
    options = PrettyJSONField(
        label=gettext_lazy("规则参数"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 6, "cols": 90, "class": "vLargeTextField"}),
        help_text=gettext_lazy(
            'row_count：{"min": 1, "max": 100000}；missing/duplicate：{"max_percent": 0}；invalid：'
            '{"validator": "gb11643|gb32100|gbt2260|phone"} 或 {"valid_values": [...]}（或指定数据元）；reference：'
            '{"resource": "资源代码", "column": "code"}；consistency：{"resource": "资源代码", "column": "…", '
            '"key": "…", "other_key": "…"}；freshness：{"column": "…", "max_age_hours": 36}'
        ),
    )

    class Meta:
        model = QualityRule
        fields = ("resource", *RULE_FIELDS)

    def clean(self):
        cleaned = super().clean()
        if self.errors or cleaned.get("resource") is None:
            return cleaned
        values = {name: cleaned.get(name) for name in RULE_FIELDS}
        if values.get("options") is None:
            values["options"] = {}
        try:
            cleaned.update(quality_rule_validate(cleaned["resource"], values))
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                for error in errors:
                    self.add_error(field if field in self.fields else None, error)
        return cleaned


class _CentreOnly:
    def _allowed(self, request) -> bool:
        return admin_principal(request).has(DATA_CENTRE)

    def has_module_permission(self, request):
        return self._allowed(request)

    def has_view_permission(self, request, obj=None):
        return self._allowed(request)


@admin.register(QualityRule)
class QualityRuleAdmin(_CentreOnly, admin.ModelAdmin):
    form = QualityRuleAdminForm
    list_display = ("name", "resource", "kind", "column", "weight", "is_active", "updated_at")
    list_filter = ("kind", "is_active")
    search_fields = ("name", "resource__name", "resource__code", "column")
    list_select_related = ("resource",)
    raw_id_fields = ("resource", "element")
    actions = ("run_now",)

    def has_add_permission(self, request):
        return self._allowed(request)

    def has_change_permission(self, request, obj=None):
        return self._allowed(request)

    def has_delete_permission(self, request, obj=None):
        return False  # results refer to it: deactivate it instead

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        target = QualityRule.objects.get(pk=obj.pk) if change else None
        saved = quality_rule_save(
            actor=admin_principal(request),
            resource=data["resource"],
            rule=target,
            values={name: data[name] for name in RULE_FIELDS if name in data},
        )
        adopt(obj, saved)

    @admin.action(description=gettext_lazy("立即检查所选规则的资源"))
    def run_now(self, request, queryset):
        principal = admin_principal(request)
        queued = 0
        for resource in {rule.resource for rule in queryset.select_related("resource")}:
            try:
                quality_run_request(actor=principal, resource=resource)
                queued += 1
            except ValidationError as exc:
                self.message_user(request, f"{resource.name}：{'；'.join(exc.messages)}", messages.WARNING)
        if queued:
            self.message_user(request, gettext_lazy("已提交立即检查。"), messages.SUCCESS)


class QualityResultInline(admin.TabularInline):
    model = QualityResult
    fields = ("rule", "outcome", "rows_tested", "failed_count", "message", "objection")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(QualityRun)
class QualityRunAdmin(_CentreOnly, admin.ModelAdmin):
    list_display = (
        "resource",
        "trigger",
        "engine",
        "status",
        "done_rules",
        "total_rules",
        "quality_score",
        "freshness_score",
        "queued_at",
    )
    list_filter = ("status", "trigger", "engine")
    search_fields = ("resource__name", "resource__code")
    list_select_related = ("resource",)
    inlines = (QualityResultInline,)
    readonly_fields = (
        "resource",
        "trigger",
        "engine",
        "status",
        "total_rules",
        "done_rules",
        "rows_scanned",
        "quality_score",
        "freshness_score",
        "error",
        "contract",
        "queued_at",
        "started_at",
        "finished_at",
    )
    fields = readonly_fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
