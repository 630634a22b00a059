"""好差评 (service ratings) and 差评整改 (rectification of bad ratings).

Standard: 《国务院办公厅关于建立政务服务“好差评”制度提高政务服务水平的意见》（国办发〔2019〕51号） and
GB/T 39735-2020《政务服务评价工作指南》: after a case concludes the applicant rates it once, overall on five
levels (非常满意 … 非常不满意) and on the standard dimensions; 差评 (不满意、非常不满意) are verified and rectified
by the department, the applicant is told the result and may confirm or reject it, a supervisor closes the matter.

- `review_submit`: the applicant's own account rates a concluded case (APPROVED/DENIED/REJECTED/REVOKED) or a
  concluded 一件事 (BundleCase), once. A sub-case of a bundle is rated through its bundle. The subject row is
  locked while the rating is written and the unique constraints decide a race: the loser gets a Chinese
  field error, never a 500.
- 窗口协助评价 (a window clerk records the rating the applicant gives at the window, channel WINDOW): see
  reviews/window.py — only the hall that handled the case, only with the applicant's one-time code.
- The applicant's own rating is never pre-empted: `review_submit` is refused only by an earlier *online* rating.
  Over a window rating it supersedes it — the window rating stays on record with `superseded_at`, drops out of
  the reports, and a rectification it opened that is not closed ends as SUPERSEDED (the heads are told); the
  applicant's rating opens its own rectification when it is a 差评. A window rating is possible only while the
  subject has no rating at all.
- Attribution: department = the case's department (bundle: its lead department); staff = the staff member on
  the history row that took the decision (approve/deny) or, without one, that concluded the case
  (reviews.selectors.decision_staff); a bundle is rated as a whole for its lead department (no single staff
  member); item code and name are copied so later catalogue edits do not rewrite history.
- A 差评 (overall ≤ 2) opens a Rectification due in RECTIFY_DAYS working days and notifies the department heads.
  `rectification_reply` → REPLIED; `rectification_respond` → CONFIRMED or REJECTED (a new deadline: the
  department must reply again); `rectification_close` → CLOSED. Each step locks the row and is audited.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from yiwang.core.audit import audit_record
from yiwang.core.models import Staff
from yiwang.core.notify import notify
from yiwang.core.permissions import (
    REVIEW_RECTIFY,
    REVIEW_SUPERVISE,
    SELF_SERVICE,
)
from yiwang.core.principal import Principal
from yiwang.core.selectors.org import department_heads_nearest
from yiwang.core.workdays import working_calendar

from .. import sla
from ..models import BundleCase, Case, Rectification, Review, WindowReviewCode
from ..workflow import ancestors_or_self, district_of

__all__ = [
    "REVIEW_DIMENSIONS",
    "OVERALL_LEVELS",
    "BAD_MAX",
    "GOOD_MIN",
    "RECTIFY_DAYS",
    "COMMENT_MAX",
    "CONCLUDED_STATES",
    "review_submit",
    "rectification_reply",
    "rectification_respond",
    "rectification_close",
    "rectification_remind_overdue",
]

# The standard dimensions of a rating (GB/T 39735-2020 评价内容, 国办发〔2019〕51号): code → label.
REVIEW_DIMENSIONS: dict[str, object] = {
    "guide": gettext_lazy("办事指南清晰"),
    "process": gettext_lazy("办理流程便捷"),
    "timeliness": gettext_lazy("办理时效"),
    "attitude": gettext_lazy("服务态度"),
    "result": gettext_lazy("办理结果"),
}
# The five levels of 国办发〔2019〕51号, 5 best.
OVERALL_LEVELS: dict[int, object] = {
    5: gettext_lazy("非常满意"),
    4: gettext_lazy("满意"),
    3: gettext_lazy("基本满意"),
    2: gettext_lazy("不满意"),
    1: gettext_lazy("非常不满意"),
}
BAD_MAX = 2  # 差评: 不满意 and 非常不满意
GOOD_MIN = 4  # 满意 and 非常满意 count as satisfied (reviews.selectors: satisfaction rate)
RECTIFY_DAYS = 5  # working days to reply to a 差评 (and again after the applicant rejects the reply)
COMMENT_MAX = 500
TEXT_MAX = 2000
CONCLUDED_STATES = (Case.State.APPROVED, Case.State.DENIED, Case.State.REJECTED, Case.State.REVOKED)


# --- small helpers ------------------------------------------------------------------------------------------
def _link(name: str, *args) -> str:
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return ""


def _clean_rating(overall, scores, comment) -> tuple[int, dict[str, int], str]:
    errors: dict[str, str] = {}
    value = _level(overall)
    if value is None:
        errors["overall"] = _("请选择总体评价（1—5）。")
    cleaned: dict[str, int] = {}
    if not isinstance(scores, Mapping):
        errors["scores"] = _("分项评价格式无效。")
    else:
        unknown = sorted(str(k) for k in scores if k not in REVIEW_DIMENSIONS)
        if unknown:
            errors["scores"] = _("没有这些评价项：%(codes)s。") % {"codes": "、".join(unknown)}
        for code, label in REVIEW_DIMENSIONS.items():
            level = _level(scores.get(code))
            if level is None:
                errors[f"scores.{code}"] = _("请为“%(label)s”选择 1—5 分。") % {"label": label}
            else:
                cleaned[code] = level
    comment = (comment or "").strip() if isinstance(comment, str) or comment is None else None
    if comment is None:
        errors["comment"] = _("评价内容应为文本。")
    elif len(comment) > COMMENT_MAX:
        errors["comment"] = _("评价内容最多 %(max)d 个字。") % {"max": COMMENT_MAX}
    if errors:
        raise ValidationError(errors)
    return value, cleaned, comment


def _level(raw) -> int | None:
    if isinstance(raw, bool):
        return None
    try:
        value = int(str(raw).strip()) if not isinstance(raw, int) else raw
    except (TypeError, ValueError):
        return None
    return value if 1 <= value <= 5 else None


def _clean_text(text, *, field: str, required: bool, what: str) -> str:
    text = (text or "").strip() if isinstance(text, str) or text is None else ""
    if required and not text:
        raise ValidationError({field: what}, code="required")
    if len(text) > TEXT_MAX:
        raise ValidationError({field: _("最多 %(max)d 个字。") % {"max": TEXT_MAX}}, code="max_length")
    return text


def _review_snapshot(review: Review) -> dict:
    return {
        "case": review.case.number if review.case_id else None,
        "bundle_case": review.bundle_case.number if review.bundle_case_id else None,
        "department": review.department.code,
        "item_code": review.item_code,
        "staff": review.staff.employee_no if review.staff_id else None,
        "channel": review.channel,
        "assisted_by": review.assisted_by.employee_no if review.assisted_by_id else None,
        "window_code": str(review.window_code.public_id) if review.window_code_id else None,
        "supersedes": str(review.supersedes.public_id) if review.supersedes_id else None,
        "overall": review.overall,
        "scores": review.scores,
        "comment_length": len(review.comment),
    }


def _rect_snapshot(rect: Rectification) -> dict:
    return {"status": rect.status, "deadline": rect.deadline, "rounds": rect.rounds}


def _audit_rect(actor, action: str, rect: Rectification, *, before: dict | None = None, **after) -> None:
    audit_record(
        actor=actor,
        action=action,
        object_type="rectification",
        object_id=str(rect.public_id),
        before=before,
        after={**_rect_snapshot(rect), "review": str(rect.review.public_id), **after},
    )


def _notify_heads(rect: Rectification, *, title: str, body: str) -> list[str]:
    link = _link("cases:rectification", rect.public_id)
    notified = []
    for head in department_heads_nearest(rect.department_id):
        notify(
            recipient=head.account,
            title=title,
            body=body,
            link=link,
            object_type="rectification",
            object_id=str(rect.public_id),
        )
        notified.append(head.employee_no)
    return notified


def _notify_rater(rect: Rectification, *, title: str, body: str, sms: bool = False) -> None:
    review = rect.review
    if review.account_id is None:
        return  # a walk-in applicant without an online account: the window tells them in person
    notify(
        recipient=review.account,
        title=title,
        body=body,
        link=_link("cases:rectification", rect.public_id),
        object_type="rectification",
        object_id=str(rect.public_id),
        sms=sms,
    )


def _subject_label(review: Review) -> str:
    number = review.case.number if review.case_id else review.bundle_case.number
    return f"{review.item_name}（{number}）"


def _lock_rect(rect: Rectification) -> Rectification:
    return (
        Rectification.objects.select_for_update(of=("self",))
        .select_related(
            "department",
            "review__case",
            "review__bundle_case",
            "review__department",
            "review__account",
            "review__staff",
        )
        .get(pk=rect.pk)
    )


def _new_deadline(today: date) -> date:
    return sla.due_after(today, RECTIFY_DAYS, working_calendar())


# --- attribution ---------------------------------------------------------------------------------------------
def _attribution_for_case(case: Case) -> dict:
    from .selectors import decision_staff_id

    staff_id = decision_staff_id(case)
    return {
        "department_id": case.department_id,
        "item_code": case.item.code,
        "item_name": case.item.name[:120],
        "staff_id": staff_id,
    }


def _attribution_for_bundle(bundle_case: BundleCase) -> dict:
    bundle = bundle_case.bundle
    return {
        "department_id": bundle.lead_department_id,
        "item_code": bundle.code[:40],
        "item_name": bundle.name[:120],
        "staff_id": None,  # a 一件事 is rated as a whole, for its lead department
    }


def _locked_case(case: Case) -> Case:
    return (
        Case.objects.select_for_update(of=("self",))
        .select_related("item", "department__division")
        .get(pk=case.pk)
    )


def _locked_bundle(bundle_case: BundleCase) -> BundleCase:
    return (
        BundleCase.objects.select_for_update(of=("self",))
        .select_related("bundle__lead_department__division")
        .get(pk=bundle_case.pk)
    )


def _blocking_ratings(channel: str):
    """An online rating is refused only by an earlier online rating (it supersedes a window rating); a window
    rating by any rating at all — the applicant's own rating is never pre-empted."""
    if channel == Review.Channel.ONLINE:
        return Review.objects.filter(channel=Review.Channel.ONLINE)
    return Review.objects.all()


def _check_case_rateable(case: Case, *, channel: str = Review.Channel.ONLINE) -> None:
    if case.bundle_case_id is not None:
        raise ValidationError({"case": _("此办件属于“一件事”，请对整个一件事进行评价。")}, code="bundle_part")
    if case.state not in CONCLUDED_STATES:
        raise ValidationError({"case": _("办件办结后才能评价。")}, code="not_concluded")
    if _blocking_ratings(channel).filter(case_id=case.pk).exists():
        raise ValidationError({"case": _("该办件已评价过，每件只能评价一次。")}, code="duplicate")


def _check_bundle_rateable(bundle_case: BundleCase, *, channel: str = Review.Channel.ONLINE) -> None:
    if bundle_case.state != BundleCase.State.CONCLUDED:
        raise ValidationError({"bundle_case": _("一件事全部办结后才能评价。")}, code="not_concluded")
    if _blocking_ratings(channel).filter(bundle_case_id=bundle_case.pk).exists():
        raise ValidationError({"bundle_case": _("该一件事已评价过，每件只能评价一次。")}, code="duplicate")


def _write_review(
    *,
    actor: Principal,
    case: Case | None,
    bundle_case: BundleCase | None,
    account,
    overall: int,
    scores: dict,
    comment: str,
    channel: str,
    assisted_by: Staff | None,
    window_code: WindowReviewCode | None = None,
    supersedes: Review | None = None,
) -> Review:
    """Inside the caller's transaction, with the subject row locked and checked."""
    attribution = _attribution_for_case(case) if case is not None else _attribution_for_bundle(bundle_case)
    review = Review(
        case=case,
        bundle_case=bundle_case,
        account=account,
        channel=channel,
        assisted_by=assisted_by,
        window_code=window_code,
        supersedes=supersedes,
        overall=overall,
        scores=scores,
        comment=comment,
        **attribution,
    )
    field = "case" if case is not None else "bundle_case"
    try:
        with (
            transaction.atomic()
        ):  # a savepoint: the loser of a race gets a message, not a broken transaction
            review.save()
    except IntegrityError:
        raise ValidationError({field: _("该事项已评价过，每件只能评价一次。")}, code="duplicate") from None
    review = Review.objects.select_related(
        "case", "bundle_case", "department", "staff", "assisted_by", "account", "window_code", "supersedes"
    ).get(pk=review.pk)
    audit_record(
        actor=actor,
        action="review.submit",
        object_type="review",
        object_id=str(review.public_id),
        after=_review_snapshot(review),
    )
    if overall <= BAD_MAX:
        _open_rectification(actor, review)
    return review


def _open_rectification(actor: Principal, review: Review) -> Rectification:
    rect = Rectification.objects.create(
        review=review,
        department_id=review.department_id,
        deadline=_new_deadline(timezone.localdate()),
    )
    rect = Rectification.objects.select_related("review", "department").get(pk=rect.pk)
    body = _("%(subject)s收到%(level)s评价，请于 %(deadline)s 前核实整改并答复。") % {
        "subject": _subject_label(review),
        "level": OVERALL_LEVELS[review.overall],
        "deadline": rect.deadline,
    }
    notified = _notify_heads(rect, title=_("收到差评，请整改"), body=body)
    _audit_rect(actor, "rectification.open", rect, department=review.department.code, notified=notified)
    return rect


# --- rating ------------------------------------------------------------------------------------------------
def review_submit(
    *,
    actor: Principal,
    case: Case | None = None,
    bundle_case: BundleCase | None = None,
    overall,
    scores,
    comment: str = "",
) -> Review:
    """The applicant rates their concluded case or 一件事, once."""
    actor.require(SELF_SERVICE)
    if (case is None) == (bundle_case is None):
        raise ValidationError({"case": _("请指定要评价的办件或一件事（二选一）。")}, code="subject")
    account = actor.account
    if account is None or actor.staff is not None or actor.is_system:
        raise PermissionDenied(_("只有申请人本人可以在网上评价；窗口协助评价请使用窗口评价。"))
    overall, scores, comment = _clean_rating(overall, scores, comment)
    with transaction.atomic():
        if case is not None:
            case = _locked_case(case)
            if case.applicant_account_id != account.pk:
                raise PermissionDenied(_("只能评价本人申请的办件。"))
            _check_case_rateable(case)
            current = Review.objects.filter(case_id=case.pk, superseded_at__isnull=True)
        else:
            bundle_case = _locked_bundle(bundle_case)
            if bundle_case.applicant_account_id != account.pk:
                raise PermissionDenied(_("只能评价本人申请的一件事。"))
            _check_bundle_rateable(bundle_case)
            current = Review.objects.filter(bundle_case_id=bundle_case.pk, superseded_at__isnull=True)
        # With no online rating yet, the rating of record can only be a window rating: the applicant's own
        # rating takes its place (the subject row lock serialises this with a window rating being written).
        previous = (
            current.filter(channel=Review.Channel.WINDOW)
            .select_related("case", "bundle_case", "department")
            .first()
        )
        if previous is not None:
            _supersede(actor, previous)
        return _write_review(
            actor=actor,
            case=case,
            bundle_case=bundle_case,
            account=account,
            overall=overall,
            scores=scores,
            comment=comment,
            channel=Review.Channel.ONLINE,
            assisted_by=None,
            supersedes=previous,
        )


def _supersede(actor: Principal, review: Review) -> None:
    """The window rating `review` stops being the rating of record; its rectification, if not closed, ends."""
    review.superseded_at = timezone.now()
    review.save(update_fields=["superseded_at"])
    audit_record(
        actor=actor,
        action="review.supersede",
        object_type="review",
        object_id=str(review.public_id),
        after={"channel": review.channel, "overall": review.overall, "superseded_at": review.superseded_at},
    )
    rect = Rectification.objects.filter(review_id=review.pk).first()
    if rect is None:
        return
    rect = _lock_rect(rect)
    if rect.status in (Rectification.Status.CLOSED, Rectification.Status.SUPERSEDED):
        return
    before = _rect_snapshot(rect)
    rect.status = Rectification.Status.SUPERSEDED
    rect.save(update_fields=["status"])
    _audit_rect(actor, "rectification.supersede", rect, before=before)
    _notify_heads(
        rect,
        title=_("差评整改无需继续答复"),
        body=_("%(subject)s的申请人已在网上作出本人评价，取代了窗口协助评价，此整改不再需要答复。")
        % {"subject": _subject_label(review)},
    )


# --- rectification ---------------------------------------------------------------------------------------------
def _in_department_tree(actor: Principal, department_id: int) -> bool:
    """Staff of the rectification's department, of one of its sub-departments, or of a parent department."""
    staff = actor.staff
    if staff is None:
        return False
    if department_id in ancestors_or_self(staff.department_id):
        return True
    return staff.department_id in ancestors_or_self(department_id)


def _status_error(rect: Rectification, what: str) -> ValidationError:
    return ValidationError(
        {
            "status": _("整改当前状态为“%(status)s”，%(what)s。")
            % {"status": rect.get_status_display(), "what": what}
        },
        code="state",
    )


def rectification_reply(*, actor: Principal, rectification: Rectification, reply: str) -> Rectification:
    """The department replies with what it verified and did (OPEN or REJECTED → REPLIED)."""
    actor.require(REVIEW_RECTIFY)
    staff = actor.staff
    if staff is None or not staff.is_active:
        raise PermissionDenied(_("只有在岗的工作人员可以答复整改。"))
    reply = _clean_text(reply, field="reply", required=True, what=_("请填写整改答复：核实情况与整改措施。"))
    with transaction.atomic():
        rect = _lock_rect(rectification)
        if not _in_department_tree(actor, rect.department_id):
            raise PermissionDenied(_("只能答复本部门的差评整改。"))
        if rect.status not in (Rectification.Status.OPEN, Rectification.Status.REJECTED):
            raise _status_error(rect, _("不能答复"))
        before = _rect_snapshot(rect)
        rect.reply = reply
        rect.replied_by = staff
        rect.replied_at = timezone.now()
        rect.rounds += 1
        rect.status = Rectification.Status.REPLIED
        rect.save(update_fields=["reply", "replied_by", "replied_at", "rounds", "status"])
        _audit_rect(actor, "rectification.reply", rect, before=before, reply_length=len(reply))
        _notify_rater(
            rect,
            title=_("您的评价已收到整改答复"),
            body=_("%(subject)s的办理部门已答复您的评价，请查看并确认是否认可。")
            % {"subject": _subject_label(rect.review)},
            sms=True,
        )
    return rect


def rectification_respond(
    *, actor: Principal, rectification: Rectification, accepted: bool, note: str = ""
) -> Rectification:
    """The rater confirms the reply (REPLIED → CONFIRMED) or rejects it (→ REJECTED, with a new deadline: the
    department must reply again)."""
    actor.require(SELF_SERVICE)
    accepted = bool(accepted)
    note = _clean_text(note, field="note", required=not accepted, what=_("请说明不认可整改答复的原因。"))
    with transaction.atomic():
        rect = _lock_rect(rectification)
        account = actor.account
        if account is None or actor.staff is not None or rect.review.account_id != account.pk:
            raise PermissionDenied(_("只有评价人本人可以确认整改结果。"))
        if rect.status != Rectification.Status.REPLIED:
            raise _status_error(rect, _("不能确认或驳回"))
        before = _rect_snapshot(rect)
        rect.applicant_note = note
        rect.responded_at = timezone.now()
        if accepted:
            rect.status = Rectification.Status.CONFIRMED
        else:
            rect.status = Rectification.Status.REJECTED
            rect.deadline = _new_deadline(timezone.localdate())
            rect.reminded_at = None  # a new deadline may be reminded again
        rect.save(update_fields=["applicant_note", "responded_at", "status", "deadline", "reminded_at"])
        _audit_rect(actor, "rectification.respond", rect, before=before, accepted=accepted)
        subject = _subject_label(rect.review)
        if accepted:
            title = _("申请人认可整改答复")
            body = _("%(subject)s的申请人认可了整改答复，待监督员办结。") % {"subject": subject}
        else:
            title = _("申请人不认可整改答复")
            body = _("%(subject)s的申请人不认可整改答复，请于 %(deadline)s 前重新答复。理由：%(note)s") % {
                "subject": subject,
                "deadline": rect.deadline,
                "note": note,
            }
        _notify_heads(rect, title=title, body=body)
    return rect


def rectification_close(*, actor: Principal, rectification: Rectification, note: str = "") -> Rectification:
    """A supervisor closes the rectification: after the applicant confirmed, or (with a required note) after a
    reply the applicant did not confirm or rejected."""
    actor.require(REVIEW_SUPERVISE)
    staff = actor.staff
    if staff is None or not staff.is_active:
        raise PermissionDenied(_("只有在岗的监督人员可以办结整改。"))
    with transaction.atomic():
        rect = _lock_rect(rectification)
        if district_of(rect.department) != district_of(staff.department):
            raise PermissionDenied(_("只能办结本区（县）的差评整改。"))
        if rect.status == Rectification.Status.OPEN:
            raise _status_error(rect, _("部门尚未答复，不能办结"))
        if rect.status == Rectification.Status.CLOSED:
            raise _status_error(rect, _("不能重复办结"))
        if rect.status == Rectification.Status.SUPERSEDED:
            raise _status_error(rect, _("无需办结"))
        note = _clean_text(
            note,
            field="note",
            required=rect.status != Rectification.Status.CONFIRMED,
            what=_("申请人尚未认可整改答复，办结须填写说明。"),
        )
        before = _rect_snapshot(rect)
        rect.status = Rectification.Status.CLOSED
        rect.close_note = note
        rect.closed_by = staff
        rect.closed_at = timezone.now()
        rect.save(update_fields=["status", "close_note", "closed_by", "closed_at"])
        _audit_rect(
            actor, "rectification.close", rect, before=before, confirmed=before["status"] == "confirmed"
        )
        subject = _subject_label(rect.review)
        _notify_rater(
            rect,
            title=_("差评整改已办结"),
            body=_("%(subject)s的差评整改已办结。%(note)s") % {"subject": subject, "note": note},
        )
        _notify_heads(
            rect,
            title=_("差评整改已办结"),
            body=_("%(subject)s的差评整改已由监督员办结。") % {"subject": subject},
        )
    return rect


def rectification_remind_overdue(*, rectification: Rectification, today: date | None = None) -> bool:
    """Reminds the department heads of a rectification past its deadline, once per deadline (a rejected reply
    sets a new deadline, which may be reminded again). The row lock serialises consumers; reminded_at records
    that the reminder for this deadline went out. True when it reminded."""
    today = today or timezone.localdate()
    with transaction.atomic():
        rect = _lock_rect(rectification)
        if (
            rect.status not in (Rectification.Status.OPEN, Rectification.Status.REJECTED)
            or rect.deadline >= today
        ):
            return False
        if rect.reminded_at is not None:
            return False
        body = _("%(subject)s的差评整改已超过期限 %(deadline)s，请尽快答复。") % {
            "subject": _subject_label(rect.review),
            "deadline": rect.deadline,
        }
        notified = _notify_heads(rect, title=_("差评整改超期提醒"), body=body)
        rect.reminded_at = timezone.now()
        rect.save(update_fields=["reminded_at"])
        _audit_rect(None, "rectification.overdue", rect, notified=notified)
    return True
