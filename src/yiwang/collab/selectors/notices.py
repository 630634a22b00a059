"""通知 as a user may reach them.

- inbox: the published notices addressed to me (my receipts), newest first, or unread first then read;
- sent: the notices of my department (COLLAB_NOTICE holders), newest first, with receipt figures;
- one notice: visible to its recipients (not while a draft) and to the sending department's notice holders;
  anyone else gets 404, whatever they guess;
- who has not read a notice (the sender's side), keyset-paged by employee number.

Pages are keyset-paged on public columns (dates, UUIDs, employee numbers), never on integer ids.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from django.core.exceptions import ValidationError
from django.db.models import Q
from django.http import Http404
from django.utils.translation import gettext as _

from yiwang.core.models import Department, Division, Staff
from yiwang.core.pagination import Page, decode_cursor, encode_cursor, page_limit
from yiwang.core.permissions import COLLAB_NOTICE, Role
from yiwang.core.principal import Principal

from ..models import Notice, NoticeAudience, NoticeRecipient
from ..services.notices import notice_reach

__all__ = [
    "NoticeView",
    "audience_label",
    "audience_search",
    "notice_get_visible",
    "notice_inbox",
    "notice_sent",
    "notice_unread_recipients",
]

_BAD_CURSOR = _("分页游标无效，请从第一页重新开始。")


def _bad_cursor() -> ValidationError:
    return ValidationError({"cursor": _BAD_CURSOR}, code="cursor")


def _decode(cursor: str | None, size: int) -> list | None:
    if not cursor:
        return None
    value = decode_cursor(cursor)
    if not isinstance(value, list) or len(value) != size or not all(isinstance(v, str) for v in value):
        raise _bad_cursor()
    return value


def _when(text: str) -> datetime:
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise _bad_cursor() from None
    if value.tzinfo is None:
        raise _bad_cursor()
    return value


def _uuid(text: str) -> UUID:
    try:
        return UUID(text)
    except ValueError:
        raise _bad_cursor() from None


# --- inbox -----------------------------------------------------------------------------------------------------------
def _inbox_rows(qs, after: tuple[datetime, UUID] | None, n: int) -> list[NoticeRecipient]:
    if after is not None:
        when, key = after
        qs = qs.filter(
            Q(notice__published_at__lt=when) | Q(notice__published_at=when, notice__public_id__lt=key)
        )
    return list(qs.order_by("-notice__published_at", "-notice__public_id")[:n])


def notice_inbox(
    principal: Principal, *, unread_first: bool = False, unread_only: bool = False, cursor=None, limit=20
) -> Page[NoticeRecipient]:
    """My receipts of published notices (with .notice, its department and sender), newest first; unread_first:
    every unread one first, then the read ones; unread_only: only those."""
    staff = principal.staff
    limit = page_limit(limit, 20)
    if staff is None:
        return Page(items=[], next_cursor=None)
    base = NoticeRecipient.objects.filter(
        staff_id=staff.pk, notice__status=Notice.Status.PUBLISHED
    ).select_related("notice", "notice__department", "notice__sender")
    if unread_only:
        base = base.filter(read_at__isnull=True)
    if not unread_first or unread_only:
        raw = _decode(cursor, 2)
        after = (_when(raw[0]), _uuid(raw[1])) if raw else None
        rows = _inbox_rows(base, after, limit + 1)
        more = len(rows) > limit
        rows = rows[:limit]
        last = rows[-1].notice if rows else None
        nxt = encode_cursor([last.published_at.isoformat(), str(last.public_id)]) if more and last else None
        return Page(items=rows, next_cursor=nxt)
    raw = _decode(cursor, 3)
    phase = raw[0] if raw else "u"
    if phase not in ("u", "r"):
        raise _bad_cursor()
    after = (_when(raw[1]), _uuid(raw[2])) if raw else None
    rows: list[NoticeRecipient] = []
    if phase == "u":
        rows = _inbox_rows(base.filter(read_at__isnull=True), after, limit + 1)
        if len(rows) <= limit:
            rows += _inbox_rows(base.filter(read_at__isnull=False), None, limit + 1 - len(rows))
    else:
        rows = _inbox_rows(base.filter(read_at__isnull=False), after, limit + 1)
    more = len(rows) > limit
    rows = rows[:limit]
    nxt = None
    if more and rows:
        last = rows[-1]
        nxt = encode_cursor(
            [
                "u" if last.read_at is None else "r",
                last.notice.published_at.isoformat(),
                str(last.notice.public_id),
            ]
        )
    return Page(items=rows, next_cursor=nxt)


def notice_unread_count(principal: Principal) -> int:
    staff = principal.staff
    if staff is None:
        return 0
    return NoticeRecipient.objects.filter(
        staff_id=staff.pk, notice__status=Notice.Status.PUBLISHED, read_at__isnull=True
    ).count()


# --- sent ------------------------------------------------------------------------------------------------------------
def notice_sent(principal: Principal, *, status: str | None = None, cursor=None, limit=20) -> Page[Notice]:
    """The notices of my department, newest first (COLLAB_NOTICE holders; nothing otherwise)."""
    staff = principal.staff
    limit = page_limit(limit, 20)
    if staff is None or not principal.has(COLLAB_NOTICE):
        return Page(items=[], next_cursor=None)
    qs = Notice.objects.filter(department_id=staff.department_id).select_related("sender", "department")
    if status:
        if status not in Notice.Status.values:
            raise ValidationError({"status": _("取值不在允许范围内。")})
        qs = qs.filter(status=status)
    raw = _decode(cursor, 2)
    if raw:
        when, key = _when(raw[0]), _uuid(raw[1])
        qs = qs.filter(Q(created_at__lt=when) | Q(created_at=when, public_id__lt=key))
    rows = list(qs.order_by("-created_at", "-public_id")[: limit + 1])
    more = len(rows) > limit
    rows = rows[:limit]
    nxt = encode_cursor([rows[-1].created_at.isoformat(), str(rows[-1].public_id)]) if more and rows else None
    return Page(items=rows, next_cursor=nxt)


# --- one notice ------------------------------------------------------------------------------------------------------
@dataclass
class NoticeView:
    notice: Notice
    receipt: NoticeRecipient | None  # mine, when I am a recipient
    manages: bool  # I am on the sending side (may see receipts, publish, withdraw)


def notice_get_visible(principal: Principal, public_id) -> NoticeView:
    try:
        key = UUID(str(public_id))
    except ValueError:
        raise Http404 from None
    notice = Notice.objects.select_related("sender", "department").filter(public_id=key).first()
    staff = principal.staff
    if notice is None or staff is None:
        raise Http404
    manages = principal.has(COLLAB_NOTICE) and notice.department_id == staff.department_id
    receipt = None
    if notice.status != Notice.Status.DRAFT:
        receipt = NoticeRecipient.objects.filter(notice=notice, staff_id=staff.pk).first()
    if receipt is None and not manages:
        raise Http404
    return NoticeView(notice=notice, receipt=receipt, manages=manages)


def notice_unread_recipients(principal: Principal, view: NoticeView, *, cursor=None, limit=50) -> Page[Staff]:
    """Who has not read it yet (the sending side only), by employee number."""
    if not view.manages:
        raise Http404
    limit = page_limit(limit, 50)
    qs = Staff.objects.filter(
        notices__notice_id=view.notice.pk, notices__read_at__isnull=True
    ).select_related("department")
    raw = _decode(cursor, 1)
    if raw:
        qs = qs.filter(employee_no__gt=raw[0])
    rows = list(qs.order_by("employee_no")[: limit + 1])
    more = len(rows) > limit
    rows = rows[:limit]
    return Page(items=rows, next_cursor=encode_cursor([rows[-1].employee_no]) if more and rows else None)


# --- the audience picker ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class AudienceOption:
    kind: str
    value: str
    label: str


def audience_search(principal: Principal, *, kind: str, q: str = "", limit: int = 20) -> list[AudienceOption]:
    """What the sender may choose of one kind, matching `q` (name or code), within their reach."""
    reach = notice_reach(principal)
    q = " ".join(str(q or "").split())[:50]
    limit = max(1, min(int(limit or 20), 50))
    if not principal.has(COLLAB_NOTICE):
        return []
    if kind == NoticeAudience.Kind.ROLE:
        return [
            AudienceOption(kind, value, str(label))
            for value, label in Role.choices
            if not q or q in str(label) or q in value
        ][:limit]
    if kind == NoticeAudience.Kind.STAFF:
        qs = Staff.objects.filter(is_active=True).filter(reach.staff_q()).select_related("department")
        if q:
            qs = qs.filter(Q(name__icontains=q) | Q(employee_no__icontains=q))
        return [
            AudienceOption(kind, str(s.public_id), f"{s.name}（{s.department.name}）")
            for s in qs.order_by("employee_no")[:limit]
        ]
    if kind == NoticeAudience.Kind.DEPARTMENT:
        qs = Department.objects.filter(is_active=True).filter(reach.department_q())
        if q:
            qs = qs.filter(Q(name__icontains=q) | Q(code__icontains=q))
        return [AudienceOption(kind, str(d.public_id), d.name) for d in qs.order_by("code")[:limit]]
    if kind == NoticeAudience.Kind.DIVISION:
        qs = Division.objects.filter(is_active=True, level__lt=Division.Level.GRID).filter(reach.division_q())
        if q:
            qs = qs.filter(Q(name__icontains=q) | Q(code__startswith=q))
        return [AudienceOption(kind, d.code, f"{d.name}（{d.code}）") for d in qs.order_by("code")[:limit]]
    raise ValidationError({"kind": _("收件范围类型只能是人员、角色、部门或区划。")})


def audience_label(entries) -> list[AudienceOption]:
    """Readable labels of a notice's chosen audience (one query per kind present)."""
    entries = list(entries)
    staff_ids = [e.value for e in entries if e.kind == NoticeAudience.Kind.STAFF]
    dept_ids = [e.value for e in entries if e.kind == NoticeAudience.Kind.DEPARTMENT]
    div_codes = [e.value for e in entries if e.kind == NoticeAudience.Kind.DIVISION]
    names: dict[tuple[str, str], str] = {}
    if staff_ids:
        for s in Staff.objects.filter(public_id__in=staff_ids).select_related("department"):
            names[("staff", str(s.public_id))] = f"{s.name}（{s.department.name}）"
    if dept_ids:
        for d in Department.objects.filter(public_id__in=dept_ids):
            names[("department", str(d.public_id))] = d.name
    if div_codes:
        for d in Division.objects.filter(code__in=div_codes):
            names[("division", d.code)] = d.name
    roles = dict(Role.choices)
    out = []
    for e in entries:
        label = (
            str(roles.get(e.value, e.value)) if e.kind == "role" else names.get((e.kind, e.value), e.value)
        )
        out.append(AudienceOption(e.kind, e.value, label))
    return out
