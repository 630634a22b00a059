"""Admin of 物联感知 (incident.manage): device types (metric, threshold, comparison, trigger count, debounce,
the incident category an alarm is filed under) and devices (code, type, location; the grid is found by the
service from the point; the alarm state is read-only). Every write goes through services.iot and is audited;
nothing is deleted (incidents refer to devices): deactivate instead."""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy

from yiwang.core.admin.org import admin_principal, adopt
from yiwang.core.permissions import INCIDENT_MANAGE

from .models import Device, DeviceType
from .selectors_iot import device_state
from .services.iot import device_register, device_type_clean, device_type_save, device_update


class _ManageOnly:
    def has_module_permission(self, request):
        return admin_principal(request).has(INCIDENT_MANAGE)

    def has_view_permission(self, request, obj=None):
        return admin_principal(request).has(INCIDENT_MANAGE)

    def has_add_permission(self, request):
        return admin_principal(request).has(INCIDENT_MANAGE)

    def has_change_permission(self, request, obj=None):
        return admin_principal(request).has(INCIDENT_MANAGE)

    def has_delete_permission(self, request, obj=None):
        return False


def _form_errors(form, exc: ValidationError) -> None:
    for field, errors in exc.message_dict.items():
        form.add_error(field if field in form.fields else None, errors)


@admin.register(DeviceType)
class DeviceTypeAdmin(_ManageOnly, admin.ModelAdmin):
    list_display = (
        "code",
        "name",
        "metric",
        "comparison",
        "threshold",
        "unit",
        "trigger_count",
        "debounce_seconds",
        "category",
        "is_active",
    )
    list_filter = ("comparison", "is_active")
    search_fields = ("code", "name")
    list_select_related = ("category",)
    autocomplete_fields = ()
    fields = (
        "code",
        "name",
        "metric",
        "unit",
        "comparison",
        "threshold",
        "trigger_count",
        "debounce_seconds",
        "category",
        "is_active",
    )

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        original_clean = form.clean

        def clean(form_self):
            cleaned = original_clean(form_self)
            if not form_self.errors:
                candidate = form_self.instance
                for name, value in cleaned.items():
                    setattr(candidate, name, value)
                try:  # the service's checks, so errors land on the form
                    device_type_clean(candidate)
                except ValidationError as exc:
                    _form_errors(form_self, exc)
            return cleaned

        form.clean = clean
        return form

    def save_model(self, request, obj, form, change):
        device_type_save(actor=admin_principal(request), device_type=obj)


@admin.register(Device)
class DeviceAdmin(_ManageOnly, admin.ModelAdmin):
    list_display = ("code", "name", "device_type", "grid", "last_value", "last_seen_at", "alarm", "is_active")
    list_filter = ("device_type", "is_active")
    search_fields = ("code", "name", "address")
    list_select_related = ("device_type", "grid", "alarm_incident")
    readonly_fields = (
        "grid",
        "last_value",
        "last_seen_at",
        "over_count",
        "alarm_incident",
        "last_alarm_at",
        "alarm_repeats",
    )

    def get_fields(self, request, obj=None):
        if obj is None:
            return ("code", "device_type", "name", "lon", "lat", "address", "threshold")
        return (
            "code",
            "device_type",
            "name",
            "lon",
            "lat",
            "address",
            "threshold",
            "is_active",
            *self.readonly_fields,
        )

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ()
        return ("code", "device_type", *self.readonly_fields)

    @admin.display(description=gettext_lazy("报警状态"))
    def alarm(self, obj):
        return device_state(obj)[1]

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        original_clean = form.clean
        actor = admin_principal(request)

        def clean(form_self):
            cleaned = original_clean(form_self)
            if form_self.errors:
                return cleaned
            from django.db import transaction

            try:  # the service decides (and its errors land on the form); rolled back here, saved in save_model
                with transaction.atomic():
                    try:
                        _save_device(actor, obj, cleaned)
                    finally:
                        transaction.set_rollback(True)
            except ValidationError as exc:
                _form_errors(form_self, exc)
            return cleaned

        form.clean = clean
        return form

    def save_model(self, request, obj, form, change):
        saved = _save_device(admin_principal(request), obj if change else None, form.cleaned_data)
        adopt(obj, saved)
        if not saved.grid_id:
            self.message_user(
                request,
                gettext_lazy("该设备坐标未落入任何网格，报警将按地址或交区指挥中心分拨。"),
                messages.WARNING,
            )


def _save_device(actor, existing: Device | None, data: dict) -> Device:
    if existing is None or existing.pk is None:
        kind = data.get("device_type")
        return device_register(
            actor=actor,
            code=data.get("code") or "",
            device_type_code=kind.code if kind is not None else "",
            lon=data.get("lon"),
            lat=data.get("lat"),
            name=data.get("name") or "",
            address=data.get("address") or "",
            threshold=data.get("threshold"),
        )
    return device_update(
        actor=actor,
        device=existing,
        lon=data.get("lon"),
        lat=data.get("lat"),
        name=data.get("name") or "",
        address=data.get("address") or "",
        threshold=data.get("threshold"),
        is_active=data.get("is_active", True),
    )
