"""Pages of 共享申请: the 民政局 officer files a request for 人口基础信息 fields for 高龄津贴 from the 公安局; the 公安局
officer approves with masks; lists, grants, disputes; forbidden to clerks, citizens and other departments."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.datahub.world_sharing import build_sharing_world, request_kwargs
from yiwang.datahub.models import ShareDispute, ShareGrant, ShareRating, ShareRequest
from yiwang.datahub.services.sharing import share_request_create, share_request_transition

pytestmark = pytest.mark.django_db


@pytest.fixture
def w(db, clock, media_and_fast_passwords):
    return build_sharing_world()


def _login(client, staff_or_account):
    client.force_login(getattr(staff_or_account, "account", staff_or_account))
    return client


def _file(w, **kw) -> ShareRequest:
    return share_request_create(actor=w.mzj, **request_kwargs(w, **kw))


def test_journey_request_then_approve_with_masks(client, w):
    _login(client, w.mzj_officer)
    url = reverse("datahub:share_request_new")
    picker = client.get(url)
    assert picker.status_code == 200 and str(w.resource.public_id) in picker.content.decode()
    page = client.get(url, {"resource": str(w.resource.public_id)})
    html = page.content.decode()
    assert page.status_code == 200
    assert "有条件共享" in html and "无条件共享" in html and w.mzj_system.name in html
    assert w.scj_system.name not in html and "旧系统" not in html  # only my department's live gateway systems
    response = client.post(
        f"{url}?resource={w.resource.public_id}",
        {
            "fields_": ["id_number", "name", "birth_date"],
            "system": str(w.mzj_system.public_id),
            "scenario": "高龄津贴资格认定",
            "purpose": "核实申请人年龄与户籍",
            "legal_basis": "《老年人权益保障法》第三十三条",
            "frequency": "每日约 200 次",
            "term_start": "2026-03-02",
            "term_end": "2027-03-01",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    r = ShareRequest.objects.get()
    assert r.state == "requested" and r.fields == ["id_number", "name", "birth_date"]
    client.logout()
    _login(client, w.gaj_officer)
    listing = client.get(reverse("datahub:share_requests"), {"tab": "received"}).content.decode()
    assert r.number in listing
    detail_url = reverse("datahub:share_request_detail", args=[r.public_id])
    detail = client.get(detail_url).content.decode()
    assert (
        'name="mask_id_number"' in detail
        and 'value="approve"' in detail
        and 'name="row_filter_division"' in detail
    )
    response = client.post(
        reverse("datahub:share_request_act", args=[r.public_id]),
        {
            "action": "approve",
            "expected_version": "1",
            "mask_id_number": "MASK_SHOW_LAST_4",
            "mask_name": "MASK_SHOW_FIRST_4",
            "mask_birth_date": "MASK_DATE_SHOW_YEAR",
            "row_filter_division": "440199001",
            "rate_per_minute": "120",
            "valid_from": "2026-03-02",
            "valid_until": "2027-03-01",
            "note": "同意",
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    r.refresh_from_db()
    assert r.state == "active"
    grant = ShareGrant.objects.get(request=r)
    assert grant.fields == {
        "id_number": "MASK_SHOW_LAST_4",
        "name": "MASK_SHOW_FIRST_4",
        "birth_date": "MASK_DATE_SHOW_YEAR",
    }
    assert grant.row_filter == {"division": "440199001"} and grant.rate_per_minute == 120
    detail = client.get(detail_url).content.decode()
    assert grant.number in detail and 'data-action="suspend"' in detail and "receipts" in detail
    client.logout()
    _login(client, w.mzj_officer)
    grants = client.get(reverse("datahub:share_grants"), {"tab": "held"}).content.decode()
    assert grant.number in grants
    receipts = client.get(
        reverse("datahub:share_request_receipts", args=[r.public_id]), HTTP_HX_REQUEST="true"
    )
    assert receipts.status_code == 200 and "share_request.approve" in receipts.content.decode()


def test_filing_errors_show_on_the_form(client, w):
    _login(client, w.mzj_officer)
    url = f"{reverse('datahub:share_request_new')}?resource={w.resource.public_id}"
    response = client.post(
        url,
        {
            "fields_": ["name"],
            "system": str(w.mzj_system.public_id),
            "scenario": "高龄津贴",
            "purpose": "核实",
            "legal_basis": "依据",
            "frequency": "每日",
            "term_start": "2026-03-02",
            "term_end": "2026-03-01",
        },
    )
    assert response.status_code == 422 and "截止日期须晚于起始日期" in response.content.decode()
    response = client.post(url, {"system": "", "scenario": ""})
    assert response.status_code == 422
    assert not ShareRequest.objects.exists()


def test_stale_form_is_a_conflict_and_a_bad_answer_is_422(client, w):
    r = _file(w)
    share_request_transition(actor=w.gaj, request=r, move="offer")
    _login(client, w.gaj_officer)
    act = reverse("datahub:share_request_act", args=[r.public_id])
    response = client.post(act, {"action": "refuse", "expected_version": "1", "note": "依据"})
    assert response.status_code == 409
    response = client.post(act, {"action": "refuse", "expected_version": "2", "note": ""})
    assert response.status_code == 422 and "请填写不予共享的依据" in response.content.decode()
    response = client.post(
        act,
        {
            "action": "approve",
            "expected_version": "2",
            "mask_id_number": "omit",
            "mask_name": "omit",
            "mask_birth_date": "omit",
            "mask_division_code": "omit",
            "rate_per_minute": "60",
            "valid_from": "2026-03-02",
            "valid_until": "2027-03-01",
        },
    )
    assert response.status_code == 422
    r.refresh_from_db()
    assert r.state == "offered" and r.row_version == 2


def test_rating_and_dispute_from_the_detail_page_and_the_centre_resolves(client, w):
    r = _file(w, fields=["gender"])
    _login(client, w.mzj_officer)
    detail_url = reverse("datahub:share_request_detail", args=[r.public_id])
    assert 'data-form="rating"' in client.get(detail_url).content.decode()
    response = client.post(
        reverse("datahub:share_request_rate", args=[r.public_id]),
        {"period": "2026-Q1", "score": "5", "comment": "好"},
    )
    assert response.status_code == 302 and ShareRating.objects.count() == 1
    response = client.post(
        reverse("datahub:share_request_rate", args=[r.public_id]), {"period": "2026-Q1", "score": "4"}
    )
    assert response.status_code == 422
    response = client.post(
        reverse("datahub:share_request_dispute", args=[r.public_id]),
        {"subject": "数据不全", "description": "缺字段"},
    )
    assert response.status_code == 302
    dispute = ShareDispute.objects.get()
    client.logout()
    _login(client, w.centre_officer)
    listing = client.get(reverse("datahub:share_disputes")).content.decode()
    assert "数据不全" in listing and "记录协调结果" in listing
    response = client.post(
        reverse("datahub:share_dispute_resolve", args=[dispute.public_id]), {"resolution": "已补齐"}
    )
    assert response.status_code == 302
    dispute.refresh_from_db()
    assert dispute.status == "resolved"


def test_centre_queue_shows_overdue_in_red(client, w, clock):
    r = _file(w)
    clock.set(2026, 3, 11, 9)
    _login(client, w.centre_officer)
    html = client.get(reverse("datahub:share_requests"), {"tab": "centre"}).content.decode()
    assert r.number in html and 'data-overdue="1"' in html and "badge-danger" in html


def test_lists_have_bounded_queries(client, w, django_assert_max_num_queries):
    for _ in range(6):
        _file(w)
    _file(w, fields=["gender"])
    _login(client, w.mzj_officer)
    client.get(reverse("datahub:share_requests"))  # warm the session
    with django_assert_max_num_queries(12):
        assert client.get(reverse("datahub:share_requests")).status_code == 200
    with django_assert_max_num_queries(12):
        assert client.get(reverse("datahub:share_grants")).status_code == 200


@pytest.mark.parametrize("who", ["mzj_clerk", "citizen"])
def test_pages_are_forbidden_to_other_roles(client, w, who):
    r = _file(w)
    _login(client, getattr(w, who))
    for url in (
        reverse("datahub:share_requests"),
        reverse("datahub:share_request_new"),
        reverse("datahub:share_request_detail", args=[r.public_id]),
        reverse("datahub:share_grants"),
    ):
        assert client.get(url).status_code == 403, url
    response = client.post(reverse("datahub:share_request_act", args=[r.public_id]), {"action": "withdraw"})
    assert response.status_code == 403
    r.refresh_from_db()
    assert r.state == "requested"


def test_another_department_gets_404_and_anonymous_goes_to_login(client, w):
    r = _file(w)
    assert client.get(reverse("datahub:share_requests")).status_code == 302
    _login(client, w.scj_officer)
    assert client.get(reverse("datahub:share_request_detail", args=[r.public_id])).status_code == 404
    response = client.post(reverse("datahub:share_request_act", args=[r.public_id]), {"action": "approve"})
    assert response.status_code == 404
    assert r.number not in client.get(reverse("datahub:share_requests")).content.decode()
