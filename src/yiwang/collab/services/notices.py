"""通知: notices to people, roles, departments or divisions, with read receipts and reminders.

Lifecycle: draft → published → withdrawn. Publishing resolves the audience once into NoticeRecipient rows (the read
receipts) in one query over Staff, bulk-inserts them and one in-app message each; the sender is never a recipient.

Who may send (COLLAB_NOTICE) and whom they may address (`notice_reach`):
- 区领导, 办公室文秘 and the 区级系统管理员 (roles LEADER, OFFICE_CLERK, DISTRICT_ADMIN): everyone;
- any other holder (a department head): the staff of their department and the departments below it, and — when
  their department serves a town or a village — everyone in the departments at that division or below and the
  grid workers of its grids. A role chosen as audience then means "the holders of that role within this reach";
  a staff member, department or division outside it is refused with a field error on `audience`.

Reading (`notice_read`) stamps the recipient's receipt once (idempotent) and adds one to `read_count` with F().
`notices_remind_sweep` reminds unread recipients of receipt-requiring notices every `remind_every_hours` after
publishing (or after their last reminder): rows are claimed under `select_for_update(skip_locked=True)` (SQLite
takes the write lock at BEGIN), so two consumers remind each recipient once.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F, Q
from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from yiwang.core.audit import audit_record
from yiwang.core.models import Department, Division, Notification, Staff, StaffRole
from yiwang.core.permissions import COLLAB_NOTICE, Role
from yiwang.core.principal import Principal, principal_memo
from yiwang.core.selectors.org import department_subtree_ids

from ..models import Notice, NoticeAudience, NoticeRecipient

__all__ = [
    "BROAD_ROLES",
    "MAX_AUDIENCE",
    "NoticeReach",
    "notice_create",
    "notice_publish",
    "notice_read",
    "notice_withdraw",
    "notice_reach",
    "notices_remind_sweep",
]

BROAD_ROLES = frozenset({Role.LEADER, Role.OFFICE_CLERK, Role.DISTRICT_ADMIN})
MAX_AUDIENCE = 100  # entries a sender may choose on one notice
MAX_REMIND_HOURS = 24 * 30
SWEEP_BATCH = 1000
NOTIFICATION_TYPE = "collab.notice"
AK = NoticeAudience.Kind


# --- who may address whom --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class NoticeReach:
    """What a sender may address: everyone, or the departments `department_ids` plus the division `division_code`
    and everything below it (empty: no division)."""

    everyone: bool
    department_ids: frozenset[int] = frozenset()
    division_code: str = ""

    def staff_q(self, prefix: str = "") -> Q:
        """Staff within reach (`prefix` to reach Staff through a relation, e.g. "staff__")."""
        if self.everyone:
            return Q()
        q = Q(**{f"{prefix}department_id__in": self.department_ids})
        if self.division_code:
            q |= Q(**{f"{prefix}department__division__code__startswith": self.division_code})
            q |= Q(**{f"{prefix}grid__code__startswith": self.division_code})
        return q

    def department_q(self) -> Q:
        if self.everyone:
            return Q()
        q = Q(id__in=self.department_ids)
        if self.division_code:
            q |= Q(division__code__startswith=self.division_code)
        return q

    def division_q(self) -> Q:
        if self.everyone:
            return Q()
        if not self.division_code:
            return Q(pk__in=[])
        return Q(code__startswith=self.division_code)


def notice_reach(principal: Principal) -> NoticeReach:
    """Whom this principal may address (see the module's docstring); nothing without COLLAB_NOTICE."""

    def compute() -> NoticeReach:
        staff = principal.staff
        if staff is None or not principal.has(COLLAB_NOTICE):
            return NoticeReach(everyone=False)
        if principal.roles & BROAD_ROLES:
            return NoticeReach(everyone=True)
        department = staff.department
        division = department.division
        code = division.code if division.level >= Division.Level.TOWN else ""
        return NoticeReach(
            everyone=False, department_ids=frozenset(department_subtree_ids(department)), division_code=code
        )

    return principal_memo(principal, "collab.notice_reach", compute)


# --- helpers ---------------------------------------------------------------------------------------------------
def _sender(actor: Principal | None) -> Staff:
    if actor is None or actor.staff is None or not actor.has(COLLAB_NOTICE):
        raise PermissionDenied(_("只有具备发布通知权限的工作人员可以发布通知。"))
    return actor.staff


def _may_manage(actor: Principal, notice: Notice) -> bool:
    """The sender, or a notice holder of the sending department."""
    staff = actor.staff
    return (
        staff is not None
        and actor.has(COLLAB_NOTICE)
        and (notice.sender_id == staff.pk or notice.department_id == staff.department_id)
    )


def _text(value, limit: int) -> str:
    return " ".join(str(value or "").split())[:limit]


def _audit(actor, action: str, notice: Notice, after: dict | None = None) -> None:
    audit_record(
        actor=actor,
        action=f"collab.notice.{action}",
        object_type="notice",
        object_id=str(notice.public_id),
        after={"title": notice.title, "status": notice.status, **(after or {})},
    )


def _clean_audience(actor: Principal, audience: Iterable) -> list[tuple[str, str]]:
    """(kind, value) pairs checked against the registry and the actor's reach; ValidationError on `audience`."""
    pairs: list[tuple[str, str]] = []
    for entry in audience or ():
        if isinstance(entry, dict):
            kind, value = entry.get("kind"), entry.get("value")
        else:
            try:
                kind, value = entry
            except (TypeError, ValueError):
                raise ValidationError({"audience": _("收件范围格式不正确。")}) from None
        kind, value = str(kind or "").strip(), str(value or "").strip()
        if kind not in AK.values:
            raise ValidationError({"audience": _("收件范围类型只能是人员、角色、部门或区划。")})
        if not value or len(value) > 64:
            raise ValidationError({"audience": _("请选择具体的收件对象。")})
        if (kind, value) not in pairs:
            pairs.append((kind, value))
    if not pairs:
        raise ValidationError({"audience": _("请至少选择一个收件对象。")})
    if len(pairs) > MAX_AUDIENCE:
        raise ValidationError({"audience": _("收件对象最多 %(n)d 个。") % {"n": MAX_AUDIENCE}})
    reach = notice_reach(actor)
    by_kind: dict[str, set[str]] = {}
    for kind, value in pairs:
        by_kind.setdefault(kind, set()).add(value)
    unknown: list[str] = []
    outside: list[str] = []

    def check(kind: str, queryset, field: str) -> None:
        wanted = by_kind.get(kind, set())
        if not wanted:
            return
        if kind in (AK.STAFF, AK.DEPARTMENT):
            valid = set()
            for value in wanted:
                try:
                    valid.add(str(uuid.UUID(value)))
                except ValueError:
                    unknown.append(value)
            wanted = valid
        found = {str(v) for v in queryset.filter(**{f"{field}__in": wanted}).values_list(field, flat=True)}
        unknown.extend(sorted(wanted - found))
        limited = queryset.filter(**{f"{field}__in": found})
        if kind == AK.STAFF:
            inside = {str(v) for v in limited.filter(reach.staff_q()).values_list(field, flat=True)}
        elif kind == AK.DEPARTMENT:
            inside = {str(v) for v in limited.filter(reach.department_q()).values_list(field, flat=True)}
        else:
            inside = {str(v) for v in limited.filter(reach.division_q()).values_list(field, flat=True)}
        outside.extend(sorted(found - inside))

    check(AK.STAFF, Staff.objects.filter(is_active=True), "public_id")
    check(AK.DEPARTMENT, Department.objects.filter(is_active=True), "public_id")
    check(AK.DIVISION, Division.objects.filter(is_active=True), "code")
    for role in by_kind.get(AK.ROLE, ()):
        if role not in Role.values:
            unknown.append(role)
    if unknown:
        raise ValidationError(
            {"audience": _("没有这些收件对象：%(values)s") % {"values": "、".join(unknown[:5])}}
        )
    if outside:
        raise ValidationError(
            {"audience": _("这些对象不在您可发送的范围内：%(values)s") % {"values": "、".join(outside[:5])}}
        )
    # Keep the order the sender chose, normalised (UUIDs in their canonical form).
    normalised = []
    for kind, value in pairs:
        if kind in (AK.STAFF, AK.DEPARTMENT):
            value = str(uuid.UUID(value))
        if (kind, value) not in normalised:
            normalised.append((kind, value))
    return normalised


def audience_staff_q(pairs: Sequence[tuple[str, str]]) -> Q:
    """Active staff the audience means (before the reach is applied): one Q over Staff."""
    q = Q(pk__in=[])
    for kind, value in pairs:
        if kind == AK.STAFF:
            q |= Q(public_id=value)
        elif kind == AK.ROLE:
            q |= Q(id__in=StaffRole.objects.filter(role=value).values("staff_id"))
        elif kind == AK.DEPARTMENT:
            department = Department.objects.filter(public_id=value).first()
            if department is not None:
                q |= Q(department_id__in=department_subtree_ids(department))
        elif kind == AK.DIVISION:
            q |= Q(department__division__code__startswith=value) | Q(grid__code__startswith=value)
    return q


def _clean_fields(title, body, remind_every_hours, read_by) -> tuple[str, str, int, datetime | None]:
    errors: dict[str, str] = {}
    title = _text(title, 10_000)
    body = str(body or "").strip()
    if not title:
        errors["title"] = _("请填写标题。")
    elif len(title) > 200:
        errors["title"] = _("内容太长，最多 %(n)d 个字符。") % {"n": 200}
    if not body:
        errors["body"] = _("请填写正文。")
    elif len(body) > 20000:
        errors["body"] = _("内容太长，最多 %(n)d 个字符。") % {"n": 20000}
    try:
        hours = int(remind_every_hours if remind_every_hours not in (None, "") else 24)
    except (TypeError, ValueError):
        hours = -1
    if hours < 0 or hours > MAX_REMIND_HOURS:
        errors["remind_every_hours"] = _("提醒间隔应在 0 到 %(n)d 小时之间。") % {"n": MAX_REMIND_HOURS}
    if read_by is not None:
        if not isinstance(read_by, datetime) or timezone.is_naive(read_by):
            errors["read_by"] = _("阅读截止时间格式不正确。")
        elif read_by <= timezone.now():
            errors["read_by"] = _("阅读截止时间应晚于现在。")
    if errors:
        raise ValidationError(errors)
    return title, body, hours, read_by


# --- services ---------------------------------------------------------------------------------------------------
def notice_create(
    *,
    actor: Principal,
    title: str,
    body: str,
    audience: Sequence,
    requires_receipt: bool = True,
    remind_every_hours: int = 24,
    read_by: datetime | None = None,
    publish: bool = False,
) -> Notice:
    """A draft notice with its audience (kind, value); with publish=True it is published in the same
    transaction."""
    staff = _sender(actor)
    errors: dict = {}
    try:
        title, body, hours, read_by = _clean_fields(title, body, remind_every_hours, read_by)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    try:
        pairs = _clean_audience(actor, audience)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        notice = Notice.objects.create(
            title=title,
            body=body,
            sender=staff,
            department=staff.department,
            requires_receipt=bool(requires_receipt),
            remind_every_hours=hours,
            read_by=read_by,
        )
        NoticeAudience.objects.bulk_create(
            [NoticeAudience(notice=notice, kind=kind, value=value) for kind, value in pairs]
        )
        _audit(actor, "create", notice, {"audience": [list(p) for p in pairs]})
        if publish:
            _publish(actor, notice)
    return notice


def notice_publish(*, actor: Principal, notice: Notice) -> Notice:
    """Resolves the audience into receipts and tells every recipient (draft → published)."""
    _sender(actor)
    with transaction.atomic():
        row = Notice.objects.select_for_update().filter(pk=notice.pk).first()
        if row is None or not _may_manage(actor, row):
            raise Http404
        _publish(actor, row)
    notice.refresh_from_db()
    return notice


def _publish(actor: Principal, notice: Notice) -> None:
    if notice.status != Notice.Status.DRAFT:
        raise ValidationError({"status": _("只有草稿可以发布。")})
    pairs = list(notice.audience.values_list("kind", "value"))
    reach = notice_reach(actor)
    targets = list(
        Staff.objects.filter(is_active=True)
        .filter(audience_staff_q(pairs))
        .filter(reach.staff_q())
        .exclude(pk=notice.sender_id)
        .values_list("id", "account_id")
        .distinct()
    )
    if not targets:
        raise ValidationError({"audience": _("所选范围内没有可接收通知的在岗人员。")})
    now = timezone.now()
    NoticeRecipient.objects.bulk_create(
        [NoticeRecipient(notice=notice, staff_id=staff_id) for staff_id, _account in targets], batch_size=1000
    )
    link = reverse("collab:notice_detail", args=[notice.public_id])
    Notification.objects.bulk_create(
        [
            Notification(
                recipient_id=account_id,
                title=(_("通知：%(title)s") % {"title": notice.title})[:120],
                body=notice.body[:500],
                link=link,
                object_type=NOTIFICATION_TYPE,
                object_id=str(notice.public_id),
            )
            for _staff, account_id in targets
        ],
        batch_size=1000,
    )
    notice.status = Notice.Status.PUBLISHED
    notice.published_at = now
    notice.recipients_count = len(targets)
    notice.save(update_fields=["status", "published_at", "recipients_count"])
    _audit(actor, "publish", notice, {"recipients": len(targets)})


def notice_read(*, actor: Principal, notice: Notice) -> bool:
    """The actor's read receipt (once; True when this call stamped it). Http404 when they are not a recipient
    of a published notice."""
    staff = actor.staff if actor is not None else None
    if staff is None:
        raise Http404
    with transaction.atomic():
        status = (
            NoticeRecipient.objects.filter(notice_id=notice.pk, staff_id=staff.pk)
            .values_list("notice__status", flat=True)
            .first()
        )
        if status is None or status == Notice.Status.DRAFT:
            raise Http404
        if status != Notice.Status.PUBLISHED:
            return False
        now = timezone.now()
        stamped = NoticeRecipient.objects.filter(
            notice_id=notice.pk, staff_id=staff.pk, read_at__isnull=True
        ).update(read_at=now)
        if not stamped:
            return False
        Notice.objects.filter(pk=notice.pk).update(read_count=F("read_count") + 1)
        Notification.objects.filter(
            recipient_id=staff.account_id,
            object_type=NOTIFICATION_TYPE,
            object_id=str(notice.public_id),
            read_at__isnull=True,
        ).update(read_at=now)
        _audit(actor, "read", notice)
    return True


def notice_withdraw(*, actor: Principal, notice: Notice, reason: str = "") -> Notice:
    """published (or draft) → withdrawn: it leaves the recipients' inboxes and to-do lists; no more reminders."""
    _sender(actor)
    with transaction.atomic():
        row = Notice.objects.select_for_update().filter(pk=notice.pk).first()
        if row is None or not _may_manage(actor, row):
            raise Http404
        if row.status == Notice.Status.WITHDRAWN:
            raise ValidationError({"status": _("该通知已撤回。")})
        row.status = Notice.Status.WITHDRAWN
        row.save(update_fields=["status"])
        _audit(actor, "withdraw", row, {"reason": _text(reason, 200)})
    notice.refresh_from_db()
    return notice


def _due_q(now: datetime, hours: int) -> Q:
    cutoff = now - timedelta(hours=hours)
    return Q(read_at__isnull=True) & (
        Q(reminded_at__isnull=True, notice__published_at__lte=cutoff) | Q(reminded_at__lte=cutoff)
    )


def notices_remind_sweep(now: datetime | None = None) -> int:
    """One reminder to each unread recipient whose interval has passed; returns how many were reminded."""
    now = now or timezone.now()
    reminded = 0
    notices = list(
        Notice.objects.filter(
            status=Notice.Status.PUBLISHED,
            requires_receipt=True,
            remind_every_hours__gt=0,
            read_count__lt=F("recipients_count"),
            published_at__lte=now - timedelta(hours=1),
        ).only("pk", "public_id", "title", "remind_every_hours", "published_at", "read_by")
    )
    for notice in notices:
        due = _due_q(now, notice.remind_every_hours)
        while True:
            with transaction.atomic():
                rows = list(
                    NoticeRecipient.objects.select_for_update(skip_locked=True)
                    .filter(notice_id=notice.pk)
                    .filter(due)
                    .values_list("id", "staff__account_id")[:SWEEP_BATCH]
                )
                if not rows:
                    break
                ids = [pk for pk, _account in rows]
                NoticeRecipient.objects.filter(id__in=ids).update(
                    reminded_at=now, reminders=F("reminders") + 1
                )
                link = reverse("collab:notice_detail", args=[notice.public_id])
                Notification.objects.bulk_create(
                    [
                        Notification(
                            recipient_id=account_id,
                            title=(_("提醒：请阅读通知“%(title)s”") % {"title": notice.title})[:120],
                            body=_("该通知需要回执，您尚未阅读。"),
                            link=link,
                            object_type=NOTIFICATION_TYPE,
                            object_id=str(notice.public_id),
                        )
                        for _pk, account_id in rows
                    ]
                )
                audit_record(
                    actor=None,
                    action="collab.notice.remind",
                    object_type="notice",
                    object_id=str(notice.public_id),
                    after={"reminded": len(rows)},
                )
                reminded += len(rows)
            if len(rows) < SWEEP_BATCH:
                break
    return reminded
