"""Admin of 预警 (IncidentWarning): read-only. Warnings are raised by services/warnings.py and handled through
`warning_acknowledge` (scope, note, audit), which the one action here calls for each selected open warning."""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from yiwang.core.admin.org import admin_principal
from yiwang.core.permissions import INCIDENT_SUPERVISE

from .models import IncidentWarning
from .services.warnings import warning_acknowledge


@admin.register(IncidentWarning)
class IncidentWarningAdmin(admin.ModelAdmin):
    list_display = (
        "created_at",
        "kind",
        "title",
        "count",
        "town",
        "state",
        "acknowledged_by",
        "acknowledged_at",
    )
    list_filter = ("kind", "state", "town")
    search_fields = ("title", "=key")
    list_select_related = ("town", "acknowledged_by")
    ordering = ("-id",)
    list_per_page = 50
    show_full_result_count = False
    date_hierarchy = "created_at"
    actions = ("acknowledge",)
    fields = (
        ("kind", "state"),
        "title",
        "key",
        ("category", "division", "town"),
        ("count", "baseline"),
        "created_at",
        ("acknowledged_by", "acknowledged_at"),
        "note",
    )
    readonly_fields = tuple(name for row in fields for name in (row if isinstance(row, tuple) else (row,)))
    raw_id_fields = ("incidents",)

    def has_module_permission(self, request) -> bool:
        return admin_principal(request).has(INCIDENT_SUPERVISE)

    def has_view_permission(self, request, obj=None) -> bool:
        return admin_principal(request).has(INCIDENT_SUPERVISE)

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    @admin.action(description=gettext_lazy("标记为已处理（管理后台核实）"))
    def acknowledge(self, request, queryset):
        actor = admin_principal(request)
        done = 0
        for warning in queryset.filter(state=IncidentWarning.State.OPEN).order_by("id"):
            try:
                warning_acknowledge(actor=actor, warning=warning, note=_("已在管理后台核实处理。"))
            except (ValidationError, PermissionDenied, Http404) as exc:
                messages.error(request, f"{warning.title}：{exc}")
                continue
            done += 1
        if done:
            messages.success(request, _("已处理 %(n)s 条预警。") % {"n": done})
