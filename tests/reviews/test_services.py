"""好差评 services: rating once, only concluded cases of one's own, bundles rated as a whole, window ratings
marked, and the 差评 rectification state machine with its deadlines, notifications and audit."""

from __future__ import annotations

from datetime import date

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404

from yiwang.cases.models import BundleCase, Case, Rectification, Review
from yiwang.cases.reviews import services as svc
from yiwang.cases.reviews import window as window_svc
from yiwang.cases.reviews.tasks import rectifications_overdue_sweep
from yiwang.core.models import AuditEntry, Notification, OutboxMessage

from .conftest import BAD_SCORES, SCORES, P, bundle_case, concluded

pytestmark = pytest.mark.django_db


def rate(rw, case, overall=4, scores=None, comment="", who=None):
    return svc.review_submit(
        actor=P(who or rw.citizen), case=case, overall=overall, scores=scores or SCORES, comment=comment
    )


def bad(rw, case=None, overall=1):
    return rate(rw, case or concluded(rw), overall=overall, scores=BAD_SCORES, comment="等了很久")


# --- rating ---------------------------------------------------------------------------------------------------
def test_rating_is_attributed_to_department_item_and_deciding_staff(rw):
    case = concluded(rw, "approved")
    review = rate(rw, case, overall=5, comment=" 很好 ")
    assert review.case == case and review.bundle_case is None
    assert review.department == rw.item_dept
    assert review.staff == rw.head  # the head approved; the clerk only delivered
    assert (review.item_code, review.item_name) == (rw.item.code, rw.item.name)
    assert review.account == rw.citizen and review.channel == Review.Channel.ONLINE
    assert review.assisted_by is None
    assert review.scores == SCORES and review.comment == "很好"
    entry = AuditEntry.objects.get(action="review.submit", object_id=str(review.public_id))
    assert entry.after["overall"] == 5 and entry.after["staff"] == rw.head.employee_no
    assert not Rectification.objects.exists()


@pytest.mark.parametrize(
    ("state", "who"),
    [("denied", "head"), ("rejected", "clerk")],
)
def test_refusals_can_be_rated_and_name_who_refused(rw, state, who):
    review = rate(rw, concluded(rw, state), overall=3)
    assert review.staff == getattr(rw, who)


def test_a_case_is_rated_once(rw):
    case = concluded(rw)
    rate(rw, case)
    with pytest.raises(ValidationError) as exc:
        rate(rw, case, overall=1, scores=BAD_SCORES)
    assert exc.value.message_dict["case"] == ["该办件已评价过，每件只能评价一次。"]
    assert Review.objects.count() == 1 and not Rectification.objects.exists()


def test_a_racing_second_rating_gets_a_message_not_a_500(rw, monkeypatch):
    """The check after the lock is bypassed, as if two requests had both passed it: the OneToOne decides."""
    case = concluded(rw)
    rate(rw, case)
    monkeypatch.setattr(svc, "_check_case_rateable", lambda case, **kw: None)
    with pytest.raises(ValidationError) as exc:
        rate(rw, case, overall=2, scores=BAD_SCORES)
    assert exc.value.message_dict["case"] == ["该事项已评价过，每件只能评价一次。"]
    assert Review.objects.filter(case=case).count() == 1


@pytest.mark.parametrize("state", ["submitted", "in_review", "in_delivery", "supplement"])
def test_not_before_the_case_concludes(rw, state):
    case = concluded(rw, state)
    with pytest.raises(ValidationError) as exc:
        rate(rw, case)
    assert exc.value.message_dict["case"] == ["办件办结后才能评价。"]
    assert not Review.objects.exists()


def test_not_someone_elses_case(rw):
    case = concluded(rw)
    with pytest.raises(PermissionDenied):
        rate(rw, case, who=rw.other_citizen)
    with pytest.raises(PermissionDenied):
        rate(rw, case, who=rw.head)  # staff rate at the window, not online
    assert not Review.objects.exists()


@pytest.mark.parametrize(
    ("overall", "scores", "comment", "field"),
    [
        (0, SCORES, "", "overall"),
        (6, SCORES, "", "overall"),
        ("x", SCORES, "", "overall"),
        (True, SCORES, "", "overall"),
        (4, {**SCORES, "price": 3}, "", "scores"),
        (4, {k: v for k, v in SCORES.items() if k != "attitude"}, "", "scores.attitude"),
        (4, {**SCORES, "guide": 9}, "", "scores.guide"),
        (4, "bad", "", "scores"),
        (4, SCORES, "长" * 501, "comment"),
    ],
)
def test_invalid_ratings_name_the_field(rw, overall, scores, comment, field):
    with pytest.raises(ValidationError) as exc:
        rate(rw, concluded(rw), overall=overall, scores=scores, comment=comment)
    assert field in exc.value.message_dict
    assert not Review.objects.exists()


def test_a_bundle_is_rated_once_for_its_lead_department_and_its_sub_case_not_alone(rw):
    bc = bundle_case(rw)
    with pytest.raises(ValidationError) as exc:
        rate(rw, bc.sub_case)
    assert exc.value.message_dict["case"] == ["此办件属于“一件事”，请对整个一件事进行评价。"]
    review = svc.review_submit(actor=P(rw.citizen), bundle_case=bc, overall=5, scores=SCORES, comment="")
    assert review.bundle_case == bc and review.case is None
    assert review.department == rw.item_dept and review.staff is None
    assert (review.item_code, review.item_name) == ("kbcyd", "开办餐饮店")
    with pytest.raises(ValidationError) as exc:
        svc.review_submit(actor=P(rw.citizen), bundle_case=bc, overall=1, scores=BAD_SCORES)
    assert "bundle_case" in exc.value.message_dict
    with pytest.raises(PermissionDenied):
        svc.review_submit(actor=P(rw.other_citizen), bundle_case=bundle_case(rw), overall=4, scores=SCORES)
    running = bundle_case(rw, state="in_progress")
    with pytest.raises(ValidationError) as exc:
        svc.review_submit(actor=P(rw.citizen), bundle_case=running, overall=4, scores=SCORES)
    assert exc.value.message_dict["bundle_case"] == ["一件事全部办结后才能评价。"]
    with pytest.raises(ValidationError):
        svc.review_submit(actor=P(rw.citizen), overall=4, scores=SCORES)  # neither subject
    assert Review.objects.count() == 1


# --- the window ----------------------------------------------------------------------------------------------------
def window(rw, subject, who=None, overall=4, scores=None):
    """A rating at the window: the clerk has the code sent, the applicant reads it out, the clerk records it.
    (tests/reviews/test_window_entitlement.py covers who may and the code itself.)"""
    clerk = P(who or rw.clerk)
    kw = {"bundle_case": subject} if isinstance(subject, BundleCase) else {"case": subject}
    sent = window_svc.review_window_code_send(actor=clerk, **kw)
    return window_svc.review_submit_at_window(
        actor=clerk, code=_code(sent), overall=overall, scores=scores or SCORES, comment="窗口", **kw
    )


def _code(sent) -> str:
    import re

    note = Notification.objects.filter(object_id=str(sent.public_id)).first()
    body = (
        note.body if note is not None else OutboxMessage.objects.filter(body__contains="验证码").last().body
    )
    return re.search(r"\b(\d{6})\b", body).group(1)


def test_window_rating_is_marked_as_assisted(rw):
    case = concluded(rw)
    review = window(rw, case)
    assert review.channel == Review.Channel.WINDOW and review.assisted_by == rw.clerk
    assert review.account == rw.citizen  # the applicant still sees it (and answers a rectification)
    assert review.staff == rw.head
    entry = AuditEntry.objects.get(action="review.submit", object_id=str(review.public_id))
    assert (
        entry.actor_account == rw.clerk.account.username
        and entry.after["assisted_by"] == rw.clerk.employee_no
    )
    with pytest.raises(ValidationError):
        window(rw, case, who=rw.clerk2)  # once at the window, whoever records it


def test_window_rating_of_a_bundle(rw):
    bc = bundle_case(rw)
    review = window(rw, bc)
    assert review.bundle_case == bc and review.channel == Review.Channel.WINDOW


def test_window_rating_refusals(rw):
    case = concluded(rw)
    with pytest.raises(Http404):
        window(rw, case, who=rw.far_clerk)  # another district's case is not found
    with pytest.raises(PermissionDenied):
        window(rw, case, who=rw.approver)  # not a window clerk
    with pytest.raises(ValidationError):
        window(rw, concluded(rw, "in_review"))
    with pytest.raises(ValidationError):
        window(rw, bundle_case(rw).sub_case)
    with pytest.raises(ValidationError):  # neither subject
        window_svc.review_submit_at_window(actor=P(rw.clerk), code="123456", overall=4, scores=SCORES)
    assert not Review.objects.exists()


# --- 差评 and rectification --------------------------------------------------------------------------------------
def test_a_bad_rating_opens_a_rectification_due_in_five_working_days(rw):
    review = bad(rw, overall=2)
    rect = review.rectification
    assert rect.status == Rectification.Status.OPEN and rect.department == rw.item_dept
    assert rect.deadline == date(2026, 3, 9)  # Mon 2 March + 5 working days
    heads = Notification.objects.filter(object_type="rectification", object_id=str(rect.public_id))
    assert list(heads.values_list("recipient_id", flat=True)) == [rw.head.account_id]
    assert "请于 2026-03-09 前" in heads.get().body
    assert AuditEntry.objects.filter(action="rectification.open", object_id=str(rect.public_id)).exists()
    neutral = rate(rw, concluded(rw), overall=3)
    assert not Rectification.objects.filter(review=neutral).exists()  # 3 基本满意 is not a 差评


def test_reply_respond_close_state_machine(rw, clock):
    rect = bad(rw).rectification
    citizen = P(rw.citizen)
    with pytest.raises(ValidationError) as exc:
        svc.rectification_respond(actor=citizen, rectification=rect, accepted=True)
    assert "status" in exc.value.message_dict  # nothing to answer yet
    with pytest.raises(ValidationError) as exc:
        svc.rectification_close(actor=P(rw.supervisor), rectification=rect, note="x")
    assert exc.value.message_dict["status"] == ["整改当前状态为“待整改”，部门尚未答复，不能办结。"]
    with pytest.raises(ValidationError) as exc:
        svc.rectification_reply(actor=P(rw.head), rectification=rect, reply="  ")
    assert "reply" in exc.value.message_dict

    rect = svc.rectification_reply(actor=P(rw.head), rectification=rect, reply="已核实并培训窗口人员。")
    assert (rect.status, rect.rounds, rect.replied_by) == ("replied", 1, rw.head)
    told = Notification.objects.filter(recipient=rw.citizen, object_id=str(rect.public_id))
    assert told.count() == 1
    with pytest.raises(ValidationError):
        svc.rectification_reply(actor=P(rw.head), rectification=rect, reply="再答复一次")

    clock.set(2026, 3, 4)
    with pytest.raises(ValidationError) as exc:
        svc.rectification_respond(actor=citizen, rectification=rect, accepted=False, note="")
    assert exc.value.message_dict["note"] == ["请说明不认可整改答复的原因。"]
    rect = svc.rectification_respond(actor=citizen, rectification=rect, accepted=False, note="没有解决问题")
    assert rect.status == "rejected" and rect.deadline == date(2026, 3, 11)  # a new deadline from today
    assert rect.applicant_note == "没有解决问题"

    rect = svc.rectification_reply(actor=P(rw.head), rectification=rect, reply="已重新办理并电话回访。")
    assert (rect.status, rect.rounds) == ("replied", 2)
    rect = svc.rectification_respond(actor=citizen, rectification=rect, accepted=True)
    assert rect.status == "confirmed"
    rect = svc.rectification_close(actor=P(rw.supervisor), rectification=rect)
    assert rect.status == "closed" and rect.closed_by == rw.supervisor and rect.close_note == ""
    with pytest.raises(ValidationError):
        svc.rectification_close(actor=P(rw.supervisor), rectification=rect, note="again")
    with pytest.raises(ValidationError):
        svc.rectification_reply(actor=P(rw.head), rectification=rect, reply="late")
    actions = list(
        AuditEntry.objects.filter(object_type="rectification", object_id=str(rect.public_id))
        .order_by("seq")
        .values_list("action", flat=True)
    )
    assert actions == [
        "rectification.open",
        "rectification.reply",
        "rectification.respond",
        "rectification.reply",
        "rectification.respond",
        "rectification.close",
    ]


def test_wrong_department_or_person_is_forbidden(rw):
    rect = bad(rw).rectification
    with pytest.raises(PermissionDenied):
        svc.rectification_reply(actor=P(rw.other_head), rectification=rect, reply="不是我们部门")
    with pytest.raises(PermissionDenied):
        svc.rectification_reply(actor=P(rw.approver), rectification=rect, reply="没有整改权限")
    with pytest.raises(PermissionDenied):
        svc.rectification_reply(actor=P(rw.supervisor), rectification=rect, reply="监督员不答复")
    rect = svc.rectification_reply(actor=P(rw.head), rectification=rect, reply="已整改")
    with pytest.raises(PermissionDenied):
        svc.rectification_respond(actor=P(rw.other_citizen), rectification=rect, accepted=True)
    with pytest.raises(PermissionDenied):
        svc.rectification_respond(actor=P(rw.head), rectification=rect, accepted=True)
    with pytest.raises(PermissionDenied):
        svc.rectification_close(actor=P(rw.head), rectification=rect, note="负责人不能办结")
    with pytest.raises(PermissionDenied):
        svc.rectification_close(actor=P(rw.far_supervisor), rectification=rect, note="邻区")
    rect.refresh_from_db()
    assert rect.status == "replied" and rect.rounds == 1


def test_close_without_confirmation_needs_a_note(rw):
    rect = bad(rw).rectification
    rect = svc.rectification_reply(actor=P(rw.head), rectification=rect, reply="已整改")
    with pytest.raises(ValidationError) as exc:
        svc.rectification_close(actor=P(rw.supervisor), rectification=rect, note="")
    assert exc.value.message_dict["note"] == ["申请人尚未认可整改答复，办结须填写说明。"]
    rect = svc.rectification_close(
        actor=P(rw.supervisor), rectification=rect, note="已电话回访，申请人无异议"
    )
    assert rect.status == "closed" and rect.close_note == "已电话回访，申请人无异议"


def test_a_window_rating_without_an_online_account_is_closed_with_a_note(rw):
    case = concluded(rw)
    Case.objects.filter(pk=case.pk).update(applicant_account=None)  # a walk-in applicant
    review = window(rw, case, overall=1, scores=BAD_SCORES)
    assert review.account is None
    rect = svc.rectification_reply(actor=P(rw.head), rectification=review.rectification, reply="已整改")
    with pytest.raises(PermissionDenied):
        svc.rectification_respond(actor=P(rw.citizen), rectification=rect, accepted=True)
    rect = svc.rectification_close(actor=P(rw.supervisor), rectification=rect, note="窗口回访确认")
    assert rect.status == "closed"


def test_overdue_rectifications_are_reminded_once_per_deadline(rw, clock):
    rect = bad(rw).rectification
    clock.set(2026, 3, 9)
    assert rectifications_overdue_sweep() == 0  # due today: not yet overdue
    clock.set(2026, 3, 10)
    assert rectifications_overdue_sweep() == 1
    assert rectifications_overdue_sweep() == 0
    reminders = Notification.objects.filter(title="差评整改超期提醒", recipient=rw.head.account)
    assert reminders.count() == 1
    rect = svc.rectification_reply(actor=P(rw.head), rectification=rect, reply="迟到的答复")
    rect = svc.rectification_respond(actor=P(rw.citizen), rectification=rect, accepted=False, note="不认可")
    assert rect.deadline == date(2026, 3, 17)
    clock.set(2026, 3, 18)
    assert rectifications_overdue_sweep() == 1  # the new deadline is reminded once again
    assert reminders.count() == 2
