"""Workbench source "通知": the receipt-requiring notices I have not read yet, due by their read_by (no deadline
sorts last)."""

from __future__ import annotations

from datetime import datetime

from django.db.models import F
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from yiwang.core.permissions import COLLAB_WORK
from yiwang.core.workbench import TodoItem, TodoQuery, after_q, workbench_source

from .models import Notice, NoticeRecipient

SOURCE = "collab.notices"


def _pending(principal):
    if principal.staff is None:
        return NoticeRecipient.objects.none()
    return NoticeRecipient.objects.filter(
        staff_id=principal.staff.pk,
        read_at__isnull=True,
        notice__status=Notice.Status.PUBLISHED,
        notice__requires_receipt=True,
    )


@workbench_source
class NoticeSource:
    id = SOURCE
    label = gettext_lazy("通知")

    def applies(self, principal) -> bool:
        return principal.has(COLLAB_WORK)  # staff roles only; no query

    def items(self, principal, query: TodoQuery) -> list[TodoItem]:
        rows = (
            _pending(principal)
            .filter(after_q(query, SOURCE, "notice__read_by", "notice__public_id"))
            .select_related("notice", "notice__department")
            .order_by(F("notice__read_by").asc(nulls_last=True), "notice__public_id")[: query.limit]
        )
        return [
            TodoItem(
                source=SOURCE,
                key=str(r.notice.public_id),
                title=r.notice.title,
                action=str(_("阅读并回执")),
                url=reverse("collab:notice_detail", args=[r.notice.public_id]),
                deadline=r.notice.read_by,
                reference=r.notice.department.name,
                state=str(_("未读")),
            )
            for r in rows
        ]

    def count(self, principal, *, due_before: datetime | None = None) -> int:
        qs = _pending(principal)
        if due_before is not None:
            qs = qs.filter(notice__read_by__isnull=False, notice__read_by__lt=due_before)
        return qs.count()
