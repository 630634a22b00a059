"""秒批 on the pages: the receipt and the applicant's case page say why (approved: the passed rules; manual: the
failed ones), the staff work page lists each rule's result and the facts used."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.cases.factories import GOOD_FORM, World, required_files
from yiwang.cases import services

pytestmark = pytest.mark.django_db


def submit(world, account, **form):
    return services.case_submit(
        actor=World.p(account),
        item=world.item,
        form_data={**GOOD_FORM, **form},
        files=required_files(),
        idempotency_key=f"page-{account.pk}",
    )


def test_receipt_and_case_page_of_an_instant_approval(client, world, rules):
    case = submit(world, world.citizen)
    client.force_login(world.citizen)
    receipt = client.get(reverse("cases:receipt", args=[case.public_id])).content.decode()
    assert "办结（准予）" in receipt and "秒批：已自动准予" in receipt
    assert "年满18周岁" in receipt and "从业人数不超过10人" in receipt
    assert "综合受理窗口审核申请材料" not in receipt  # no "what happens next" for a concluded case
    detail = client.get(reverse("cases:detail", args=[case.public_id])).content.decode()
    assert 'id="instant"' in detail and 'data-outcome="approved"' in detail
    assert "已由系统自动准予并办结" in detail and "依据秒批规则第 1 版" in detail
    assert "秒批：规则全部通过，自动准予" in detail  # the timeline entry


def test_manual_review_shows_the_failed_rules_to_applicant_and_staff(client, world, rules):
    case = submit(world, world.citizen, staff_count="30")
    client.force_login(world.citizen)
    receipt = client.get(reverse("cases:receipt", args=[case.public_id])).content.decode()
    assert "秒批：转人工审核" in receipt and "从业人数超过10人" in receipt
    assert "综合受理窗口审核申请材料" in receipt
    detail = client.get(reverse("cases:detail", args=[case.public_id])).content.decode()
    assert "已转工作人员人工审核" in detail and "从业人数超过10人" in detail
    client.force_login(world.clerk.account)
    work = client.get(reverse("cases:work", args=[case.public_id]))
    assert work.status_code == 200
    html = work.content.decode()
    assert "秒批判定" in html and "转人工审核" in html and "1 项规则未通过" in html
    assert 'data-rule="staff" data-passed="0"' in html and "form_staff_count &lt;= 10" in html
    assert 'data-rule="age" data-passed="1"' in html
    assert "判定所用数据" in html and "form_staff_count" in html


def test_no_panel_without_rules(client, world):
    case = submit(world, world.citizen)
    client.force_login(world.citizen)
    assert 'id="instant"' not in client.get(reverse("cases:detail", args=[case.public_id])).content.decode()
    assert "秒批" not in client.get(reverse("cases:receipt", args=[case.public_id])).content.decode()


def test_another_applicant_cannot_see_the_decision(client, world, rules):
    case = submit(world, world.citizen)
    client.force_login(world.other_citizen)
    assert client.get(reverse("cases:detail", args=[case.public_id])).status_code == 404
    assert client.get(reverse("cases:receipt", args=[case.public_id])).status_code == 404
