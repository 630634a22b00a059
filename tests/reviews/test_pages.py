"""好差评 pages: the rating panel on the case page, my ratings, the rectification list and page with their forms,
the window rating, the report with its charts and the supervisor's counts; staff panel on the work page."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from yiwang.cases.models import Rectification, Review
from yiwang.cases.reviews import services as svc
from yiwang.core.models import Notification

from .conftest import BAD_SCORES, SCORES, P, concluded

pytestmark = pytest.mark.django_db


def form(overall=4, scores=None, comment="") -> dict:
    data = {"overall": str(overall), "comment": comment}
    data.update({f"score_{k}": str(v) for k, v in (scores or SCORES).items()})
    return data


def login(client, who):
    client.force_login(who.account if hasattr(who, "account") else who)
    return client


def test_the_case_page_offers_the_rating_form_then_shows_the_rating(client, rw):
    case = concluded(rw)
    running = concluded(rw, "in_review")
    login(client, rw.citizen)
    assert (
        'data-testid="review-form"'
        not in client.get(reverse("cases:detail", args=[running.public_id])).content.decode()
    )
    page = client.get(reverse("cases:detail", args=[case.public_id])).content.decode()
    assert 'data-testid="review-form"' in page and "办事指南清晰" in page and "非常不满意" in page
    url = reverse("cases:review_case", args=[case.public_id])
    invalid = client.post(url, {**form(), "score_guide": ""})
    assert invalid.status_code == 422
    assert "请为“办事指南清晰”选择 1—5 分。" in invalid.content.decode()
    assert not Review.objects.exists()
    response = client.post(url, form(overall=2, scores=BAD_SCORES, comment="等太久"))
    assert response.status_code == 302 and response.url.endswith("#review")
    page = client.get(reverse("cases:detail", args=[case.public_id])).content.decode()
    assert 'data-testid="review-form"' not in page and "不满意" in page and "等太久" in page
    assert "已转办理部门核实整改" in page
    again = client.post(url, form(overall=5))
    assert again.status_code == 422 and Review.objects.count() == 1
    mine = client.get(reverse("cases:my_reviews")).content.decode()
    assert case.number in mine and "待整改" in mine


def test_another_applicant_cannot_rate_by_page(client, rw):
    case = concluded(rw)
    login(client, rw.other_citizen)
    assert client.post(reverse("cases:review_case", args=[case.public_id]), form()).status_code == 404
    assert client.get(reverse("cases:my_reviews")).status_code == 200
    assert not Review.objects.exists()


def test_rectification_pages_end_to_end(client, rw, django_assert_max_num_queries):
    review = svc.review_submit(actor=P(rw.citizen), case=concluded(rw), overall=1, scores=BAD_SCORES)
    rect = review.rectification
    detail = reverse("cases:rectification", args=[rect.public_id])
    login(client, rw.citizen)
    assert client.get(reverse("cases:rectifications")).status_code == 403
    assert 'data-testid="reply-form"' not in client.get(detail).content.decode()
    login(client, rw.other_head)
    assert client.get(detail).status_code == 404
    assert rect.review.item_name not in client.get(reverse("cases:rectifications")).content.decode()
    login(client, rw.head)
    for _ in range(3):
        svc.review_submit(actor=P(rw.citizen), case=concluded(rw), overall=2, scores=BAD_SCORES)
    with django_assert_max_num_queries(14):
        listing = client.get(reverse("cases:rectifications"))
    assert listing.status_code == 200 and listing.content.decode().count('data-status="open"') == 4
    page = client.get(detail).content.decode()
    assert 'data-testid="reply-form"' in page
    assert (
        client.post(reverse("cases:rectification_reply", args=[rect.public_id]), {"reply": ""}).status_code
        == 422
    )
    response = client.post(
        reverse("cases:rectification_reply", args=[rect.public_id]), {"reply": "已整改并回访"}
    )
    assert response.status_code == 302
    login(client, rw.citizen)
    case_page = client.get(reverse("cases:detail", args=[review.case.public_id])).content.decode()
    assert "已整改并回访" in case_page and 'data-testid="respond-form"' in case_page
    respond = reverse("cases:rectification_respond", args=[rect.public_id])
    assert client.post(respond, {"accepted": "no", "note": ""}).status_code == 422
    assert client.post(respond, {"accepted": "yes"}).status_code == 302
    login(client, rw.supervisor)
    page = client.get(detail).content.decode()
    assert 'data-testid="close-form"' in page
    assert (
        client.post(reverse("cases:rectification_close", args=[rect.public_id]), {"note": ""}).status_code
        == 302
    )
    assert Rectification.objects.get(pk=rect.pk).status == "closed"
    login(client, rw.head)
    assert (
        client.post(reverse("cases:rectification_close", args=[rect.public_id]), {"note": "x"}).status_code
        == 403
    )


def test_window_rating_page(client, rw):
    """The page's steps; who may and the code's rules: test_window_entitlement.py."""
    case = concluded(rw)
    login(client, rw.clerk)
    url = reverse("cases:review_window")
    found = client.get(url, {"number": case.number}).content.decode()
    assert 'data-testid="window-code-form"' in found and case.item.name in found
    assert client.get(url, {"number": "NOPE"}).status_code == 404
    sent = client.post(url, {"step": "send", "subject": str(case.public_id)})
    assert sent.status_code == 302
    page = client.get(sent.url).content.decode()
    assert 'data-testid="window-review-form"' in page and "验证码已发送至申请人" in page
    resend = client.post(url, {"step": "send", "subject": str(case.public_id)})
    assert resend.status_code == 429 and resend["Retry-After"] and "请求过于频繁" in resend.content.decode()
    code = re.search(r"\b(\d{6})\b", Notification.objects.filter(recipient=rw.citizen).latest("id").body)[1]
    invalid = client.post(
        url, {"step": "rate", "subject": str(case.public_id), "code": code, **form(), "score_guide": ""}
    )
    assert invalid.status_code == 422 and "请为“办事指南清晰”选择 1—5 分。" in invalid.content.decode()
    response = client.post(
        url, {"step": "rate", "subject": str(case.public_id), "code": code, **form(overall=5)}
    )
    assert response.status_code == 302
    review = Review.objects.get()
    assert review.channel == "window" and review.assisted_by == rw.clerk
    assert 'data-testid="already-rated"' in client.get(url, {"number": case.number}).content.decode()
    login(client, rw.citizen)
    assert client.get(url).status_code == 403
    assert "窗口协助评价" in client.get(reverse("cases:my_reviews")).content.decode()


def test_report_page_and_counts(client, rw):
    svc.review_submit(actor=P(rw.citizen), case=concluded(rw), overall=1, scores=BAD_SCORES)
    svc.review_submit(actor=P(rw.citizen), case=concluded(rw), overall=5, scores=SCORES)
    login(client, rw.supervisor)
    for group_by in ("department", "item", "staff"):
        page = client.get(reverse("cases:review_report"), {"group_by": group_by})
        assert page.status_code == 200
        text = page.content.decode()
        assert "echarts.min.js" in text and "review-chart-data" in text
        assert 'data-testid="total-ratings">2<' in text and 'data-testid="total-bad">1<' in text
    assert rw.head.name in client.get(reverse("cases:review_report"), {"group_by": "staff"}).content.decode()
    bad_dates = client.get(reverse("cases:review_report"), {"start": "2026-03-09", "end": "2026-03-01"})
    assert bad_dates.status_code == 200 and "开始日期不能晚于结束日期" in bad_dates.content.decode()
    counts = client.get(reverse("cases:review_counts")).content.decode()
    assert 'data-testid="count-open">1<' in counts
    home = client.get("/").content.decode()
    assert reverse("cases:review_counts") in home
    login(client, rw.approver)
    assert client.get(reverse("cases:review_report")).status_code == 403
    login(client, rw.head)
    assert client.get(reverse("cases:review_report")).status_code == 200


def test_staff_work_page_shows_the_rating(client, rw):
    case = concluded(rw)
    login(client, rw.head)
    assert 'id="review"' not in client.get(reverse("cases:work", args=[case.public_id])).content.decode()
    svc.review_submit(actor=P(rw.citizen), case=case, overall=2, scores=BAD_SCORES, comment="解释不清")
    page = client.get(reverse("cases:work", args=[case.public_id])).content.decode()
    assert 'id="review"' in page and "解释不清" in page and "打开差评整改" in page
