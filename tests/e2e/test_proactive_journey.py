"""The 免申即享 journey in a browser: the demo citizen finds the benefit the district matched them to (no
application), sees why they qualify, confirms, and finds the concluded case; the data officer sees it counted."""

from __future__ import annotations

import pytest

from yiwang.cases.models import Entitlement
from yiwang.core.models import Account
from yiwang.demo import demo_load

from .test_apply_journey import log_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def demo(settings, tmp_path):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.Argon2PasswordHasher"]
    settings.MEDIA_ROOT = tmp_path / "media"
    demo_load(scale=0.02, upto="services")


def test_citizen_confirms_a_proactive_benefit_and_finds_the_concluded_case(page, live_server, demo):
    base = live_server.url
    citizen = Account.objects.get(username="citizen")
    mine = Entitlement.objects.filter(person_id=citizen.person_id)
    assert [e.status for e in mine] == ["notified"]
    policy_name = mine.get().policy.name

    log_in(page, base, "citizen")
    page.goto(f"{base}/cases/entitlements/")
    card = page.locator("article.entitlement[data-status=notified]")
    assert card.count() == 1
    assert policy_name in card.locator("h2").inner_text()
    assert "年满18周岁" in card.locator(".rules-met").inner_text()
    card.locator("form.confirm-form button[type=submit]").click()
    page.wait_for_selector(".messages .alert-success")
    assert "已为您办结" in page.locator(".messages").inner_text()

    granted = page.locator("article.entitlement[data-status=granted]")
    assert granted.count() == 1
    number = granted.locator("a.case-link").inner_text().strip()
    assert number.startswith("YBJ-")
    granted.locator("a.case-link").click()
    page.wait_for_selector("ol.timeline")
    assert "办结（准予）" in page.locator(".page-head").inner_text()
    actions = [e.get_attribute("data-action") for e in page.locator("ol.timeline li.timeline-entry").all()]
    assert actions == ["submit", "proactive_grant"]
    assert "免申即享" in page.locator("ol.timeline").inner_text()

    page.goto(f"{base}/cases/mine/")
    assert number in page.locator("table.case-list").inner_text()

    # --- the data officer sees the grant counted, with reasons for exclusion -----------------------------------
    log_in(page, base, "dataofficer")
    page.goto(f"{base}/cases/policies/")
    row = page.locator("tr[data-policy=cxjm-canbao]")
    assert int(row.locator(".stat-granted").inner_text()) == 1
    row.locator("a").first.click()
    page.wait_for_selector("table.policy-reasons")
    assert "居住在试点村（社区）" in page.locator("table.policy-reasons").inner_text()
