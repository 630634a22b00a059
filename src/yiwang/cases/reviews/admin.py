"""Admin of 好差评: ratings, rectifications and the window confirmation codes, read-only. All change only through
cases.reviews.services (locks, audit, notifications), so the back office can filter and look but not add, edit or
delete. A code's hash is never shown."""

from __future__ import annotations

from django.contrib import admin
from django.utils.translation import gettext_lazy

from yiwang.core.admin.mixins import ReadOnlyAdminMixin

from ..models import Rectification, Review, WindowReviewCode


class RectificationInline(ReadOnlyAdminMixin, admin.StackedInline):
    model = Rectification
    extra = 0
    can_delete = False
    fields = (
        ("status", "deadline", "rounds"),
        "reply",
        ("replied_by", "replied_at"),
        ("applicant_note", "responded_at"),
        ("close_note", "closed_by", "closed_at"),
    )
    readonly_fields = (
        "status",
        "deadline",
        "rounds",
        "reply",
        "replied_by",
        "replied_at",
        "applicant_note",
        "responded_at",
        "close_note",
        "closed_by",
        "closed_at",
    )
    verbose_name_plural = gettext_lazy("差评整改")


@admin.register(Review)
class ReviewAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    actions = None
    show_full_result_count = False
    list_display = (
        "created_at",
        "case",
        "bundle_case",
        "item_name",
        "department",
        "staff",
        "overall",
        "channel",
        "superseded_at",
    )
    list_filter = ("overall", "channel", ("superseded_at", admin.EmptyFieldListFilter), "department")
    search_fields = ("=case__number", "=bundle_case__number", "=item_code")
    search_help_text = gettext_lazy("按办件编号、一件事编号或事项编码精确查找")
    list_select_related = ("case", "bundle_case", "department", "staff")
    ordering = ("-id",)
    list_per_page = 50
    date_hierarchy = "created_at"
    inlines = (RectificationInline,)
    fields = (
        ("public_id", "created_at"),
        ("case", "bundle_case"),
        ("department", "staff"),
        ("item_code", "item_name"),
        ("account", "channel", "assisted_by"),
        ("window_code", "supersedes", "superseded_at"),
        ("overall", "scores"),
        "comment",
    )
    readonly_fields = tuple(name for row in fields for name in (row if isinstance(row, tuple) else (row,)))


@admin.register(Rectification)
class RectificationAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    actions = None
    show_full_result_count = False
    list_display = ("deadline", "status", "department", "review", "rounds", "replied_at", "closed_at")
    list_filter = ("status", "department")
    search_fields = ("=review__case__number", "=review__bundle_case__number")
    search_help_text = gettext_lazy("按办件编号精确查找")
    list_select_related = ("department", "review")
    ordering = ("deadline", "id")
    list_per_page = 50
    fields = (
        ("public_id", "review"),
        ("department", "status", "deadline", "rounds"),
        "reply",
        ("replied_by", "replied_at"),
        ("applicant_note", "responded_at"),
        ("close_note", "closed_by", "closed_at"),
        "created_at",
    )
    readonly_fields = tuple(name for row in fields for name in (row if isinstance(row, tuple) else (row,)))


@admin.register(WindowReviewCode)
class WindowReviewCodeAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    actions = None
    show_full_result_count = False
    list_display = (
        "created_at",
        "case",
        "bundle_case",
        "clerk",
        "sent_to",
        "status",
        "attempts",
        "expires_at",
    )
    list_filter = ("status",)
    search_fields = ("=case__number", "=bundle_case__number", "=clerk__employee_no")
    search_help_text = gettext_lazy("按办件编号、一件事编号或工号精确查找")
    list_select_related = ("case", "bundle_case", "clerk")
    ordering = ("-id",)
    list_per_page = 50
    fields = (
        ("public_id", "created_at"),
        ("case", "bundle_case"),
        ("clerk", "sent_to"),
        ("status", "attempts", "expires_at", "used_at"),
    )
    readonly_fields = tuple(name for row in fields for name in (row if isinstance(row, tuple) else (row,)))
