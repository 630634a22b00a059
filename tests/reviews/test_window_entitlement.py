"""好差评 at the window: only a clerk of the hall that handled the case, only with the applicant present (a
one-time code sent to the applicant and typed in by the clerk), and never in the applicant's place — the
applicant's own online rating supersedes a window rating. Over the service, the API and the page, for a case and
for a 一件事 alike.

Issue 11 §2: before the fix any window clerk of the district (a town clerk, another department's clerk) could rate
any concluded case by its sequential number, without the applicant, and that rating blocked the applicant's own.
"""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.urls import reverse

from tests.factories import DepartmentFactory, DivisionFactory, staff_with_roles
from yiwang.cases import models as case_models
from yiwang.cases.models import BundleCase, Case, Rectification, Review
from yiwang.cases.reviews import services as svc
from yiwang.cases.reviews import window as window_svc
from yiwang.cases.reviews.selectors import review_report
from yiwang.core.models import AuditEntry, Notification, OutboxMessage
from yiwang.core.ratelimit import RateLimited

from .conftest import BAD_SCORES, SCORES, P, bundle_case, concluded

pytestmark = pytest.mark.django_db

BASE = "/api/reviews"
UNRELATED = ("town", "department", "far")
SUBJECTS = ("case", "bundle")


# --- helpers -------------------------------------------------------------------------------------------------
def unrelated_clerk(rw, who: str):
    """A window clerk who did not handle the world's cases: a town hall of the same district, another
    department of the district that has its own window, or the neighbouring district's centre."""
    if who == "town":
        town = DivisionFactory(town=True)
        hall = DepartmentFactory(code="JD1BM", name="第一街道便民服务中心", division=town)
        return staff_with_roles("window_clerk", department=hall)
    if who == "department":
        return staff_with_roles("window_clerk", department=rw.other_dept)
    return rw.far_clerk


def subject_of(rw, kind: str):
    return concluded(rw) if kind == "case" else bundle_case(rw)


def subject_body(subject) -> dict:
    key = "case_id" if isinstance(subject, Case) else "bundle_case_id"
    return {key: str(subject.public_id)}


def subject_kw(subject) -> dict:
    return {"case": subject} if isinstance(subject, Case) else {"bundle_case": subject}


def rating_rows(subject):
    field = "case" if isinstance(subject, Case) else "bundle_case"
    return Review.objects.filter(**{field: subject})


def applicant_of(subject):
    return subject.applicant_account


def last_code(account) -> str:
    """The code as the applicant reads it in their messages (in-app; the SMS carries the same text)."""
    note = Notification.objects.filter(recipient=account, object_type="review_window_code").latest("id")
    return re.search(r"\b(\d{6})\b", note.body).group(1)


def other_code(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


def post(client, url, body):
    return client.post(url, data=json.dumps(body), content_type="application/json")


def login(client, who):
    client.force_login(who.account if hasattr(who, "account") else who)
    return client


def form(overall=4, scores=None, comment="") -> dict:
    data = {"overall": str(overall), "comment": comment}
    data.update({f"score_{k}": str(v) for k, v in (scores or SCORES).items()})
    return data


def codes():
    """WindowReviewCode, looked up when used (the model is part of the fix)."""
    return case_models.WindowReviewCode


def code_sms():
    return OutboxMessage.objects.filter(body__contains="验证码")


def nothing_stored(subject) -> None:
    assert not rating_rows(subject).exists()
    assert not Rectification.objects.exists()


# --- the service ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("who", UNRELATED)
@pytest.mark.parametrize("kind", SUBJECTS)
def test_service_refuses_a_clerk_of_another_hall(rw, who, kind):
    subject = subject_of(rw, kind)
    clerk = unrelated_clerk(rw, who)
    with pytest.raises(Http404):
        window_svc.review_window_code_send(actor=P(clerk), **subject_kw(subject))
    assert not Notification.objects.filter(object_type="review_window_code").exists()
    assert not code_sms().exists()
    window_svc.review_window_code_send(actor=P(rw.clerk), **subject_kw(subject))
    code = last_code(applicant_of(subject))
    with pytest.raises(Http404):
        window_svc.review_submit_at_window(
            actor=P(clerk), code=code, overall=1, scores=BAD_SCORES, **subject_kw(subject)
        )
    nothing_stored(subject)


@pytest.mark.parametrize("kind", SUBJECTS)
def test_service_needs_the_applicants_code(rw, clock, kind):
    subject = subject_of(rw, kind)
    rate = dict(overall=1, scores=BAD_SCORES, **subject_kw(subject))
    with pytest.raises(ValidationError) as exc:
        window_svc.review_submit_at_window(actor=P(rw.clerk), code="", **rate)
    assert "code" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:  # no code was ever sent
        window_svc.review_submit_at_window(actor=P(rw.clerk), code="123456", **rate)
    assert exc.value.message_dict["code"] == ["请先向申请人发送验证码。"]
    sent = window_svc.review_window_code_send(actor=P(rw.clerk), **subject_kw(subject))
    code = last_code(applicant_of(subject))
    with pytest.raises(ValidationError) as exc:
        window_svc.review_submit_at_window(actor=P(rw.clerk), code=other_code(code), **rate)
    assert "code" in exc.value.message_dict
    with pytest.raises(ValidationError):  # the code is the requesting clerk's, not the hall's
        window_svc.review_submit_at_window(actor=P(rw.clerk2), code=code, **rate)
    clock.moment = sent.expires_at + timedelta(seconds=1)
    with pytest.raises(ValidationError) as exc:
        window_svc.review_submit_at_window(actor=P(rw.clerk), code=code, **rate)
    assert exc.value.message_dict["code"] == ["验证码已过期，请重新发送。"]
    nothing_stored(subject)
    failures = AuditEntry.objects.filter(action="review.window_code.fail", object_id=str(sent.public_id))
    assert failures.count() == 2  # the wrong code and the expired one, both on record
    clock.moment += timedelta(minutes=2)  # past the resend interval
    window_svc.review_window_code_send(actor=P(rw.clerk), **subject_kw(subject))
    review = window_svc.review_submit_at_window(
        actor=P(rw.clerk), code=last_code(applicant_of(subject)), **rate
    )
    assert review.channel == Review.Channel.WINDOW and review.assisted_by == rw.clerk
    assert review.window_code is not None and review.window_code.status == codes().Status.USED
    assert review.rectification.status == Rectification.Status.OPEN
    entry = AuditEntry.objects.get(action="review.submit", object_id=str(review.public_id))
    assert entry.after["window_code"] == str(review.window_code.public_id)


def test_a_code_allows_a_few_tries_then_locks(rw):
    case = concluded(rw)
    sent = window_svc.review_window_code_send(actor=P(rw.clerk), case=case)
    code = last_code(rw.citizen)
    wrong = other_code(code)
    for _ in range(window_svc.WINDOW_CODE_TRIES):
        with pytest.raises(ValidationError):
            window_svc.review_submit_at_window(
                actor=P(rw.clerk), case=case, code=wrong, overall=4, scores=SCORES
            )
    with pytest.raises(ValidationError) as exc:  # even the right code, once locked
        window_svc.review_submit_at_window(actor=P(rw.clerk), case=case, code=code, overall=4, scores=SCORES)
    assert "code" in exc.value.message_dict
    sent.refresh_from_db()
    assert sent.status == codes().Status.LOCKED and sent.attempts == window_svc.WINDOW_CODE_TRIES
    assert not Review.objects.exists()


def test_the_code_is_hashed_at_rest_and_kept_out_of_the_audit_log(rw):
    case = concluded(rw)
    sent = window_svc.review_window_code_send(actor=P(rw.clerk), case=case)
    code = last_code(rw.citizen)
    row = codes().objects.filter(pk=sent.pk).values().get()
    assert code not in json.dumps(row, default=str)
    with pytest.raises(ValidationError):
        window_svc.review_submit_at_window(
            actor=P(rw.clerk), case=case, code=other_code(code), overall=4, scores=SCORES
        )
    window_svc.review_submit_at_window(actor=P(rw.clerk), case=case, code=code, overall=4, scores=SCORES)
    entries = AuditEntry.objects.filter(action__startswith="review.")
    assert {"review.window_code.send", "review.window_code.fail", "review.submit"} <= set(
        entries.values_list("action", flat=True)
    )
    for entry in entries:
        assert code not in json.dumps([entry.before, entry.after], default=str)
    sent_entry = entries.get(action="review.window_code.send")
    assert sent_entry.after["case"] == case.number and sent_entry.after["clerk"] == rw.clerk.employee_no


def test_a_walk_in_without_an_account_gets_the_code_by_sms(rw):
    case = concluded(rw)
    Case.objects.filter(pk=case.pk).update(applicant_account=None)
    case.refresh_from_db()
    sent = window_svc.review_window_code_send(actor=P(rw.clerk), case=case)
    sms = code_sms().get()
    assert sms.address == case.applicant_person.phone and sms.recipient_account is None
    phone = case.applicant_person.phone
    assert phone[-4:] in sent.sent_to and phone not in sent.sent_to  # masked for the clerk
    code = re.search(r"\b(\d{6})\b", sms.body).group(1)
    review = window_svc.review_submit_at_window(
        actor=P(rw.clerk), case=case, code=code, overall=5, scores=SCORES
    )
    assert review.account is None and review.channel == Review.Channel.WINDOW


def test_no_way_to_reach_the_applicant_means_no_window_rating(rw):
    case = concluded(rw)
    Case.objects.filter(pk=case.pk).update(applicant_account=None)
    case.applicant_person.phone = ""
    case.applicant_person.save()
    case.refresh_from_db()
    with pytest.raises(ValidationError) as exc:
        window_svc.review_window_code_send(actor=P(rw.clerk), case=case)
    assert "case" in exc.value.message_dict
    assert not codes().objects.exists() and not code_sms().exists()


def test_codes_are_not_sent_too_often(rw, clock):
    case = concluded(rw)
    window_svc.review_window_code_send(actor=P(rw.clerk), case=case)
    with pytest.raises(RateLimited) as exc:  # a resend waits a minute, whoever asks
        window_svc.review_window_code_send(actor=P(rw.clerk2), case=case)
    assert exc.value.retry_after == window_svc.WINDOW_CODE_RESEND_SECONDS
    for _ in range(window_svc.WINDOW_CODES_PER_DAY - 1):
        clock.moment += timedelta(minutes=2)
        window_svc.review_window_code_send(actor=P(rw.clerk), case=case)
    clock.moment += timedelta(minutes=2)
    with pytest.raises(RateLimited):  # at most a few codes a day for one case
        window_svc.review_window_code_send(actor=P(rw.clerk), case=case)
    clock.moment += timedelta(days=1)
    window_svc.review_window_code_send(actor=P(rw.clerk), case=case)
    assert codes().objects.count() == window_svc.WINDOW_CODES_PER_DAY + 1
    statuses = list(codes().objects.order_by("id").values_list("status", flat=True))
    assert statuses == ["replaced"] * window_svc.WINDOW_CODES_PER_DAY + [
        "pending"
    ]  # only the latest is accepted


def test_a_clerk_cannot_send_codes_without_end(rw, clock):
    cases = [concluded(rw) for _ in range(3)]
    existing = [
        codes()(case=cases[0], clerk=rw.clerk, code_hash="x", sent_to="-", expires_at=clock.moment)
        for _ in range(window_svc.WINDOW_CODES_PER_CLERK_HOUR)
    ]
    codes().objects.bulk_create(existing)  # as if sent over the last hour
    clock.moment += timedelta(minutes=30)
    with pytest.raises(RateLimited) as exc:
        window_svc.review_window_code_send(actor=P(rw.clerk), case=cases[1])
    assert exc.value.retry_after == 30 * 60
    window_svc.review_window_code_send(
        actor=P(rw.clerk2), case=cases[1]
    )  # another clerk of the hall is not held up
    clock.moment += timedelta(minutes=31)
    window_svc.review_window_code_send(actor=P(rw.clerk), case=cases[2])


def test_not_a_window_clerk_or_not_rateable(rw):
    case = concluded(rw)
    with pytest.raises(PermissionDenied):
        window_svc.review_window_code_send(actor=P(rw.approver), case=case)
    with pytest.raises(PermissionDenied):
        window_svc.review_window_code_send(actor=P(rw.citizen), case=case)
    running = concluded(rw, "in_review")
    with pytest.raises(ValidationError):
        window_svc.review_window_code_send(actor=P(rw.clerk), case=running)
    with pytest.raises(ValidationError):  # a sub-case is rated through its 一件事
        window_svc.review_window_code_send(actor=P(rw.clerk), case=bundle_case(rw).sub_case)
    assert (
        not codes().objects.exists()
        and not Notification.objects.filter(object_type="review_window_code").exists()
    )


# --- the applicant is never pre-empted ----------------------------------------------------------------------------
@pytest.mark.parametrize("kind", SUBJECTS)
def test_the_applicants_own_rating_supersedes_a_window_rating(rw, kind):
    subject = subject_of(rw, kind)
    applicant = P(applicant_of(subject))
    window_svc.review_window_code_send(actor=P(rw.clerk), **subject_kw(subject))
    window = window_svc.review_submit_at_window(
        actor=P(rw.clerk),
        code=last_code(applicant_of(subject)),
        overall=1,
        scores=BAD_SCORES,
        **subject_kw(subject),
    )
    window_rect = window.rectification
    own = svc.review_submit(actor=applicant, overall=5, scores=SCORES, **subject_kw(subject))
    assert own.channel == Review.Channel.ONLINE and own.supersedes_id == window.pk
    window.refresh_from_db()
    assert window.superseded_at is not None
    window_rect.refresh_from_db()
    assert window_rect.status == Rectification.Status.SUPERSEDED
    assert not Rectification.objects.filter(review=own).exists()  # 非常满意: nothing to rectify
    assert AuditEntry.objects.filter(action="review.supersede", object_id=str(window.public_id)).exists()
    assert AuditEntry.objects.filter(
        action="rectification.supersede", object_id=str(window_rect.public_id)
    ).exists()
    # the report counts the rating of record only
    report = review_report(P(rw.supervisor))
    assert report.totals.ratings == 1 and report.totals.bad == 0
    # once the applicant has rated, neither they nor the window rate again
    with pytest.raises(ValidationError):
        svc.review_submit(actor=applicant, overall=1, scores=BAD_SCORES, **subject_kw(subject))
    with pytest.raises(ValidationError):
        window_svc.review_window_code_send(actor=P(rw.clerk2), **subject_kw(subject))
    assert rating_rows(subject).count() == 2


def test_a_bad_own_rating_over_a_window_rating_opens_its_own_rectification(rw):
    case = concluded(rw)
    window_svc.review_window_code_send(actor=P(rw.clerk), case=case)
    window = window_svc.review_submit_at_window(
        actor=P(rw.clerk), case=case, code=last_code(rw.citizen), overall=5, scores=SCORES
    )
    own = svc.review_submit(actor=P(rw.citizen), case=case, overall=2, scores=BAD_SCORES, comment="其实很慢")
    assert own.rectification.status == Rectification.Status.OPEN
    assert not Rectification.objects.filter(review=window).exists()


# --- the API ----------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("who", UNRELATED)
@pytest.mark.parametrize("kind", SUBJECTS)
def test_api_refuses_a_clerk_of_another_hall(client, rw, who, kind):
    subject = subject_of(rw, kind)
    clerk = unrelated_clerk(rw, who)
    login(client, clerk)
    # the old contract: the sequential number alone
    old = post(client, f"{BASE}/window", {"case_number": subject.number, "overall": 1, "scores": BAD_SCORES})
    assert old.status_code in (403, 404, 422), old.content
    nothing_stored(subject)
    assert post(client, f"{BASE}/window/code", subject_body(subject)).status_code in (403, 404)
    assert not Notification.objects.filter(object_type="review_window_code").exists()
    login(client, rw.clerk)
    assert post(client, f"{BASE}/window/code", subject_body(subject)).status_code == 201
    code = last_code(applicant_of(subject))
    login(client, clerk)
    body = {**subject_body(subject), "code": code, "overall": 1, "scores": BAD_SCORES}
    response = post(client, f"{BASE}/window", body)
    assert response.status_code in (403, 404), response.content
    assert response["Content-Type"].startswith("application/problem+json")
    nothing_stored(subject)


@pytest.mark.parametrize("kind", SUBJECTS)
def test_api_window_rating_needs_the_right_live_code(client, rw, clock, kind):
    subject = subject_of(rw, kind)
    login(client, rw.clerk)
    old = post(client, f"{BASE}/window", {"case_number": subject.number, "overall": 1, "scores": BAD_SCORES})
    assert old.status_code == 422, old.content  # the number alone no longer rates
    rating = {**subject_body(subject), "overall": 1, "scores": BAD_SCORES}
    no_code = post(client, f"{BASE}/window", {**rating, "code": "123456"})
    assert no_code.status_code == 422 and no_code.json()["errors"][0]["field"] == "code"
    sent = post(client, f"{BASE}/window/code", subject_body(subject))
    assert sent.status_code == 201, sent.content
    assert set(sent.json()) >= {"expires_at", "sent_to", "tries"}
    code = last_code(applicant_of(subject))
    assert code not in sent.content.decode()  # the clerk learns it only from the applicant
    wrong = post(client, f"{BASE}/window", {**rating, "code": other_code(code)})
    assert wrong.status_code == 422 and wrong.json()["errors"][0]["field"] == "code"
    clock.moment += timedelta(minutes=window_svc.WINDOW_CODE_MINUTES, seconds=1)
    expired = post(client, f"{BASE}/window", {**rating, "code": code})
    assert expired.status_code == 422 and "过期" in expired.json()["errors"][0]["message"]
    nothing_stored(subject)
    clock.moment += timedelta(minutes=2)
    assert post(client, f"{BASE}/window/code", subject_body(subject)).status_code == 201
    response = post(client, f"{BASE}/window", {**rating, "code": last_code(applicant_of(subject))})
    assert response.status_code == 201, response.content
    assert response.json()["channel"] == "window" and response.json()["rectification"]["status"] == "open"


def test_api_applicant_still_rates_after_a_window_rating(client, rw):
    case = concluded(rw)
    login(client, rw.clerk)
    post(client, f"{BASE}/window/code", {"case_id": str(case.public_id)})
    window = post(
        client,
        f"{BASE}/window",
        {"case_id": str(case.public_id), "code": last_code(rw.citizen), "overall": 1, "scores": BAD_SCORES},
    )
    assert window.status_code == 201, window.content
    login(client, rw.citizen)
    own = post(client, f"{BASE}/", {"case_id": str(case.public_id), "overall": 4, "scores": SCORES})
    assert own.status_code == 201, own.content
    assert own.json()["channel"] == "online" and own.json()["rectification"] is None
    mine = client.get(f"{BASE}/mine").json()["items"]
    assert [(r["case_number"], r["channel"]) for r in mine] == [(case.number, "online")]
    again = post(client, f"{BASE}/", {"case_id": str(case.public_id), "overall": 1, "scores": BAD_SCORES})
    assert again.status_code == 422


# --- the page ----------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("who", UNRELATED)
@pytest.mark.parametrize("kind", SUBJECTS)
def test_page_refuses_a_clerk_of_another_hall(client, rw, who, kind):
    subject = subject_of(rw, kind)
    clerk = unrelated_clerk(rw, who)
    url = reverse("cases:review_window")
    login(client, clerk)
    assert client.get(url, {"number": subject.number}).status_code == 404
    old = client.post(url, {"number": subject.number, **form(overall=1, scores=BAD_SCORES)})
    assert old.status_code in (403, 404)
    nothing_stored(subject)
    sent = client.post(url, {"step": "send", "subject": str(subject.public_id)})
    assert sent.status_code in (403, 404)
    assert not Notification.objects.filter(object_type="review_window_code").exists()
    window_svc.review_window_code_send(actor=P(rw.clerk), **subject_kw(subject))
    code = last_code(applicant_of(subject))
    rated = client.post(
        url,
        {
            "step": "rate",
            "subject": str(subject.public_id),
            "code": code,
            **form(overall=1, scores=BAD_SCORES),
        },
    )
    assert rated.status_code in (403, 404)
    nothing_stored(subject)


@pytest.mark.parametrize("kind", SUBJECTS)
def test_page_window_rating_with_the_code_step(client, rw, clock, kind):
    subject = subject_of(rw, kind)
    url = reverse("cases:review_window")
    login(client, rw.clerk)
    found = client.get(url, {"number": subject.number}).content.decode()
    assert 'data-testid="window-code-form"' in found
    assert 'data-testid="window-review-form"' not in found  # no rating before the code went out
    old = client.post(url, {"number": subject.number, **form(overall=1, scores=BAD_SCORES)})
    assert old.status_code != 302
    nothing_stored(subject)
    sent = client.post(url, {"step": "send", "subject": str(subject.public_id)})
    assert sent.status_code == 302
    page = client.get(sent.url).content.decode()
    assert 'data-testid="window-review-form"' in page and 'name="code"' in page
    code = last_code(applicant_of(subject))
    rate = {"step": "rate", "subject": str(subject.public_id), **form(overall=1, scores=BAD_SCORES)}
    wrong = client.post(url, {**rate, "code": other_code(code)})
    assert wrong.status_code == 422 and "验证码不正确" in wrong.content.decode()
    clock.moment += timedelta(minutes=window_svc.WINDOW_CODE_MINUTES, seconds=1)
    expired = client.post(url, {**rate, "code": code})
    assert expired.status_code == 422 and "验证码已过期" in expired.content.decode()
    nothing_stored(subject)
    clock.moment += timedelta(minutes=2)
    assert client.post(url, {"step": "send", "subject": str(subject.public_id)}).status_code == 302
    done = client.post(url, {**rate, "code": last_code(applicant_of(subject))})
    assert done.status_code == 302, done.content.decode()[:2000]
    review = rating_rows(subject).get()
    assert review.channel == "window" and review.assisted_by == rw.clerk
    assert 'data-testid="already-rated"' in client.get(url, {"number": subject.number}).content.decode()


def test_page_applicant_still_rates_after_a_window_rating(client, rw):
    case = concluded(rw)
    window_svc.review_window_code_send(actor=P(rw.clerk), case=case)
    window_svc.review_submit_at_window(
        actor=P(rw.clerk), case=case, code=last_code(rw.citizen), overall=2, scores=BAD_SCORES
    )
    login(client, rw.citizen)
    page = client.get(reverse("cases:detail", args=[case.public_id])).content.decode()
    assert 'data-testid="review-form"' in page and 'data-testid="assisted"' in page
    response = client.post(
        reverse("cases:review_case", args=[case.public_id]), form(overall=5, comment="其实办得很好")
    )
    assert response.status_code == 302
    current = Review.objects.get(case=case, superseded_at__isnull=True)
    assert current.channel == "online" and current.overall == 5
    page = client.get(reverse("cases:detail", args=[case.public_id])).content.decode()
    assert 'data-testid="review-form"' not in page and "其实办得很好" in page


def test_bundle_page_applicant_still_rates_after_a_window_rating(client, rw):
    bc = bundle_case(rw)
    window_svc.review_window_code_send(actor=P(rw.clerk), bundle_case=bc)
    window_svc.review_submit_at_window(
        actor=P(rw.clerk), bundle_case=bc, code=last_code(rw.citizen), overall=3, scores=SCORES
    )
    login(client, rw.citizen)
    response = client.post(
        reverse("cases:review_bundle", args=[bc.public_id]),
        {**form(overall=4), "next": "/cases/reviews/mine/"},
    )
    assert response.status_code == 302
    current = Review.objects.get(bundle_case=bc, superseded_at__isnull=True)
    assert current.channel == "online" and BundleCase.objects.filter(pk=bc.pk).exists()
