"""Admin: 指标库 and 绩效考评方案, for TASK_ISSUE holders (区领导, 办公室).

- 指标: added and changed through `indicator_create` / `indicator_update` (validated, audited; the metric is chosen
  from the registry `collab.metrics`); the action 计算当前周期 runs `indicator_compute` for the selected
  indicators' current period (breaches open 督办 tasks). No deletion: values and tasks point at indicators.
- 绩效考评方案: through `plan_create` / `plan_update`; the action 计算本月得分 runs `performance_compute`.
- 指标值, 考评得分: read-only.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy

from yiwang.core.admin.org import admin_principal, adopt
from yiwang.core.permissions import TASK_ISSUE

from ..metrics import METRICS
from ..models import Indicator, IndicatorValue, PerformancePlan, PerformanceScore
from ..services.indicators import (
    EDITABLE,
    check_fields,
    indicator_compute,
    indicator_create,
    indicator_update,
    period_bounds,
)
from ..services.performance import performance_compute, plan_create, plan_update


class _IssuerOnly:
    def _allowed(self, request) -> bool:
        return admin_principal(request).has(TASK_ISSUE)

    def has_module_permission(self, request):
        return self._allowed(request)

    def has_view_permission(self, request, obj=None):
        return self._allowed(request)

    def has_add_permission(self, request, obj=None):
        return self._allowed(request)

    def has_change_permission(self, request, obj=None):
        return self._allowed(request)

    def has_delete_permission(self, request, obj=None):
        return False


class IndicatorAdminForm(forms.ModelForm):
    metric = forms.ChoiceField(label=gettext_lazy("计算公式"), choices=())

    class Meta:
        model = Indicator
        fields = ("code", *EDITABLE)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["metric"].choices = [(m.code, f"{m.label}（{m.code}）") for m in METRICS.values()]

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned
        try:
            check_fields({name: cleaned.get(name) for name in EDITABLE})
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                for error in errors:
                    self.add_error(field if field in self.fields else None, error)
        return cleaned


@admin.register(Indicator)
class IndicatorAdmin(_IssuerOnly, admin.ModelAdmin):
    form = IndicatorAdminForm
    list_display = (
        "code",
        "name",
        "metric",
        "scope",
        "category",
        "period",
        "target",
        "threshold",
        "weight",
        "is_active",
    )
    list_filter = ("scope", "category", "period", "is_active")
    search_fields = ("code", "name")
    actions = ["compute_current"]

    def get_readonly_fields(self, request, obj=None):
        return ("code",) if obj is not None else ()

    def save_model(self, request, obj, form, change):
        principal = admin_principal(request)
        data = {name: form.cleaned_data.get(name) for name in EDITABLE}
        if change:
            saved = indicator_update(actor=principal, indicator=Indicator.objects.get(pk=obj.pk), **data)
        else:
            saved = indicator_create(actor=principal, code=form.cleaned_data["code"], **data)
        adopt(obj, saved)

    @admin.action(description=gettext_lazy("计算当前周期（越限自动交办）"))
    def compute_current(self, request, queryset):
        principal = admin_principal(request)
        for indicator in queryset:
            start, end = period_bounds(indicator.period, timezone.localdate())
            try:
                done = indicator_compute(
                    actor=principal, indicator=indicator, period_start=start, period_end=end
                )
            except ValidationError as exc:
                messages.error(request, f"{indicator.code}：{'；'.join(exc.messages)}")
            else:
                messages.success(
                    request, f"{indicator.code}：{len(done.values)} / {done.breached} / {len(done.opened)}"
                )


@admin.register(IndicatorValue)
class IndicatorValueAdmin(admin.ModelAdmin):
    list_display = (
        "indicator",
        "department",
        "period_start",
        "period_end",
        "value",
        "breached",
        "computed_at",
    )
    list_filter = ("breached", "indicator")
    list_select_related = ("indicator", "department")

    def has_module_permission(self, request):
        return admin_principal(request).has(TASK_ISSUE)

    def has_view_permission(self, request, obj=None):
        return admin_principal(request).has(TASK_ISSUE)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(PerformancePlan)
class PerformancePlanAdmin(_IssuerOnly, admin.ModelAdmin):
    list_display = ("code", "name", "scope", "public_weight", "is_active")
    fields = ("code", "name", "scope", "public_weight", "indicators", "is_active")
    filter_horizontal = ("indicators",)
    actions = ["compute_month"]

    def get_readonly_fields(self, request, obj=None):
        return ("code", "scope") if obj is not None else ()

    def save_model(self, request, obj, form, change):
        principal = admin_principal(request)
        cleaned = form.cleaned_data
        if change:
            saved = plan_update(
                actor=principal,
                plan=obj,
                name=cleaned["name"],
                public_weight=cleaned["public_weight"],
                indicators=list(cleaned["indicators"]),
                is_active=cleaned["is_active"],
            )
        else:
            saved = plan_create(
                actor=principal,
                code=cleaned["code"],
                name=cleaned["name"],
                scope=cleaned["scope"],
                public_weight=cleaned["public_weight"],
                indicators=list(cleaned["indicators"]),
                is_active=cleaned["is_active"],
            )
        adopt(obj, saved)

    def save_related(self, request, form, formsets, change):
        """The service set the indicators already."""

    @admin.action(description=gettext_lazy("计算本月得分"))
    def compute_month(self, request, queryset):
        start, end = period_bounds("monthly", timezone.localdate())
        for plan in queryset:
            rows = performance_compute(
                actor=admin_principal(request), plan=plan, period_start=start, period_end=end
            )
            messages.success(request, f"{plan.code}：{len(rows)}")


@admin.register(PerformanceScore)
class PerformanceScoreAdmin(admin.ModelAdmin):
    list_display = ("plan", "period_start", "rank", "department", "score", "governance_score", "public_score")
    list_filter = ("plan",)
    list_select_related = ("plan", "department")

    def has_module_permission(self, request):
        return admin_principal(request).has(TASK_ISSUE)

    def has_view_permission(self, request, obj=None):
        return admin_principal(request).has(TASK_ISSUE)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
