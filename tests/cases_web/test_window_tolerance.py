"""容缺 on the window page: a checkbox per tolerant material; what was accepted without is shown as owed on the
work page and to the applicant."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from tests.factories import AccountFactory
from yiwang.cases.models import Case

from .conftest import pdf

pytestmark = pytest.mark.django_db


def window_post(item, person, **overrides) -> dict:
    data = {
        "item": item.code,
        "idempotency_key": "0123456789abcdef",
        "id_number": person.id_number,
        "f_applicant_name": person.name,
        "f_id_number": person.id_number,
        "f_phone": "13900139000",
        "f_reason": "窗口申请",
        "m_application": pdf(),
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def test_window_page_offers_tolerance_for_tolerant_materials_only(client, item, clerk):
    client.force_login(clerk.account)
    html = client.get(reverse("cases:window"), {"item": item.code}).content.decode()
    boxes = re.findall(r'name="tolerant_missing" value="([^"]+)"', html)
    assert boxes == ["proof"]  # 收入证明 is tolerant; 申请书 is not, 照片 is optional
    assert "容缺（后补）" in html


def test_missing_material_without_the_tick_is_refused(client, item, clerk):
    walk_in = AccountFactory(citizen=True).person
    client.force_login(clerk.account)
    response = client.post(reverse("cases:window"), window_post(item, walk_in))
    assert response.status_code == 422
    assert "请上传“收入证明”。" in response.content.decode()
    assert not Case.objects.exists()
    # The ticked box survives the re-rendered form.
    response = client.post(
        reverse("cases:window"), window_post(item, walk_in, tolerant_missing="proof", f_phone="123")
    )
    assert response.status_code == 422
    assert re.search(r'name="tolerant_missing" value="proof" checked', response.content.decode())


def test_window_accepts_with_tolerance_and_everyone_sees_what_is_owed(client, item, clerk):
    applicant = AccountFactory(citizen=True)
    client.force_login(clerk.account)
    response = client.post(
        reverse("cases:window"),
        window_post(item, applicant.person, tolerant_missing="proof", opinion="原件已核验"),
        follow=True,
    )
    assert response.status_code == 200
    case = Case.objects.get(applicant_person=applicant.person)
    assert case.current_step == "review" and case.accepted_at is not None
    html = response.content.decode()
    assert "容缺受理，待补交：收入证明" in html  # the success message and the acceptance in the timeline
    assert "容缺待补交" in html  # the material list on the work page
    accepted = case.history.get(action="accept")
    assert accepted.opinion == "原件已核验；容缺受理，待补交：收入证明"
    client.force_login(applicant)
    detail = client.get(reverse("cases:detail", args=[case.public_id])).content.decode()
    owed = re.search(r'<ul class="owed-materials">(.*?)</ul>', detail, re.S).group(1)
    assert "收入证明" in owed and "申请书" not in owed


def test_a_ticked_material_that_was_uploaded_is_not_owed(client, item, clerk):
    applicant = AccountFactory(citizen=True)
    client.force_login(clerk.account)
    response = client.post(
        reverse("cases:window"), window_post(item, applicant.person, tolerant_missing="proof", m_proof=pdf())
    )
    assert response.status_code == 302
    case = Case.objects.get(applicant_person=applicant.person)
    assert "容缺" not in case.history.get(action="accept").opinion
    work = client.get(reverse("cases:work", args=[case.public_id])).content.decode()
    assert "容缺待补交" not in work
