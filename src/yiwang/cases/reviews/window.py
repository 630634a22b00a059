"""窗口协助评价: a window clerk records the rating an applicant gives at the window — for a case their hall handled,
with the applicant present. The rating itself is written by reviews.services (`_write_review`: attribution, audit,
rectification of a 差评), like the applicant's own; see reviews.services for how the applicant's own rating later
supersedes a window rating.

`review_window_code_send` then `review_submit_at_window` (channel WINDOW, `assisted_by` set). Entitled only when
(a) the case was handled at the clerk's hall — the clerk's department filed it for the applicant or acted on it (a
row of its history: 受理, 出件…); for a 一件事, on any of its sub-cases (`window_hall_handled`); a clerk of
another hall is told "not found" — and (b) the applicant is present: the clerk first has a one-time code sent to
the applicant through the notification service (in-app message and SMS to the account's phone; SMS to the
registry phone for a walk-in without an account), and the applicant tells the clerk the code. The code is kept
only as an HMAC-SM3 hash, expires after WINDOW_CODE_MINUTES, allows WINDOW_CODE_TRIES wrong tries, is bound to
the clerk who asked for it, and is replaced by a newer one; sending is limited per subject (a resend interval, a
daily cap) and per clerk (429 RateLimited). Sending, every failed try and the rating are audited (never the code).
"""

from __future__ import annotations

import hmac
import math
import secrets
from datetime import timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from yiwang.core.audit import audit_record
from yiwang.core.keystore import keystore
from yiwang.core.masking import mask_phone
from yiwang.core.models import Staff
from yiwang.core.notify import notify, notify_sms
from yiwang.core.permissions import CASE_INTAKE, Role
from yiwang.core.principal import Principal
from yiwang.core.ratelimit import RateLimited

from ..models import BundleCase, Case, Review, WindowReviewCode
from ..workflow import principal_roles
from .services import (
    _check_bundle_rateable,
    _check_case_rateable,
    _clean_rating,
    _link,
    _locked_bundle,
    _locked_case,
    _write_review,
)

__all__ = [
    "WINDOW_CODE_MINUTES",
    "WINDOW_CODE_TRIES",
    "WINDOW_CODE_RESEND_SECONDS",
    "WINDOW_CODES_PER_DAY",
    "WINDOW_CODES_PER_CLERK_HOUR",
    "window_hall_handled",
    "review_window_code_send",
    "review_submit_at_window",
]

# 窗口评价确认码 (the applicant's confirmation of a window rating)
WINDOW_CODE_MINUTES = 5  # a code is valid this long after it is sent
WINDOW_CODE_TRIES = 5  # wrong entries before a code is locked
WINDOW_CODE_RESEND_SECONDS = 60  # between two codes for the same case or 一件事
WINDOW_CODES_PER_DAY = 5  # codes per case or 一件事 in 24 hours (the applicant is not flooded)
WINDOW_CODES_PER_CLERK_HOUR = 30  # codes one clerk may send in an hour
_CODE_DIGITS = 6
_CODE_PURPOSE = "review_window_code"


# --- the window ---------------------------------------------------------------------------------------------------
def window_hall_handled(
    *, department_id: int, case: Case | None = None, bundle_case: BundleCase | None = None
) -> bool:
    """Whether the case (a 一件事: one of its sub-cases) was handled at the hall `department_id`: a window clerk of
    that department filed it for the applicant (窗口代办), or a staff member of it acted on it (a row of its
    history: 受理, 补正告知, 出件…)."""
    cases = (
        Case.objects.filter(pk=case.pk)
        if case is not None
        else Case.objects.filter(bundle_case_id=bundle_case.pk)
    )
    return cases.filter(
        Q(filed_by__department_id=department_id) | Q(history__actor_staff__department_id=department_id)
    ).exists()


def _window_clerk(actor: Principal) -> Staff:
    actor.require(CASE_INTAKE)
    staff = actor.staff
    if staff is None or not staff.is_active or Role.WINDOW_CLERK not in principal_roles(actor):
        raise PermissionDenied(_("只有在岗的综合窗口受理人员可以录入窗口评价。"))
    return staff


def _window_subject(
    staff: Staff, case: Case | None, bundle_case: BundleCase | None
) -> tuple[Case | None, BundleCase | None]:
    """Locks the subject and checks that the clerk's hall handled it (Http404 otherwise: another hall's cases are
    not disclosed) and that it may be rated at the window now (no rating of any kind yet)."""
    if (case is None) == (bundle_case is None):
        raise ValidationError({"case": _("请指定要评价的办件或一件事（二选一）。")}, code="subject")
    if case is not None:
        case = _locked_case(case)
    else:
        bundle_case = _locked_bundle(bundle_case)
    if not window_hall_handled(department_id=staff.department_id, case=case, bundle_case=bundle_case):
        raise Http404(_("没有找到该办件。"))
    if case is not None:
        _check_case_rateable(case, channel=Review.Channel.WINDOW)
    else:
        _check_bundle_rateable(bundle_case, channel=Review.Channel.WINDOW)
    return case, bundle_case


def _subject_filter(case: Case | None, bundle_case: BundleCase | None) -> Q:
    return Q(case_id=case.pk) if case is not None else Q(bundle_case_id=bundle_case.pk)


def _code_hash(code_id, code: str) -> str:
    return keystore().blind_index(f"{code_id}:{code}", purpose=_CODE_PURPOSE)


def _code_recipient(case: Case | None, bundle_case: BundleCase | None) -> tuple[object, str, str]:
    """(account or None, phone, what the clerk is told): the applicant's online account (in-app message, and an SMS
    when its person has a phone), or for a walk-in without an account the registry phone (SMS)."""
    subject = case if case is not None else bundle_case
    account = subject.applicant_account
    if account is not None:
        person = account.person if account.person_id else None
        phone = (getattr(person, "phone", "") or "").strip()
        if phone:
            return account, phone, _("网上账户消息和短信（%(phone)s）") % {"phone": mask_phone(phone)}
        return account, "", _("网上账户消息")
    person = subject.applicant_person if subject.applicant_person_id else None
    phone = (getattr(person, "phone", "") or "").strip()
    if phone:
        return None, phone, _("短信（%(phone)s）") % {"phone": mask_phone(phone)}
    return None, "", ""


def _check_send_limits(staff: Staff, subject_q: Q, now) -> None:
    """Codes for one subject: one per WINDOW_CODE_RESEND_SECONDS and WINDOW_CODES_PER_DAY in 24 hours (whoever
    sends them); one clerk: WINDOW_CODES_PER_CLERK_HOUR in an hour. Counted in the database (every web node sees
    the same rows, and the clock is the platform's). RateLimited (429 with Retry-After) over a limit."""

    def limited(free_at) -> RateLimited:
        return RateLimited(max(1, math.ceil((free_at - now).total_seconds())), "review_window_code")

    codes = WindowReviewCode.objects.filter(subject_q)
    last = codes.order_by("-created_at", "-id").values_list("created_at", flat=True).first()
    if last is not None and last + timedelta(seconds=WINDOW_CODE_RESEND_SECONDS) > now:
        raise limited(last + timedelta(seconds=WINDOW_CODE_RESEND_SECONDS))
    day = list(
        codes.filter(created_at__gt=now - timedelta(days=1))
        .order_by("created_at")
        .values_list("created_at", flat=True)
    )
    if len(day) >= WINDOW_CODES_PER_DAY:
        raise limited(day[-WINDOW_CODES_PER_DAY] + timedelta(days=1))
    hour = list(
        WindowReviewCode.objects.filter(clerk=staff, created_at__gt=now - timedelta(hours=1))
        .order_by("created_at")
        .values_list("created_at", flat=True)
    )
    if len(hour) >= WINDOW_CODES_PER_CLERK_HOUR:
        raise limited(hour[-WINDOW_CODES_PER_CLERK_HOUR] + timedelta(hours=1))


def _subject_numbers(case: Case | None, bundle_case: BundleCase | None) -> dict:
    return {"case": case.number} if case is not None else {"bundle_case": bundle_case.number}


def review_window_code_send(
    *, actor: Principal, case: Case | None = None, bundle_case: BundleCase | None = None
) -> WindowReviewCode:
    """Step 1 of a window rating: sends the applicant a one-time code (the clerk never sees it; the applicant reads
    it out when they want to rate at the window). Replaces any earlier code for the subject. RateLimited (429)
    when codes for the subject come too often or the clerk sends too many."""
    staff = _window_clerk(actor)
    with transaction.atomic():
        case, bundle_case = _window_subject(staff, case, bundle_case)
        now = timezone.now()
        subject_q = _subject_filter(case, bundle_case)
        _check_send_limits(staff, subject_q, now)
        account, phone, sent_to = _code_recipient(case, bundle_case)
        field = "case" if case is not None else "bundle_case"
        if not sent_to:
            raise ValidationError(
                {
                    field: _(
                        "申请人没有可接收验证码的网上账户或手机号，不能录入窗口评价；请申请人通过其他评价渠道评价。"
                    )
                },
                code="unreachable",
            )
        WindowReviewCode.objects.filter(subject_q, status=WindowReviewCode.Status.PENDING).update(
            status=WindowReviewCode.Status.REPLACED
        )
        code = f"{secrets.randbelow(10**_CODE_DIGITS):0{_CODE_DIGITS}d}"
        row = WindowReviewCode(
            case=case,
            bundle_case=bundle_case,
            clerk=staff,
            sent_to=str(sent_to)[:80],
            expires_at=now + timedelta(minutes=WINDOW_CODE_MINUTES),
        )
        row.code_hash = _code_hash(row.public_id, code)
        row.save()
        if case is not None:
            label = f"{case.item.name}（{case.number}）"
            link = _link("cases:detail", case.public_id)
        else:
            label = f"{bundle_case.bundle.name}（{bundle_case.number}）"
            link = _link("cases:bundle_detail", bundle_case.public_id)
        title = _("窗口评价验证码")
        body = _(
            "您正在%(hall)s窗口对%(subject)s作出服务评价，验证码 %(code)s，%(minutes)d 分钟内有效。"
            "如非您本人在窗口评价，请勿将验证码告诉他人。"
        ) % {"hall": staff.department.name, "subject": label, "code": code, "minutes": WINDOW_CODE_MINUTES}
        if account is not None:
            notify(
                recipient=account,
                title=title,
                body=body,
                link=link,
                object_type="review_window_code",
                object_id=str(row.public_id),
                sms=bool(phone),
            )
        else:
            notify_sms(address=phone, body=f"{title}。{body}")
        audit_record(
            actor=actor,
            action="review.window_code.send",
            object_type="review_window_code",
            object_id=str(row.public_id),
            after={
                **_subject_numbers(case, bundle_case),
                "clerk": staff.employee_no,
                "hall": staff.department.code,
                "sent_to": row.sent_to,
                "expires_at": row.expires_at,
            },
        )
    return row


def _clean_code(code) -> str:
    code = (code or "").strip() if isinstance(code, str) or code is None else ""
    if not (len(code) == _CODE_DIGITS and code.isascii() and code.isdecimal()):
        raise ValidationError(
            {"code": _("请输入申请人收到的 %(n)d 位验证码。") % {"n": _CODE_DIGITS}}, code="required"
        )
    return code


def _code_failure(actor: Principal, row: WindowReviewCode, reason: str) -> ValidationError:
    audit_record(
        actor=actor,
        action="review.window_code.fail",
        object_type="review_window_code",
        object_id=str(row.public_id),
        after={"reason": reason, "attempts": row.attempts, "status": row.status},
    )
    if reason == "expired":
        message = _("验证码已过期，请重新发送。")
    elif row.status == WindowReviewCode.Status.LOCKED:
        message = _("验证码错误次数过多，已失效，请重新发送。")
    else:
        message = _("验证码不正确，还可以再试 %(n)d 次。") % {"n": WINDOW_CODE_TRIES - row.attempts}
    return ValidationError({"code": message}, code=reason)


def review_submit_at_window(
    *,
    actor: Principal,
    case: Case | None = None,
    bundle_case: BundleCase | None = None,
    code,
    overall,
    scores,
    comment: str = "",
) -> Review:
    """Step 2 of a window rating (窗口协助评价): the clerk records the rating the applicant gives at the window,
    with the code the applicant received. A wrong or expired code is refused (and counted, and audited: the
    transaction commits the failure before the error is raised)."""
    staff = _window_clerk(actor)
    errors: dict = {}
    try:
        code = _clean_code(code)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    try:
        overall, scores, comment = _clean_rating(overall, scores, comment)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if errors:
        raise ValidationError(errors)
    failure: ValidationError | None = None
    with transaction.atomic():
        case, bundle_case = _window_subject(staff, case, bundle_case)
        row = (
            WindowReviewCode.objects.select_for_update()
            .filter(_subject_filter(case, bundle_case), clerk=staff)
            .order_by("-id")
            .first()
        )
        if row is None or row.status == WindowReviewCode.Status.USED:
            raise ValidationError({"code": _("请先向申请人发送验证码。")}, code="no_code")
        if row.status == WindowReviewCode.Status.REPLACED:
            raise ValidationError(
                {"code": _("已重新发送验证码，请使用申请人最新收到的验证码。")}, code="replaced"
            )
        if row.status == WindowReviewCode.Status.LOCKED:
            failure = _code_failure(actor, row, "locked")
        elif row.expires_at <= timezone.now():
            failure = _code_failure(actor, row, "expired")
        elif not hmac.compare_digest(row.code_hash, _code_hash(row.public_id, code)):
            row.attempts += 1
            if row.attempts >= WINDOW_CODE_TRIES:
                row.status = WindowReviewCode.Status.LOCKED
            row.save(update_fields=["attempts", "status"])
            failure = _code_failure(actor, row, "wrong")
        else:
            row.status = WindowReviewCode.Status.USED
            row.used_at = timezone.now()
            row.save(update_fields=["status", "used_at"])
            subject = case if case is not None else bundle_case
            return _write_review(
                actor=actor,
                case=case,
                bundle_case=bundle_case,
                account=subject.applicant_account,
                overall=overall,
                scores=scores,
                comment=comment,
                channel=Review.Channel.WINDOW,
                assisted_by=staff,
                window_code=row,
            )
    raise failure
