"""Reads of a person's own in-app notifications (站内消息)."""

from __future__ import annotations

from ..models import Notification
from ..pagination import Page, keyset_page
from ..permissions import SELF_SERVICE
from ..principal import Principal


def notifications_for(
    principal: Principal, *, unread_only: bool = False, cursor: str | None = None, limit: int = 20
) -> Page[Notification]:
    """The caller's own notifications, newest first. Systems have no inbox of messages."""
    principal.require(SELF_SERVICE)
    if principal.account is None:
        return Page(items=[], next_cursor=None)
    query = Notification.objects.filter(recipient=principal.account)
    if unread_only:
        query = query.filter(read_at__isnull=True)
    return keyset_page(query, key="id", cursor=cursor, limit=limit, descending=True)


def notifications_unread_count(principal: Principal) -> int:
    if principal.account is None:
        return 0
    return Notification.objects.filter(recipient=principal.account, read_at__isnull=True).count()
