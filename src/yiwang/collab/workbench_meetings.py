"""Workbench source "会议": invitations awaiting my reply (deadline: the meeting's reply_by, else its start) and,
for the convening side (MEETING_CONVENE in the meeting's department), held meetings whose minutes are still to be
issued (no deadline; `minutes_at` is empty on every such row, so it serves as their null deadline column)."""

from __future__ import annotations

from datetime import datetime

from django.db.models import F
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from yiwang.core.permissions import COLLAB_WORK, MEETING_CONVENE
from yiwang.core.workbench import TodoItem, TodoQuery, after_q, sort_key, workbench_source

from .models import Attendee, Meeting

SOURCE = "collab.meetings"


def _invitations(principal):
    staff = principal.staff
    rows = (
        Attendee.objects.filter(
            staff_id=staff.pk, response=Attendee.Response.PENDING, meeting__status=Meeting.Status.NOTIFIED
        )
        if staff is not None
        else Attendee.objects.none()
    )
    return rows.annotate(due=Coalesce("meeting__reply_by", "meeting__starts_at"), key=F("meeting__public_id"))


def _convenes(principal) -> bool:
    return principal.staff is not None and principal.has(MEETING_CONVENE)


def _to_minute(principal):
    if not _convenes(principal):
        return Meeting.objects.none()
    return Meeting.objects.filter(department_id=principal.staff.department_id, status=Meeting.Status.HELD)


@workbench_source
class MeetingSource:
    id = SOURCE
    label = gettext_lazy("会议")

    def applies(self, principal) -> bool:
        return principal.has(COLLAB_WORK)  # staff roles only; no query

    def items(self, principal, query: TodoQuery) -> list[TodoItem]:
        invitations = (
            _invitations(principal)
            .filter(after_q(query, SOURCE, "due", "key"))
            .select_related("meeting", "meeting__department")
            .order_by("due", "key")[: query.limit]
        )
        items = [
            TodoItem(
                source=SOURCE,
                key=str(a.meeting.public_id),
                title=a.meeting.title,
                action=str(_("回复参会")),
                url=reverse("collab:meeting_detail", args=[a.meeting.public_id]),
                deadline=a.due,
                reference=a.meeting.department.name,
                state=str(Meeting.Status(a.meeting.status).label),
            )
            for a in invitations
        ]
        if not _convenes(principal):
            return sorted(items, key=sort_key)
        held = (
            _to_minute(principal)
            .filter(after_q(query, SOURCE, "minutes_at", "public_id"))
            .order_by("public_id")[: query.limit]
        )
        items += [
            TodoItem(
                source=SOURCE,
                key=str(m.public_id),
                title=m.title,
                action=str(_("印发纪要")),
                url=reverse("collab:meeting_detail", args=[m.public_id]),
                deadline=None,
                reference=timezone.localtime(m.starts_at).strftime("%Y-%m-%d"),
                state=str(Meeting.Status(m.status).label),
            )
            for m in held
        ]
        return sorted(items, key=sort_key)[: query.limit]

    def count(self, principal, *, due_before: datetime | None = None) -> int:
        invitations = _invitations(principal)
        if due_before is not None:
            return invitations.filter(due__lt=due_before).count()
        return invitations.count() + _to_minute(principal).count()
