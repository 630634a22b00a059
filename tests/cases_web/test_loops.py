"""Whole cases through the pages (no browser): the 补正 loop with the paused clock, and apply → accept → review
→ approve → conclude with the applicant's timeline and notice at the end."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from yiwang.cases.models import Case, CaseStatus, SupplementRequest
from yiwang.core.models import Notification

from .conftest import form_post, pdf

pytestmark = pytest.mark.django_db


def act(client, case, action, **extra):
    case.refresh_from_db()
    data = {"action": action, "expected_version": case.lock_version, **extra}
    response = client.post(reverse("cases:work", args=[case.public_id]), data)
    assert response.status_code == 302, response.content.decode()[:3000]
    case.refresh_from_db()
    return case


def test_supplement_loop_pauses_the_clock_and_returns_to_the_same_step(
    client, item, citizen, clerk, approver
):
    client.force_login(citizen)
    client.post(reverse("cases:apply", args=[item.code]), form_post(citizen.person))
    case = Case.objects.get(applicant_account=citizen)

    client.force_login(clerk.account)
    case = act(client, case, "accept")
    client.force_login(approver.account)
    case = act(
        client,
        case,
        "request_supplement",
        opinion="收入证明不清晰",
        supplement_materials=["proof"],
        supplement_days="3",
    )
    assert case.state == Case.State.SUPPLEMENT and case.current_step == "review"
    request = SupplementRequest.objects.get(case=case)
    assert request.deadline > timezone.localdate()
    # the paused case leaves the approver's queue
    assert f'data-case="{case.public_id}"' not in client.get(reverse("cases:inbox")).content.decode()

    # the clock stood still for a week: the due dates move by the working days paused
    Case.objects.filter(pk=case.pk).update(paused_since=timezone.now() - timedelta(days=7))
    case.refresh_from_db()
    due, step_due = case.due_date, case.step_due_date

    client.force_login(citizen)
    assert "收入证明不清晰" in Notification.objects.filter(recipient=citizen).order_by("-id").first().body
    detail = client.get(reverse("cases:detail", args=[case.public_id])).content.decode()
    assert "补正期间暂停计时" in detail and 'name="m_proof"' in detail
    response = client.post(
        reverse("cases:supply", args=[case.public_id]), {"note": "已重新开具", "m_proof": pdf("收入证明.pdf")}
    )
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.state == Case.State.IN_PROGRESS and case.current_step == "review"  # the same step
    assert case.paused_since is None and case.paused_working_days >= 4
    assert case.due_date > due and case.step_due_date > step_due
    request.refresh_from_db()
    assert request.supplied_at is not None

    client.force_login(approver.account)
    assert f'data-case="{case.public_id}"' in client.get(reverse("cases:inbox")).content.decode()
    case = act(client, case, "review", opinion="补正后材料齐全")
    assert case.current_step == "decision"


def test_apply_accept_review_approve_conclude(client, item, citizen, clerk, approver, head):
    client.force_login(citizen)
    client.post(reverse("cases:apply", args=[item.code]), form_post(citizen.person))
    case = Case.objects.get(applicant_account=citizen)
    client.force_login(clerk.account)
    case = act(client, case, "accept", opinion="材料齐全，予以受理")
    client.force_login(approver.account)
    case = act(client, case, "review", opinion="审查认为符合条件（内审）")
    client.force_login(head.account)
    case = act(client, case, "approve", opinion="准予许可")
    assert case.decision == Case.Decision.APPROVED and case.current_step == "delivery"
    client.force_login(clerk.account)
    case = act(client, case, "conclude")
    assert case.state == Case.State.APPROVED and case.concluded_at is not None
    assert list(CaseStatus.objects.filter(case=case).values_list("action", flat=True)) == [
        "submit",
        "accept",
        "review",
        "approve",
        "conclude",
    ]

    client.force_login(citizen)
    html = client.get(reverse("cases:detail", args=[case.public_id])).content.decode()
    for label in ("提交申请", "受理", "审查通过", "准予许可", "办结出件"):
        assert label in html, label
    for name in (clerk.name, approver.name, head.name):
        assert name in html
    assert "材料齐全，予以受理" in html
    # the review opinion is not public: the applicant sees that there was one, not what it said
    assert "审查认为符合条件（内审）" not in html and "不对申请人公开" in html
    assert 'id="withdraw"' not in html  # decided: no withdrawal
    notice = client.get(reverse("cases:notice", args=[case.public_id])).content.decode()
    assert "准予许可决定书" in notice and case.number in notice


def test_deny_shows_the_reason_and_the_refusal_notice(client, item, citizen, clerk, approver, head):
    client.force_login(citizen)
    client.post(reverse("cases:apply", args=[item.code]), form_post(citizen.person))
    case = Case.objects.get(applicant_account=citizen)
    client.force_login(clerk.account)
    case = act(client, case, "accept")
    client.force_login(approver.account)
    case = act(client, case, "review", opinion="收入超标")
    client.force_login(head.account)
    case = act(client, case, "deny", opinion="家庭收入超过规定标准")
    assert case.state == Case.State.DENIED
    client.force_login(citizen)
    html = client.get(reverse("cases:detail", args=[case.public_id])).content.decode()
    assert "家庭收入超过规定标准" in html
    notice = client.get(reverse("cases:notice", args=[case.public_id])).content.decode()
    assert "不予许可决定书" in notice and "家庭收入超过规定标准" in notice and "行政复议" in notice
