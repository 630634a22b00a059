"""办会 as a user may reach it: the meetings convened by my department or to which I am invited (a delegating
invitee keeps seeing the meeting); anything else is 404 — also for leaders, a meeting is its department's and its
invitees' business. Lists are keyset-paged on (starts_at, public_id), newest first."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from uuid import UUID

from django.core.exceptions import ValidationError
from django.db.models import Count, Q
from django.http import Http404
from django.utils.translation import gettext as _

from yiwang.core.pagination import Page, decode_cursor, encode_cursor, invalid_cursor, page_limit
from yiwang.core.principal import Principal

from ..models import AgendaItem, Attendee, Decision, Meeting, MeetingPaper
from ..services.meetings import meeting_may_convene

__all__ = [
    "MeetingDetail",
    "attendance_summary",
    "meeting_detail",
    "meeting_get_visible",
    "meeting_list_visible_to",
    "meeting_paper_get",
    "meeting_visible_q",
]

SCOPES = ("all", "convened", "invited")


def meeting_visible_q(principal: Principal) -> Q:
    staff = principal.staff
    if staff is None:
        return Q(pk__in=[])
    return Q(department_id=staff.department_id) | Q(
        pk__in=Attendee.objects.filter(staff_id=staff.pk).values("meeting_id")
    )


def meeting_list_visible_to(
    principal: Principal, *, scope: str = "all", status: str | None = None, cursor=None, limit=20
) -> Page[Meeting]:
    """My meetings, newest first; each with `my_response` (None when I am not invited) and the counts
    `n_invited`, `n_attend`, `n_decline`, `n_delegate`, `n_pending`."""
    staff = principal.staff
    limit = page_limit(limit, 20)
    if staff is None:
        return Page(items=[], next_cursor=None)
    if scope not in SCOPES:
        raise ValidationError({"scope": _("取值不在允许范围内。")})
    if scope == "convened":
        qs = Meeting.objects.filter(department_id=staff.department_id)
    elif scope == "invited":
        qs = Meeting.objects.filter(pk__in=Attendee.objects.filter(staff_id=staff.pk).values("meeting_id"))
    else:
        qs = Meeting.objects.filter(meeting_visible_q(principal))
    if status:
        if status not in Meeting.Status.values:
            raise ValidationError({"status": _("取值不在允许范围内。")})
        qs = qs.filter(status=status)
    if cursor:
        raw = decode_cursor(cursor)
        if not isinstance(raw, list) or len(raw) != 2 or not all(isinstance(v, str) for v in raw):
            raise invalid_cursor()
        try:
            when, key = datetime.fromisoformat(raw[0]), UUID(raw[1])
        except ValueError:
            raise invalid_cursor() from None
        if when.tzinfo is None:
            raise invalid_cursor()
        qs = qs.filter(Q(starts_at__lt=when) | Q(starts_at=when, public_id__lt=key))
    qs = qs.select_related("department", "convener").annotate(
        n_invited=Count("attendees"),
        n_attend=Count("attendees", filter=Q(attendees__response=Attendee.Response.ATTEND)),
        n_decline=Count("attendees", filter=Q(attendees__response=Attendee.Response.DECLINE)),
        n_delegate=Count("attendees", filter=Q(attendees__response=Attendee.Response.DELEGATE)),
        n_pending=Count("attendees", filter=Q(attendees__response=Attendee.Response.PENDING)),
    )
    rows = list(qs.order_by("-starts_at", "-public_id")[: limit + 1])
    more = len(rows) > limit
    rows = rows[:limit]
    mine = dict(
        Attendee.objects.filter(staff_id=staff.pk, meeting__in=rows).values_list("meeting_id", "response")
    )
    for row in rows:
        row.my_response = mine.get(row.pk)
    nxt = encode_cursor([rows[-1].starts_at.isoformat(), str(rows[-1].public_id)]) if more and rows else None
    return Page(items=rows, next_cursor=nxt)


def meeting_get_visible(principal: Principal, public_id) -> Meeting:
    try:
        key = UUID(str(public_id))
    except ValueError:
        raise Http404 from None
    meeting = (
        Meeting.objects.filter(meeting_visible_q(principal), public_id=key)
        .select_related("department", "convener")
        .first()
    )
    if meeting is None:
        raise Http404
    return meeting


@dataclass
class Summary:
    invited: int = 0
    attend: int = 0
    decline: int = 0
    delegate: int = 0
    pending: int = 0
    present: int = 0
    absent: int = 0


def attendance_summary(attendees) -> Summary:
    s = Summary()
    for a in attendees:
        s.invited += 1
        setattr(s, a.response, getattr(s, a.response) + 1)
        if a.attended is True:
            s.present += 1
        elif a.attended is False:
            s.absent += 1
    return s


@dataclass
class MeetingDetail:
    meeting: Meeting
    agenda: list[AgendaItem]
    papers: list[MeetingPaper]
    attendees: list[Attendee]
    decisions: list[Decision]
    summary: Summary
    mine: Attendee | None  # my invitation
    convenes: bool  # I am on the convening side
    actions: list[str] = field(default_factory=list)
    colleagues: list = field(default_factory=list)  # whom I may delegate to


def meeting_detail(principal: Principal, meeting: Meeting) -> MeetingDetail:
    """Everything the detail page and API show, in a fixed number of queries."""
    from django.utils import timezone

    from yiwang.core.models import Staff

    agenda = list(meeting.agenda.select_related("presenter"))
    papers = list(
        MeetingPaper.objects.filter(meeting=meeting)
        .select_related("agenda_item")
        .order_by("created_at", "id")
    )
    attendees = list(
        meeting.attendees.select_related("staff", "staff__department", "delegate").order_by(
            "staff__department__code", "staff__employee_no"
        )
    )
    decisions = list(meeting.decisions.select_related("lead_department", "task"))
    staff = principal.staff
    mine = next((a for a in attendees if staff is not None and a.staff_id == staff.pk), None)
    convenes = meeting_may_convene(principal, meeting)
    status = meeting.status
    MS = Meeting.Status
    now = timezone.now()
    actions = []
    if convenes:
        if status == MS.DRAFT:
            actions.append("notify")
        if status in (MS.DRAFT, MS.NOTIFIED, MS.HELD):
            actions.append("paper")
        if status == MS.NOTIFIED and meeting.starts_at <= now:
            actions.append("hold")
        if status == MS.HELD:
            actions.append("minutes")
        if status in (MS.DRAFT, MS.NOTIFIED):
            actions.append("cancel")
    colleagues = []
    if (
        mine is not None
        and status == MS.NOTIFIED
        and meeting.starts_at > now
        and mine.response != Attendee.Response.DELEGATE
    ):
        actions.append("respond")
        invited = {a.staff_id for a in attendees}
        colleagues = [
            s
            for s in Staff.objects.filter(department_id=staff.department_id, is_active=True).order_by(
                "employee_no"
            )[:200]
            if s.pk not in invited
        ]
    return MeetingDetail(
        meeting=meeting,
        agenda=agenda,
        papers=papers,
        attendees=attendees,
        decisions=decisions,
        summary=attendance_summary(attendees),
        mine=mine,
        convenes=convenes,
        actions=actions,
        colleagues=colleagues,
    )


def meeting_paper_get(principal: Principal, meeting: Meeting, public_id) -> MeetingPaper:
    try:
        key = UUID(str(public_id))
    except ValueError:
        raise Http404 from None
    paper = MeetingPaper.objects.filter(meeting=meeting, public_id=key).first()
    if paper is None:
        raise Http404
    return paper
