"""Admin of 红黑名单 and 奖惩措施: the measures catalogue is configuration (edited here, each change re-evaluates
the files it reaches); list entries are shown read-only — they are created, published and removed through the
services (pages and API), which check the district, audit and re-grade."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from yiwang.cases.hooks import CreditEffect
from yiwang.core.audit import audit_record

from ..models import ListEntry, Measure
from ..services.measures import measure_validate, measures_refresh_files

EFFECT_CHOICES = [
    (CreditEffect.NO_PLEDGE, _("不适用告知承诺")),
    (CreditEffect.NO_INSTANT, _("不适用秒批")),
    (CreditEffect.PROACTIVE_REVIEW, _("免申即享须人工审核")),
    (CreditEffect.PRIORITY_INSPECTION, _("列为重点监管对象")),
    (CreditEffect.TOLERANT, _("容缺受理")),
    (CreditEffect.FAST_TRACK, _("信易批优先办理")),
]


class MeasureForm(forms.ModelForm):
    effect = forms.ChoiceField(label=_("作用"), choices=EFFECT_CHOICES)

    class Meta:
        model = Measure
        fields = ["code", "name", "list_type", "effect", "legal_basis", "description", "is_active"]

    def clean(self):
        data = super().clean()
        if data.get("list_type") and data.get("effect"):
            try:
                measure_validate(list_type=data["list_type"], effect=data["effect"])
            except ValidationError as exc:
                for field, messages in exc.message_dict.items():
                    self.add_error(field, messages)
        return data


@admin.register(Measure)
class MeasureAdmin(admin.ModelAdmin):
    form = MeasureForm
    list_display = ("code", "name", "list_type", "effect", "is_active")
    list_filter = ("list_type", "is_active")
    search_fields = ("code", "name", "legal_basis")

    def save_model(self, request, obj, form, change):
        with transaction.atomic():
            super().save_model(request, obj, form, change)
            audit_record(
                actor=None,
                action="credit.measure_change" if change else "credit.measure_add",
                object_type="credit_measure",
                object_id=obj.code,
                after={
                    "by": request.user.get_username(),
                    "list_type": obj.list_type,
                    "effect": obj.effect,
                    "is_active": obj.is_active,
                    "changed": list(form.changed_data),
                },
            )
        measures_refresh_files()

    def delete_model(self, request, obj):
        super().delete_model(request, obj)
        measures_refresh_files()

    def has_delete_permission(self, request, obj=None):
        return False  # switch a measure off (启用) instead: the checks recorded on cases name it


@admin.register(ListEntry)
class ListEntryAdmin(admin.ModelAdmin):
    list_display = (
        "public_id",
        "list_type",
        "reason",
        "department",
        "starts_on",
        "ends_on",
        "status",
        "is_published",
    )
    list_filter = ("list_type", "status", "is_published")
    search_fields = ("reason", "file__organisation__name", "file__organisation__uscc")
    list_select_related = ("department",)
    readonly_fields = [f.name for f in ListEntry._meta.fields]

    def has_add_permission(self, request):
        return False  # created through 红黑名单 pages / API (district check, audit, re-grading)

    def has_delete_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return request.method in ("GET", "HEAD")  # view only
