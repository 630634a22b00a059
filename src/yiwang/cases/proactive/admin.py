"""Admin of 免申即享 outcomes, read-only: entitlements change only through cases.proactive.services
(evaluation, confirm, decline, grant), runs are written by the evaluation."""

from __future__ import annotations

from django.contrib import admin

from yiwang.core.admin.mixins import ReadOnlyAdminMixin
from yiwang.core.admin.org import admin_principal
from yiwang.core.permissions import CATALOG_MANAGE, POLICY_VIEW

from ..models import Entitlement, PolicyRun


class _ReadOnly(ReadOnlyAdminMixin):
    def has_module_permission(self, request):
        actor = admin_principal(request)
        return actor.has(POLICY_VIEW) or actor.has(CATALOG_MANAGE)

    def has_view_permission(self, request, obj=None):
        return self.has_module_permission(request)


@admin.register(Entitlement)
class EntitlementAdmin(_ReadOnly, admin.ModelAdmin):
    list_display = ("id", "policy", "status", "rules_version", "case", "eligible_since", "updated_at")
    list_filter = ("status", "policy")
    list_select_related = ("policy", "case")
    raw_id_fields = ("person", "organisation", "case")
    show_full_result_count = False
    fields = (
        "policy",
        "person",
        "organisation",
        "status",
        "reason",
        "rules_version",
        "results",
        "case",
        "eligible_since",
        "notified_at",
        "decided_at",
        "granted_at",
    )
    readonly_fields = fields


@admin.register(PolicyRun)
class PolicyRunAdmin(_ReadOnly, admin.ModelAdmin):
    list_display = (
        "policy",
        "kind",
        "rules_version",
        "started_at",
        "finished_at",
        "evaluated",
        "newly_eligible",
        "newly_excluded",
        "notified",
        "granted",
    )
    list_filter = ("kind", "policy")
    list_select_related = ("policy",)
    fields = (*list_display, "fail_counts")
    readonly_fields = fields


# The policy declarations' admin (a catalog model, saved through this feature's services).
from . import admin_policies  # noqa: E402,F401
