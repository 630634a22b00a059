"""/api/reviews: rating, my ratings, window ratings, rectification steps and the report — with the 401, 403,
404 and 422 paths as problem+json."""

from __future__ import annotations

import json
import re
import uuid

import pytest

from yiwang.cases.models import Rectification, Review
from yiwang.cases.reviews import services as svc
from yiwang.cases.reviews import window as window_svc
from yiwang.core.apiutils import PROBLEM_CONTENT_TYPE
from yiwang.core.models import Notification

from .conftest import BAD_SCORES, SCORES, P, bundle_case, concluded

pytestmark = pytest.mark.django_db

BASE = "/api/reviews"


def post(client, url, body):
    return client.post(url, data=json.dumps(body), content_type="application/json")


def problem(response, status):
    assert response.status_code == status, response.content.decode()[:600]
    assert response["Content-Type"].startswith(PROBLEM_CONTENT_TYPE)
    return response.json()


def as_user(client, who):
    client.force_login(who.account if hasattr(who, "account") else who)
    return client


def test_rate_a_case_and_list_mine(client, rw):
    case = concluded(rw)
    as_user(client, rw.citizen)
    response = post(
        client,
        f"{BASE}/",
        {"case_id": str(case.public_id), "overall": 2, "scores": BAD_SCORES, "comment": "慢"},
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["case_number"] == case.number and body["overall"] == 2 and body["overall_label"] == "不满意"
    assert body["department_code"] == "SCJ" and body["staff_name"] == rw.head.name
    assert body["assisted"] is False and body["rectification"]["status"] == "open"
    assert body["rectification"]["deadline"] == "2026-03-09"
    again = problem(
        post(client, f"{BASE}/", {"case_id": str(case.public_id), "overall": 5, "scores": SCORES}), 422
    )
    assert again["errors"][0]["field"] == "case"
    mine = client.get(f"{BASE}/mine").json()
    assert [r["case_number"] for r in mine["items"]] == [case.number]


def test_rate_a_bundle(client, rw):
    bc = bundle_case(rw)
    as_user(client, rw.citizen)
    response = post(client, f"{BASE}/", {"bundle_case_id": str(bc.public_id), "overall": 5, "scores": SCORES})
    assert response.status_code == 201, response.content
    assert response.json()["bundle_case_number"] == bc.number and response.json()["staff_name"] is None
    sub = problem(
        post(client, f"{BASE}/", {"case_id": str(bc.sub_case.public_id), "overall": 5, "scores": SCORES}), 422
    )
    assert "一件事" in sub["errors"][0]["message"]
    as_user(client, rw.other_citizen)
    problem(
        post(
            client,
            f"{BASE}/",
            {"bundle_case_id": str(bundle_case(rw).public_id), "overall": 5, "scores": SCORES},
        ),
        404,
    )


def test_errors(client, rw):
    case = concluded(rw)
    body = {"case_id": str(case.public_id), "overall": 4, "scores": SCORES}
    problem(post(client, f"{BASE}/", body), 401)
    problem(client.get(f"{BASE}/rectifications"), 401)
    as_user(client, rw.other_citizen)
    problem(post(client, f"{BASE}/", body), 404)  # another applicant's case is not disclosed
    problem(client.get(f"{BASE}/rectifications"), 403)
    problem(client.get(f"{BASE}/report"), 403)
    window_body = {"case_id": str(case.public_id), "code": "123456", "overall": 4, "scores": SCORES}
    problem(post(client, f"{BASE}/window", window_body), 403)
    problem(post(client, f"{BASE}/window/code", {"case_id": str(case.public_id)}), 403)
    problem(client.get(f"{BASE}/window/subject", {"number": case.number}), 403)
    as_user(client, rw.citizen)
    bad = problem(post(client, f"{BASE}/", {**body, "scores": {**SCORES, "guide": 7}}), 422)
    assert bad["errors"][0]["field"] == "scores.guide"
    problem(post(client, f"{BASE}/", {"overall": 4, "scores": SCORES}), 422)
    problem(post(client, f"{BASE}/", {**body, "overall": "many"}), 422)
    problem(post(client, f"{BASE}/", {**body, "case_id": str(uuid.uuid4())}), 404)
    problem(post(client, f"{BASE}/", {**body, "case_id": str(concluded(rw, "in_review").public_id)}), 422)
    assert not Review.objects.exists()


def test_window_rating(client, rw):
    """The two steps over the API; who may and the code's rules: test_window_entitlement.py."""
    case = concluded(rw)
    as_user(client, rw.clerk)
    found = client.get(f"{BASE}/window/subject", {"number": case.number})
    assert found.status_code == 200, found.content
    assert found.json()["id"] == str(case.public_id) and found.json()["rateable"] is True
    assert found.json()["kind"] == "case" and found.json()["code_expires_at"] is None
    sent = post(client, f"{BASE}/window/code", {"case_id": found.json()["id"]})
    assert sent.status_code == 201, sent.content
    assert sent.json()["tries"] == window_svc.WINDOW_CODE_TRIES and "138" in sent.json()["sent_to"]
    assert client.get(f"{BASE}/window/subject", {"number": case.number}).json()["code_expires_at"]
    again = problem(post(client, f"{BASE}/window/code", {"case_id": found.json()["id"]}), 429)
    assert again["status"] == 429
    code = re.search(r"\b(\d{6})\b", Notification.objects.filter(recipient=rw.citizen).latest("id").body)[1]
    body = {"case_id": str(case.public_id), "code": code, "overall": 5, "scores": SCORES}
    response = post(client, f"{BASE}/window", body)
    assert response.status_code == 201, response.content
    assert response.json()["assisted"] is True and response.json()["channel"] == "window"
    problem(client.get(f"{BASE}/window/subject", {"number": "NOPE"}), 404)
    problem(post(client, f"{BASE}/window/code", {"case_id": str(uuid.uuid4())}), 404)
    problem(post(client, f"{BASE}/window/code", {}), 422)
    as_user(client, rw.far_clerk)
    problem(client.get(f"{BASE}/window/subject", {"number": case.number}), 404)
    problem(post(client, f"{BASE}/window", body), 404)


def test_rectification_steps_over_the_api(client, rw, django_assert_max_num_queries):
    review = svc.review_submit(actor=P(rw.citizen), case=concluded(rw), overall=1, scores=BAD_SCORES)
    rect_id = review.rectification.public_id
    url = f"{BASE}/rectifications/{rect_id}"
    as_user(client, rw.other_head)
    problem(post(client, f"{url}/reply", {"reply": "别的部门"}), 403)
    assert client.get(f"{BASE}/rectifications").json()["items"] == []
    as_user(client, rw.head)
    listed = client.get(f"{BASE}/rectifications").json()
    assert [r["id"] for r in listed["items"]] == [str(rect_id)]
    problem(post(client, f"{url}/reply", {"reply": ""}), 422)
    problem(post(client, f"{url}/close", {"note": "x"}), 403)  # a head does not close
    problem(post(client, f"{BASE}/rectifications/{uuid.uuid4()}/reply", {"reply": "x"}), 404)
    replied = post(client, f"{url}/reply", {"reply": "已整改"})
    assert (
        replied.status_code == 200 and replied.json()["status"] == "replied" and replied.json()["rounds"] == 1
    )
    problem(post(client, f"{url}/reply", {"reply": "再次"}), 422)
    as_user(client, rw.other_citizen)
    problem(post(client, f"{url}/respond", {"accepted": True}), 403)
    as_user(client, rw.citizen)
    problem(post(client, f"{url}/respond", {"accepted": False}), 422)
    responded = post(client, f"{url}/respond", {"accepted": True})
    assert responded.json()["status"] == "confirmed"
    as_user(client, rw.supervisor)
    closed = post(client, f"{url}/close", {})
    assert closed.status_code == 200 and closed.json()["status"] == "closed"
    assert Rectification.objects.get().status == "closed"
    for _ in range(3):
        svc.review_submit(actor=P(rw.citizen), case=concluded(rw), overall=2, scores=BAD_SCORES)
    with django_assert_max_num_queries(12):
        page = client.get(f"{BASE}/rectifications?status=all&limit=2").json()
    assert len(page["items"]) == 2 and page["next_cursor"]
    rest = client.get(f"{BASE}/rectifications?status=all&limit=2&cursor={page['next_cursor']}").json()
    assert len(rest["items"]) == 2 and rest["next_cursor"] is None
    assert {r["id"] for r in page["items"]}.isdisjoint({r["id"] for r in rest["items"]})
    problem(client.get(f"{BASE}/rectifications?status=weird"), 422)


def test_report_over_the_api(client, rw):
    svc.review_submit(actor=P(rw.citizen), case=concluded(rw), overall=5, scores=SCORES)
    as_user(client, rw.supervisor)
    for group_by in ("department", "item", "staff"):
        body = client.get(f"{BASE}/report?group_by={group_by}").json()
        assert body["group_by"] == group_by and body["totals"]["ratings"] == 1
        assert body["totals"]["rating_rate"] == 1.0 and body["distribution"]["5"] == 1
    problem(client.get(f"{BASE}/report?group_by=weather"), 422)
    problem(client.get(f"{BASE}/report?start=2026-03-05&end=2026-03-01"), 422)
    as_user(client, rw.head)
    assert client.get(f"{BASE}/report").json()["rows"][0]["label"] == rw.item_dept.name
