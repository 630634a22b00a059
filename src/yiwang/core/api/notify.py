"""API: my notifications (站内消息). (No `from __future__ import annotations`: ninja reads the real types.)"""

from datetime import datetime

from ninja import Field, Query, Router, Schema

from ..apiutils import principal_of, requires
from ..notify import notifications_mark_read
from ..permissions import SELF_SERVICE
from ..selectors.notify import notifications_for, notifications_unread_count

router = Router(tags=["notifications"])


class NotificationOut(Schema):
    id: int = Field(description="消息序号（仅本人可见）")
    title: str
    body: str
    link: str
    object_type: str
    object_id: str
    created_at: datetime
    read_at: datetime | None


class NotificationPage(Schema):
    items: list[NotificationOut]
    next_cursor: str | None = None
    unread: int


class ReadIn(Schema):
    ids: list[int] | None = Field(None, description="要标为已读的消息；省略则全部标为已读")


class ReadOut(Schema):
    marked: int


@router.get("", response=NotificationPage, summary="我的站内消息（新消息在前）")
@requires(SELF_SERVICE)
def notification_list(
    request,
    unread_only: bool = False,
    cursor: str | None = Query(None, max_length=200),
    limit: int = Query(20, ge=1, le=100),
):
    principal = principal_of(request)
    page = notifications_for(principal, unread_only=unread_only, cursor=cursor, limit=limit)
    return {
        "items": page.items,
        "next_cursor": page.next_cursor,
        "unread": notifications_unread_count(principal),
    }


@router.post("/read", response=ReadOut, summary="标为已读")
@requires(SELF_SERVICE)
def notification_read(request, payload: ReadIn):
    return {"marked": notifications_mark_read(actor=principal_of(request), ids=payload.ids)}
