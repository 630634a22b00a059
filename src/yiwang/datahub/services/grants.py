"""共享授权 around the request's moves: the SLA and expiry sweeps (run by datahub.tasks), 双向评价 and disputes.

The sweeps move requests through `share_request_transition` (actor None: the system), one row at a time under its
lock, so several consumers running the same sweep mark, expire or remind each request once.
"""

from __future__ import annotations

import re
from datetime import date, datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from yiwang.core.audit import audit_record
from yiwang.core.permissions import DATA_CENTRE
from yiwang.core.principal import principal_label
from yiwang.core.workdays import add_working_days, working_calendar

from ..models.sharing import ShareDispute, ShareGrant, ShareRating, ShareRequest
from ..workflow import AWAITING_ANSWER, CENTRE, PROVIDER, REQUESTER, ShareConflict, sides_of
from .sharing import _notify_side, share_request_transition

__all__ = [
    "EXPIRY_REMINDER_WORKING_DAYS",
    "share_requests_overdue_sweep",
    "share_grants_expire_sweep",
    "share_grants_remind_sweep",
    "share_rating_create",
    "share_dispute_raise",
    "share_dispute_resolve",
    "quarter_of",
]

EXPIRY_REMINDER_WORKING_DAYS = 10
SWEEP_BATCH = 500
_PERIOD = re.compile(r"^(\d{4})-Q([1-4])$")


# --- sweeps ------------------------------------------------------------------------------------------------------
def share_requests_overdue_sweep(*, now: datetime | None = None, batch: int = SWEEP_BATCH) -> int:
    """Requests still waiting for the provider past their due time: the centre is told once (overdue_notified_at).
    Returns how many were marked."""
    now = now or timezone.now()
    marked, last_id = 0, 0
    while True:
        rows = list(
            ShareRequest.objects.filter(
                state__in=AWAITING_ANSWER, due_at__lt=now, overdue_notified_at__isnull=True, id__gt=last_id
            )
            .order_by("id")
            .only("id", "row_version", "state")[:batch]
        )
        if not rows:
            return marked
        for request in rows:
            try:
                after = share_request_transition(actor=None, request=request, move="overdue")
            except (ShareConflict, ValidationError):  # moved meanwhile: the next sweep looks again
                continue
            if getattr(after, "moved", True):
                marked += 1
        last_id = rows[-1].pk


def share_grants_expire_sweep(*, now: datetime | None = None, batch: int = SWEEP_BATCH) -> int:
    """Grants past valid_until are expired, with their requests. Returns how many."""
    now = now or timezone.now()
    expired, last_id = 0, 0
    while True:
        request_ids = list(
            ShareGrant.objects.filter(
                status__in=(ShareGrant.Status.ACTIVE, ShareGrant.Status.SUSPENDED),
                valid_until__lte=now,
                request_id__gt=last_id,
            )
            .order_by("request_id")
            .values_list("request_id", flat=True)[:batch]
        )
        if not request_ids:
            return expired
        for request in ShareRequest.objects.filter(pk__in=request_ids).order_by("id"):
            try:
                share_request_transition(actor=None, request=request, move="expire")
            except (ShareConflict, ValidationError):
                continue
            expired += 1
        last_id = request_ids[-1]


def share_grants_remind_sweep(*, today: date | None = None, batch: int = SWEEP_BATCH) -> int:
    """Reminds the requesting department of active grants ending within 10 working days, once per validity
    period (renewal clears the mark). Returns how many were reminded."""
    today = today or timezone.localdate()
    horizon = add_working_days(today, EXPIRY_REMINDER_WORKING_DAYS, working_calendar())
    limit = timezone.make_aware(datetime.combine(horizon, datetime.max.time()))
    reminded, last_id = 0, 0
    while True:
        grants = list(
            ShareGrant.objects.filter(
                status=ShareGrant.Status.ACTIVE,
                valid_until__lte=limit,
                expiry_reminded_at__isnull=True,
                id__gt=last_id,
            )
            .select_related("request", "request__resource", "request__provider", "request__requester")
            .order_by("id")[:batch]
        )
        if not grants:
            return reminded
        for grant in grants:
            with transaction.atomic():
                taken = ShareGrant.objects.filter(pk=grant.pk, expiry_reminded_at__isnull=True).update(
                    expiry_reminded_at=timezone.now()
                )
                if not taken:
                    continue
                until = timezone.localtime(grant.valid_until).date()
                _notify_side(
                    grant.request,
                    REQUESTER,
                    _("共享授权 %(number)s 即将到期") % {"number": grant.number},
                    _("%(resource)s 的共享授权将于 %(date)s 到期；如需继续使用，请联系提供部门续期。")
                    % {
                        "resource": grant.resource.name if grant.resource_id else "",
                        "date": until.isoformat(),
                    },
                )
            reminded += 1
        last_id = grants[-1].pk


# --- 双向评价 ----------------------------------------------------------------------------------------------------
def quarter_of(d: date) -> str:
    return f"{d.year}-Q{(d.month - 1) // 3 + 1}"


def share_rating_create(*, actor, grant: ShareGrant, period: str, score, comment: str = "") -> ShareRating:
    """One side of a grant rates the other for a quarter (once per side per period). The requester rates the
    provider's data and answers; the provider rates the requester's lawful, careful use."""
    sides = sides_of(actor, grant.request)
    if REQUESTER in sides:
        side = ShareRating.Side.REQUESTER
    elif PROVIDER in sides:
        side = ShareRating.Side.PROVIDER
    else:
        raise PermissionDenied(_("只有共享双方的数据专员可以评价。"))
    errors = {}
    period = str(period or "").strip()
    match = _PERIOD.match(period)
    if not match:
        errors["period"] = _("评价周期格式应为 YYYY-Qn，如 2026-Q4。")
    elif period > quarter_of(timezone.localdate()):
        errors["period"] = _("不能评价尚未开始的季度。")
    elif period < quarter_of(timezone.localtime(grant.valid_from).date()):
        errors["period"] = _("该季度授权尚未生效。")
    try:
        score = int(score)
    except (TypeError, ValueError):
        score = 0
    if not 1 <= score <= 5:
        errors["score"] = _("评分应为 1 到 5。")
    comment = str(comment or "").strip()
    if len(comment) > 2000:
        errors["comment"] = _("最多 %(n)s 个字符。") % {"n": 2000}
    if not errors and ShareRating.objects.filter(grant=grant, side=side, period=period).exists():
        errors["period"] = _("本季度已评价过。")
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        rating = ShareRating.objects.create(
            grant=grant,
            side=side,
            period=period,
            score=score,
            comment=comment,
            rated_by=principal_label(actor)[:100],
        )
        audit_record(
            actor=actor,
            action="share_grant.rate",
            object_type="share_grant",
            object_id=str(grant.public_id),
            after={"grant": grant.number, "side": side, "period": period, "score": score},
        )
    return rating


# --- disputes -----------------------------------------------------------------------------------------------------
def share_dispute_raise(*, actor, request: ShareRequest, subject: str, description: str) -> ShareDispute:
    """Either side raises a dispute; the centre is told."""
    sides = sides_of(actor, request)
    if not sides & {REQUESTER, PROVIDER}:
        raise PermissionDenied(_("只有共享双方的数据专员可以提出争议。"))
    subject, description = str(subject or "").strip(), str(description or "").strip()
    errors = {}
    if not subject:
        errors["subject"] = _("请填写事由。")
    elif len(subject) > 200:
        errors["subject"] = _("最多 %(n)s 个字符。") % {"n": 200}
    if not description:
        errors["description"] = _("请填写说明。")
    elif len(description) > 4000:
        errors["description"] = _("最多 %(n)s 个字符。") % {"n": 4000}
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        dispute = ShareDispute.objects.create(
            request=request, raised_by=actor.department, subject=subject, description=description
        )
        audit_record(
            actor=actor,
            action="share_dispute.raise",
            object_type="share_dispute",
            object_id=str(dispute.public_id),
            after={"request": request.number, "subject": subject},
        )
        _notify_side(
            request,
            CENTRE,
            _("共享争议：%(number)s") % {"number": request.number},
            _("%(department)s 提出争议：%(subject)s")
            % {"department": actor.department.name, "subject": subject},
        )
    return dispute


def share_dispute_resolve(*, actor, dispute: ShareDispute, resolution: str) -> ShareDispute:
    """The centre records how it resolved an open dispute; both sides are told."""
    if actor is None or not actor.has(DATA_CENTRE):
        raise PermissionDenied(_("只有大数据中心可以协调争议。"))
    resolution = str(resolution or "").strip()
    if not resolution:
        raise ValidationError({"resolution": _("请填写协调结果。")})
    if len(resolution) > 4000:
        raise ValidationError({"resolution": _("最多 %(n)s 个字符。") % {"n": 4000}})
    with transaction.atomic():
        locked = ShareDispute.objects.select_for_update().select_related("request").get(pk=dispute.pk)
        if locked.status != ShareDispute.Status.OPEN:
            raise ValidationError({"status": _("该争议已协调完毕。")}, code="state")
        locked.status = ShareDispute.Status.RESOLVED
        locked.resolution = resolution
        locked.resolved_by = principal_label(actor)[:100]
        locked.resolved_at = timezone.now()
        locked.save()
        audit_record(
            actor=actor,
            action="share_dispute.resolve",
            object_type="share_dispute",
            object_id=str(locked.public_id),
            after={"request": locked.request.number, "resolution": resolution},
        )
        title = _("共享争议已协调：%(number)s") % {"number": locked.request.number}
        for side in (REQUESTER, PROVIDER):
            _notify_side(locked.request, side, title, resolution)
    dispute.__dict__.update({k: v for k, v in locked.__dict__.items() if not k.startswith("_")})
    return locked
