"""Admin: the holiday and 调休 calendar. Every save and delete goes through services.calendar (audited)."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from ..models import CalendarDay
from ..services.calendar import (
    calendar_day_delete,
    calendar_day_set,
    calendar_day_validate,
    calendar_load_year,
)

_WEEKDAYS = ("一", "二", "三", "四", "五", "六", "日")


class YearFilter(admin.SimpleListFilter):
    title = gettext_lazy("年份")
    parameter_name = "year"

    def lookups(self, request, model_admin):
        years = CalendarDay.objects.dates("date", "year", order="DESC")
        return [(str(d.year), str(d.year)) for d in years]

    def queryset(self, request, queryset):
        if self.value():
            try:
                return queryset.filter(date__year=int(self.value()))
            except ValueError:
                return queryset.none()
        return queryset


class CalendarDayForm(forms.ModelForm):
    class Meta:
        model = CalendarDay
        fields = ["date", "kind", "name"]

    def clean(self):
        cleaned = super().clean()
        # The same checks the service makes, shown as field errors instead of failing on save.
        day = cleaned.get("date") or (self.instance.date if self.instance.pk else None)
        if day is not None and "kind" in cleaned and "name" in cleaned:
            try:
                calendar_day_validate(date=day, kind=cleaned["kind"], name=cleaned["name"])
            except ValidationError as exc:
                for field, errors in exc.message_dict.items():
                    self.add_error(field, errors)
        return cleaned


@admin.register(CalendarDay)
class CalendarDayAdmin(admin.ModelAdmin):
    form = CalendarDayForm
    list_display = ("date", "weekday", "kind", "name")
    list_filter = (YearFilter, "kind")
    date_hierarchy = "date"
    search_fields = ("name",)
    ordering = ("date",)
    list_per_page = 100
    actions = ["reload_years", "delete_through_service"]

    @admin.display(description=gettext_lazy("星期"))
    def weekday(self, obj: CalendarDay) -> str:
        return _("周%(day)s") % {"day": _WEEKDAYS[obj.date.weekday()]}

    def get_readonly_fields(self, request, obj=None):
        # The date is the row's identity (and the audit object id): change it by deleting and adding.
        return ("date",) if obj is not None else ()

    def get_actions(self, request):
        actions = super().get_actions(request)
        # The stock bulk delete bypasses the service (and the audit chain); ours replaces it.
        actions.pop("delete_selected", None)
        return actions

    def save_model(self, request, obj, form, change):
        saved = calendar_day_set(actor=request.user, date=obj.date, kind=obj.kind, name=obj.name)
        obj.pk = saved.pk
        obj._state.adding = False
        obj._state.db = saved._state.db

    def delete_model(self, request, obj):
        calendar_day_delete(actor=request.user, date=obj.date)

    def delete_queryset(self, request, queryset):
        for day in queryset.order_by("date"):
            calendar_day_delete(actor=request.user, date=day.date)

    @admin.action(description=gettext_lazy("删除所选日期（记入审计）"), permissions=["delete"])
    def delete_through_service(self, request, queryset):
        count = 0
        for day in queryset.order_by("date"):
            count += calendar_day_delete(actor=request.user, date=day.date)
        self.message_user(request, _("已删除 %(count)d 条记录") % {"count": count}, messages.SUCCESS)

    @admin.action(description=gettext_lazy("按官方安排重新载入所选日期所在年份"), permissions=["change"])
    def reload_years(self, request, queryset):
        years = sorted({d.year for d in queryset.dates("date", "year")})
        for year in years:
            try:
                count = calendar_load_year(actor=request.user, year=year)
            except ValidationError as exc:
                self.message_user(request, "；".join(exc.messages), messages.ERROR)
                continue
            except PermissionDenied as exc:
                self.message_user(request, str(exc), messages.ERROR)
                return
            self.message_user(
                request,
                _("%(year)s 年：%(count)d 条记录已新增或更新") % {"year": year, "count": count},
                messages.SUCCESS,
            )
