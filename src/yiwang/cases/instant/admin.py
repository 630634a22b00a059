"""Admin of 秒批 decisions: read-only. A decision is written once, inside the submission that it decided, and
never changes (a later rule change does not re-decide the case); the back office can look, not edit."""

from __future__ import annotations

from django.contrib import admin
from django.utils.translation import gettext_lazy

from yiwang.core.admin.mixins import ReadOnlyAdminMixin

from ..models import InstantDecision


@admin.register(InstantDecision)
class InstantDecisionAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    actions = None
    show_full_result_count = False
    list_display = ("case", "item_code", "ruleset_version", "outcome", "evaluated_at")
    list_filter = ("outcome",)
    search_fields = ("=case__number", "=ruleset__item_code")
    search_help_text = gettext_lazy("按办件编号或事项编码精确查找")
    list_select_related = ("case", "ruleset")
    ordering = ("-id",)
    list_per_page = 50
    fields = ("case", "ruleset", "ruleset_version", "outcome", "evaluated_at", "results", "facts")
    readonly_fields = fields

    @admin.display(description=gettext_lazy("事项编码"), ordering="ruleset__item_code")
    def item_code(self, obj) -> str:
        return obj.ruleset.item_code
