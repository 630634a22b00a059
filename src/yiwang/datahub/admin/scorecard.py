"""Admin of 数据治理考核 and the CDO roster, for the big-data centre (DATA_CENTRE) only.

- 首席数据官: appointed through `cdo_appoint` (checked on the form by `cdo_check`, so a taken post shows on its
  field), title and duties corrected through `cdo_update`; who and when stay fixed once saved; 免职 is an action
  (`cdo_end`, today). No deletion: ending a term keeps the roster's history.
- 考核权重: edited through `score_weights_update` (validated, audited); never added or deleted by hand (the eight
  metrics are fixed; missing ones are created with their defaults).
- 数据治理考核: read-only rows; the action 重新计算 recomputes the selected rows' periods (`scorecard_compute`).
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from yiwang.core.admin.org import admin_principal, adopt
from yiwang.core.permissions import DATA_CENTRE

from ..models import CdoAppointment, Scorecard, ScoreWeight
from ..services.scorecard import (
    cdo_appoint,
    cdo_check,
    cdo_end,
    cdo_update,
    score_weight_check,
    score_weights_update,
    scorecard_compute,
)

CDO_FIELDS = ("level", "department", "staff", "title", "duties", "appointed_on")


class _CentreOnly:
    def _allowed(self, request) -> bool:
        return admin_principal(request).has(DATA_CENTRE)

    def has_module_permission(self, request):
        return self._allowed(request)

    def has_view_permission(self, request, obj=None):
        return self._allowed(request)


def _form_errors(form: forms.Form, exc: ValidationError) -> None:
    for field, errors in exc.message_dict.items():
        for error in errors:
            form.add_error(field if field in form.fields else None, error)


class CdoAdminForm(forms.ModelForm):
    replace = forms.BooleanField(label=gettext_lazy("替换现任（现任于任命日免职）"), required=False)

    class Meta:
        model = CdoAppointment
        fields = CDO_FIELDS

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned
        try:
            if self.instance.pk is None:
                cdo_check(
                    level=cleaned.get("level"),
                    department=cleaned.get("department"),
                    staff=cleaned.get("staff"),
                    title=cleaned.get("title"),
                    appointed_on=cleaned.get("appointed_on"),
                    replace=cleaned.get("replace", False),
                )
            elif not str(cleaned.get("title") or "").strip():
                raise ValidationError({"title": _("请填写职务。")})
        except ValidationError as exc:
            _form_errors(self, exc)
        return cleaned


@admin.register(CdoAppointment)
class CdoAppointmentAdmin(_CentreOnly, admin.ModelAdmin):
    form = CdoAdminForm
    list_display = ("staff", "level", "department", "title", "appointed_on", "ended_on")
    list_filter = ("level", ("ended_on", admin.EmptyFieldListFilter))
    search_fields = ("staff__name", "title", "department__name", "department__code")
    list_select_related = ("staff", "department")
    raw_id_fields = ("staff", "department")
    readonly_fields = ("public_id", "ended_on")
    actions = ("end_today",)

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return self.readonly_fields
        return (*self.readonly_fields, "level", "department", "staff", "appointed_on")

    def get_fields(self, request, obj=None):
        if obj is None:
            return (*CDO_FIELDS, "replace")
        return ("public_id", *CDO_FIELDS, "ended_on")

    def has_add_permission(self, request):
        return self._allowed(request)

    def has_change_permission(self, request, obj=None):
        return self._allowed(request)

    def has_delete_permission(self, request, obj=None):
        return False  # end the term instead: the roster keeps its history

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        principal = admin_principal(request)
        if change:
            saved = cdo_update(
                actor=principal, appointment=obj, title=data["title"], duties=data.get("duties", "")
            )
        else:
            saved = cdo_appoint(
                actor=principal,
                level=data["level"],
                department=data.get("department"),
                staff=data["staff"],
                title=data["title"],
                duties=data.get("duties", ""),
                appointed_on=data["appointed_on"],
                replace=data.get("replace", False),
            )
        adopt(obj, saved)

    @admin.action(description=gettext_lazy("免职（今天）"))
    def end_today(self, request, queryset):
        principal = admin_principal(request)
        ended = 0
        for appointment in queryset.filter(ended_on__isnull=True)[:200]:
            try:
                cdo_end(actor=principal, appointment=appointment, note=_("管理后台免职"))
            except (ValidationError, PermissionDenied) as exc:
                self.message_user(
                    request,
                    f"{appointment}：{'；'.join(getattr(exc, 'messages', [str(exc)]))}",
                    messages.ERROR,
                )
            else:
                ended += 1
        if ended:
            self.message_user(request, _("已免职 %(n)d 人。") % {"n": ended}, messages.SUCCESS)


class ScoreWeightAdminForm(forms.ModelForm):
    class Meta:
        model = ScoreWeight
        fields = ("weight", "target", "is_active")

    def clean(self):
        cleaned = super().clean()
        if not self.errors:
            try:
                score_weight_check(self.instance.metric, cleaned)
            except ValidationError as exc:
                _form_errors(self, exc)
        return cleaned


@admin.register(ScoreWeight)
class ScoreWeightAdmin(_CentreOnly, admin.ModelAdmin):
    form = ScoreWeightAdminForm
    list_display = ("metric", "weight", "target", "is_active")
    readonly_fields = ("metric",)
    fields = ("metric", "weight", "target", "is_active")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return self._allowed(request)

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        score_weights_update(
            actor=admin_principal(request),
            changes={
                obj.metric: {
                    "weight": data["weight"],
                    "target": data.get("target"),
                    "is_active": data["is_active"],
                }
            },
        )
        obj.refresh_from_db()


@admin.register(Scorecard)
class ScorecardAdmin(_CentreOnly, admin.ModelAdmin):
    list_display = ("period", "rank", "department", "total", "computed_at")
    list_filter = ("period",)
    search_fields = ("department__name", "department__code", "period")
    list_select_related = ("department",)
    readonly_fields = ("period", "department", "rank", "total", "metrics", "computed_at")
    fields = readonly_fields
    actions = ("recompute",)
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description=gettext_lazy("重新计算所选记录的考核周期"))
    def recompute(self, request, queryset):
        principal = admin_principal(request)
        for period in sorted(set(queryset.values_list("period", flat=True)[:1000]))[:20]:
            try:
                done = scorecard_compute(actor=principal, period=period)
            except (ValidationError, PermissionDenied) as exc:
                self.message_user(
                    request, f"{period}：{'；'.join(getattr(exc, 'messages', [str(exc)]))}", messages.ERROR
                )
            else:
                self.message_user(
                    request,
                    _("%(period)s：%(n)d 个部门参加排名。") % {"period": period, "n": len(done.cards)},
                    messages.SUCCESS,
                )
