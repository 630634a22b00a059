"""The 一件事 pages: catalogue, guide, apply (one form, errors per field, nothing lost), detail with one
timeline, my applications (query counts), the panels on the sub-case pages, and the admin."""

from __future__ import annotations

import uuid

import pytest
from django.urls import reverse

from yiwang.cases.models import BundleCase
from yiwang.catalog.models import Bundle

from .conftest import World, approve, deny, parts_of, pdf, submit

pytestmark = pytest.mark.django_db


def test_catalogue_and_guide_are_public(client, world, django_assert_max_num_queries):
    with django_assert_max_num_queries(12):
        page = client.get(reverse("catalog:bundles"))
    assert page.status_code == 200
    text = page.content.decode()
    assert "开办小吃店" in text and "营业执照登记" in text and "市场监督管理局" in text
    guide = client.get(reverse("catalog:bundle", args=["snack-shop"])).content.decode()
    for text in ("食品经营许可", "在营业执照登记准予后自动分送办理", "身份证明", "招牌设置备案", "一次申请"):
        assert text in guide
    assert client.get(reverse("catalog:bundle", args=["nothing"])).status_code == 404


def post_data(**overrides):
    data = {
        "f_applicant_name": "",  # registry-sourced: filled by the service
        "f_business_address": "云岭大道 8 号",
        "f_shop_name": "小吃店",
        "f_area": "50",
        "f_sign_size": "2",
        "idempotency_key": uuid.uuid4().hex,
        "m_id_card": pdf(),
        "m_plan": pdf(),
        "m_sign": pdf(),
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def test_apply_page_is_one_prefilled_form(client, world):
    client.force_login(world.citizen)
    page = client.get(reverse("cases:bundle_apply", args=["snack-shop"])).content.decode()
    assert page.count('name="f_applicant_name"') == 1 and page.count('name="m_id_card"') == 1
    assert world.citizen.person.name in page and "来自自然人基础库" in page
    assert "用于：营业执照登记、食品经营许可、招牌设置备案" in page


def test_apply_shows_field_errors_and_keeps_what_was_typed(client, world):
    client.force_login(world.citizen)
    response = client.post(
        reverse("cases:bundle_apply", args=["snack-shop"]),
        post_data(f_sign_size="很大", f_area="", m_plan=None),
    )
    assert response.status_code == 422
    text = response.content.decode()
    assert "请输入数字。" in text and "此项为必填项。" in text and "请上传“场所平面图”。" in text
    assert 'value="小吃店"' in text and 'value="云岭大道 8 号"' in text
    assert not BundleCase.objects.exists()


def test_apply_then_follow_the_application(client, world):
    client.force_login(world.citizen)
    response = client.post(reverse("cases:bundle_apply", args=["snack-shop"]), post_data())
    assert response.status_code == 302
    bc = BundleCase.objects.get()
    assert response["Location"] == reverse("cases:bundle_detail", args=[bc.public_id])
    assert bc.form_data["fields"]["applicant_name"] == world.citizen.person.name  # the registry wins
    parts = parts_of(bc)
    deny(world, parts["TST-QR-001"].case, reason="住所证明无效")
    approve(world, parts["TST-XK-002"].case)
    page = client.get(response["Location"]).content.decode()
    assert "已办结" in page and "部分准予" in page and "住所证明无效" in page and "前置事项未获准予" in page
    # one timeline: submission, then both sub-cases' steps, each labelled with its item
    assert (
        page.count('class="timeline-entry"') == 1 + 4 + 5
    )  # submit; A: 4 steps to denial; C: 5 to conclusion
    assert 'data-item="TST-QR-001"' in page and 'data-item="TST-XK-002"' in page


def test_others_do_not_see_the_application(client, world):
    bc = submit(world)
    url = reverse("cases:bundle_detail", args=[bc.public_id])
    client.force_login(world.other_citizen)
    assert client.get(url).status_code == 404
    client.force_login(world.far_approver.account)
    assert client.get(url).status_code == 404
    client.force_login(world.approver_c.account)
    page = client.get(url)
    assert page.status_code == 200 and "招牌设置备案" in page.content.decode()


def test_my_applications_page_is_keyset_paginated_without_n_plus_1(
    client, world, django_assert_max_num_queries
):
    for _ in range(4):
        submit(world)
    client.force_login(world.citizen)
    client.get(reverse("cases:bundle_mine"))  # warm the session and caches
    with django_assert_max_num_queries(12):
        page = client.get(reverse("cases:bundle_mine"))
    assert page.content.decode().count('<td class="mono">YJS-') == 4
    for _ in range(8):
        submit(world)
    with django_assert_max_num_queries(12):
        page = client.get(reverse("cases:bundle_mine"))
    assert page.content.decode().count('<td class="mono">YJS-') == 12
    assert client.get(reverse("cases:mine")).content.decode().count(reverse("cases:bundle_mine")) >= 1


def test_sub_case_pages_say_which_bundle_they_belong_to(client, world):
    bc = submit(world)
    sign = parts_of(bc)["TST-XK-002"].case
    client.force_login(world.citizen)
    page = client.get(reverse("cases:detail", args=[sign.public_id])).content.decode()
    assert "本办件属于一件事“开办小吃店”" in page and bc.number in page
    client.force_login(world.approver_c.account)
    work = client.get(reverse("cases:work", args=[sign.public_id])).content.decode()
    assert "营业执照登记" in work and "食品经营许可" in work and "等待前置事项" in work


def test_admin_validates_the_declaration(client, world):
    admin_account = world.district_admin.account
    admin_account.is_staff = True
    admin_account.save()
    client.force_login(admin_account)
    session = client.session
    session["mfa_ok"] = True
    session.save()
    url = reverse("admin:catalog_bundle_add")
    data = {
        "code": "kiosk",
        "name": "开报刊亭",
        "description": "",
        "audience": "person",
        "lead_department": world.scj.pk,
        "keywords": "",
        "sort": "0",
        "members-TOTAL_FORMS": "2",
        "members-INITIAL_FORMS": "0",
        "members-MIN_NUM_FORMS": "0",
        "members-MAX_NUM_FORMS": "1000",
        "members-0-sort": "1",
        "members-0-item_code": "TST-QR-001",
        "members-0-after": "TST-XK-002",
        "members-1-sort": "2",
        "members-1-item_code": "TST-XK-002",
        "members-1-after": "TST-QR-001",
    }
    response = client.post(url, data)
    assert response.status_code == 200, response.status_code
    assert "前置事项形成循环" in response.content.decode()
    data["members-1-after"] = ""
    response = client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:3000]
    kiosk = Bundle.objects.get(code="kiosk")
    assert [(m.item_code, m.after) for m in kiosk.members.all()] == [
        ("TST-QR-001", ["TST-XK-002"]),
        ("TST-XK-002", []),
    ]


def test_bundle_case_admin_is_read_only(client, world):
    bc = submit(world)
    admin_account = world.district_admin.account
    admin_account.is_staff = True
    admin_account.is_superuser = True
    admin_account.save()
    client.force_login(admin_account)
    session = client.session
    session["mfa_ok"] = True
    session.save()
    page = client.get(reverse("admin:cases_bundlecase_change", args=[bc.pk]))
    assert page.status_code == 200 and bc.number in page.content.decode()
    assert client.get(reverse("admin:cases_bundlecase_add")).status_code == 403
    assert World.p(world.citizen).account.pk == bc.applicant_account_id
