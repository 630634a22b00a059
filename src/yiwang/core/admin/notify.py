"""Admin: notifications and the SMS outbox, read-only (they are written by core.notify, delivered by a task).
The outbox address (a phone number) is shown masked."""

from __future__ import annotations

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from ..masking import mask_phone
from ..models import Notification, OutboxMessage
from .mixins import ReadOnlyAdminMixin


class _ReadOnlyAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    actions = None
    show_full_result_count = False


@admin.register(Notification)
class NotificationAdmin(_ReadOnlyAdmin):
    list_display = ("id", "recipient", "title", "object_type", "object_id", "created_at", "read_at")
    list_select_related = ("recipient",)
    list_filter = ("object_type",)
    search_fields = ("=recipient__username", "=object_id")
    ordering = ("-id",)
    fields = ("recipient", "title", "body", "link", "object_type", "object_id", "created_at", "read_at")
    readonly_fields = fields


@admin.register(OutboxMessage)
class OutboxMessageAdmin(_ReadOnlyAdmin):
    list_display = (
        "id",
        "channel",
        "masked_address",
        "status",
        "attempts",
        "last_error",
        "created_at",
        "sent_at",
    )
    list_filter = ("channel", "status")
    ordering = ("-id",)
    fields = (
        "channel",
        "recipient_account",
        "masked_address",
        "body",
        "status",
        "attempts",
        "last_error",
        "created_at",
        "sent_at",
    )
    readonly_fields = fields

    @admin.display(description=_("接收地址"))
    def masked_address(self, obj: OutboxMessage) -> str:
        return mask_phone(obj.address)
