"""告知承诺 and 容缺 pages: the apply page's pledge choice, the case page panels, 补交, the verifiers' queue and
the verify form."""

from __future__ import annotations

import re
import uuid

import pytest
from django.urls import reverse

from tests.cases.factories import pdf
from yiwang.cases import services
from yiwang.cases.models import Case, Pledge, PledgeVerification
from yiwang.cases.pledges import services as pledge_services

from .conftest import advance, p, submit_owing, submit_pledged

pytestmark = pytest.mark.django_db


def apply_post(**overrides) -> dict:
    data = {
        "f_shop_name": "张三小吃店",
        "f_staff_count": "3",
        "idempotency_key": uuid.uuid4().hex,
        "intent": "submit",
        "m_premises": pdf("场所.pdf"),
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


# --- apply ---------------------------------------------------------------------------------------------------
def test_apply_page_offers_the_pledge_for_allowed_materials_only(client, world):
    client.force_login(world.citizen)
    html = client.get(reverse("cases:apply", args=[world.item.code])).content.decode()
    boxes = re.findall(r'name="pledged" value="([^"]+)"', html)
    assert boxes == ["id_card"]
    assert "以告知承诺代替" in html and "告知承诺书" in html
    assert "虚假承诺的，撤销决定并记入信用记录" in html and "“身份证明”" in html
    assert 'name="pledge_accept"' in html


def test_apply_with_a_pledge_files_the_case(client, world):
    client.force_login(world.citizen)
    response = client.post(
        reverse("cases:apply", args=[world.item.code]), apply_post(pledged="id_card", pledge_accept="on")
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    case = Case.objects.get(applicant_account=world.citizen)
    assert Pledge.objects.get(case=case).materials == ["id_card"]


def test_apply_pledge_without_acceptance_keeps_the_input(client, world):
    client.force_login(world.citizen)
    response = client.post(
        reverse("cases:apply", args=[world.item.code]), apply_post(pledged="id_card", f_shop_name="老王面馆")
    )
    assert response.status_code == 422
    html = response.content.decode()
    assert 'id="err_pledge_accept"' in html and "请阅读告知承诺书" in html
    assert re.search(r'name="pledged" value="id_card"[^>]*checked', html)
    assert 'value="老王面馆"' in html
    assert not Case.objects.exclude(state=Case.State.DRAFT).exists()


def test_apply_pledge_of_a_material_that_does_not_allow_it(client, world):
    client.force_login(world.citizen)
    response = client.post(
        reverse("cases:apply", args=[world.item.code]),
        apply_post(pledged=["id_card", "premises"], pledge_accept="on", m_premises=None),
    )
    assert response.status_code == 422
    html = response.content.decode()
    assert "“经营场所证明”不适用告知承诺" in html
    assert not Pledge.objects.exists()


# --- case pages ----------------------------------------------------------------------------------------------
def test_applicant_sees_the_pledge_and_its_verification(client, world):
    case = advance(world, submit_pledged(world), "approved")
    client.force_login(world.citizen)
    html = client.get(reverse("cases:detail", args=[case.public_id])).content.decode()
    assert 'id="pledge"' in html and "身份证明" in html and "待核查" in html
    verification = PledgeVerification.objects.get(case=case)
    pledge_services.pledge_verify(
        actor=p(world.approver), verification=verification, passed=False, result="承诺不实"
    )
    html = client.get(reverse("cases:detail", args=[case.public_id])).content.decode()
    assert "核查不实" in html and "承诺不实" in html and "已撤销准予" in html
    # the revoked approval has no printable approval notice
    assert client.get(reverse("cases:notice", args=[case.public_id])).status_code == 404


def test_applicant_supplies_owed_materials_from_the_case_page(client, world):
    case = services.case_action_take(actor=p(world.clerk), case=submit_owing(world), action="accept")
    client.force_login(world.citizen)
    html = client.get(reverse("cases:detail", args=[case.public_id])).content.decode()
    assert 'id="owed-supply"' in html and "2026年3月9日" in html
    assert reverse("cases:owed_supply", args=[case.public_id]) in html
    url = reverse("cases:owed_supply", args=[case.public_id])
    response = client.post(url, {"m_premises": pdf("场所.pdf")})
    assert response.status_code == 302 and response["Location"] == reverse(
        "cases:detail", args=[case.public_id]
    )
    case.refresh_from_db()
    assert case.owed_deadline is None


def test_owed_supply_errors_are_shown_on_the_case_page(client, world):
    case = services.case_action_take(actor=p(world.clerk), case=submit_owing(world), action="accept")
    client.force_login(world.citizen)
    response = client.post(reverse("cases:owed_supply", args=[case.public_id]), {})
    assert response.status_code == 422
    assert "请选择要补交的材料文件" in response.content.decode()
    client.force_login(world.other_citizen)
    assert client.post(reverse("cases:owed_supply", args=[case.public_id]), {}).status_code == 404


def test_staff_work_page_shows_pledge_and_owed(client, world):
    case = advance(world, submit_pledged(world), "in_delivery")
    client.force_login(world.approver.account)
    html = client.get(reverse("cases:work", args=[case.public_id])).content.decode()
    assert 'id="pledge-staff"' in html and "身份证明" in html and "待核查" in html
    verification = PledgeVerification.objects.get(case=case)
    assert reverse("cases:pledge_check", args=[verification.public_id]) in html
    owing = services.case_action_take(actor=p(world.clerk), case=submit_owing(world), action="accept")
    html = client.get(reverse("cases:work", args=[owing.public_id])).content.decode()
    assert "容缺待补交" in html and "2026-03-09" in html


# --- the verifiers' queue -----------------------------------------------------------------------------------
def _verifications(world, n: int) -> list[PledgeVerification]:
    return [
        PledgeVerification.objects.get(case=advance(world, submit_pledged(world), "approved"))
        for _ in range(n)
    ]


def test_checks_list_is_scoped_keyset_paged_and_highlights_overdue(
    client, world, clock, django_assert_max_num_queries
):
    rows = _verifications(world, 3)
    PledgeVerification.objects.filter(pk=rows[0].pk).update(due_date="2026-03-01")
    client.force_login(world.approver.account)
    url = reverse("cases:pledge_checks")
    client.get(url)  # warm the session and caches
    with django_assert_max_num_queries(12):
        html = client.get(url).content.decode()
    assert html.count("data-verification=") == 3
    assert re.search(rf'data-verification="{rows[0].public_id}" class="overdue"', html)
    # more rows, same number of queries
    _verifications(world, 4)
    with django_assert_max_num_queries(12):
        html = client.get(url).content.decode()
    assert html.count("data-verification=") == 7
    client.force_login(world.other_approver.account)
    assert "data-verification=" not in client.get(url).content.decode()
    client.force_login(world.clerk.account)
    assert client.get(url).status_code == 403
    client.force_login(world.citizen)
    assert client.get(url).status_code == 403


def test_checks_list_pages(client, world):
    from yiwang.cases.pledges import selectors as selectors_pledge

    rows = _verifications(world, 3)
    page = selectors_pledge.pledge_checks_for(p(world.approver), limit=2)
    assert [v.pk for v in page.items] == [rows[0].pk, rows[1].pk] and page.next_cursor
    rest = selectors_pledge.pledge_checks_for(p(world.approver), limit=2, cursor=page.next_cursor)
    assert [v.pk for v in rest.items] == [rows[2].pk] and rest.next_cursor is None


def test_verify_form(client, world):
    (verification,) = _verifications(world, 1)
    url = reverse("cases:pledge_check", args=[verification.public_id])
    client.force_login(world.other_approver.account)
    assert client.get(url).status_code == 404
    client.force_login(world.head.account)
    html = client.get(url).content.decode()
    assert "告知承诺书" in html and verification.case.number in html and 'name="outcome"' in html
    response = client.post(url, {"outcome": "failed", "result": ""})
    assert response.status_code == 422 and "请填写核查意见" in response.content.decode()
    response = client.post(url, {"outcome": "failed", "result": "经营场所实地核查不符"})
    assert response.status_code == 302 and response["Location"] == reverse("cases:pledge_checks")
    verification.refresh_from_db()
    assert verification.status == PledgeVerification.Status.FAILED
    assert Case.objects.get(pk=verification.case_id).state == Case.State.REVOKED
    html = client.get(url).content.decode()
    assert 'name="outcome"' not in html and "经营场所实地核查不符" in html
    assert client.post(url, {"outcome": "passed"}).status_code == 422
