"""填表报数 in a browser: the civil-affairs bureau's admitted monthly form is issued to the villages (through the
form services), with the residents figure prefilled from the person registry. The first village's clerk opens
it from 填表报数, sees the figure marked 系统预填 with its source, fills the new fields and submits; the town's
head approves it on the review page; the bureau's issue page shows the district aggregate with the figures."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from tests.collab.world import build_collab_world, principal
from tests.factories import PASSWORD, PersonFactory
from yiwang.collab.models import FormAssignment
from yiwang.collab.services.forms import form_admit, form_create, form_issue, form_submit

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

FIELDS = [
    {"name": "residents", "label": "常住人口", "kind": "integer", "unit": "人", "prefill": "residents.count"},
    {"name": "volunteers", "label": "注册志愿者人数", "kind": "integer", "unit": "人",
     "rule": "volunteers <= residents", "rule_message": "志愿者人数不能多于常住人口"},
    {"name": "activities", "label": "开展集体活动次数", "kind": "integer", "unit": "次"},
]  # fmt: skip


def log_in(page, base: str, username: str) -> None:
    page.context.clear_cookies()
    page.goto(f"{base}/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_selector("h1")
    assert "/login" not in page.url, username


@pytest.fixture
def issued(settings, tmp_path):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.MEDIA_ROOT = tmp_path / "media"
    w = build_collab_world()
    for _n in range(5):
        PersonFactory(division=w.villages[0])
    owner = principal(w.mzj_head)
    form = form_create(
        actor=owner,
        code="MZYB",
        name="村（社区）民政工作月报",
        purpose="按月掌握志愿服务与集体活动情况",
        legal_basis="民政工作安排",
        frequency="monthly",
        target_level=3,
        fields=FIELDS,
    )
    form = form_submit(actor=owner, form=form)
    form = form_admit(actor=principal(w.centre), form=form, decision="approve")
    today = timezone.localdate()
    start = (today.replace(day=1) - dt.timedelta(days=1)).replace(day=1)
    issue = form_issue(
        actor=owner,
        form=form,
        period_label=f"{start:%Y年%m月}",
        period_start=start,
        period_end=today.replace(day=1) - dt.timedelta(days=1),
        due_on=today + dt.timedelta(days=7),
    )
    return w, issue


def test_a_village_fills_the_town_approves_the_district_aggregates(live_server, page, issued):
    w, issue = issued
    base = live_server.url
    mine = FormAssignment.objects.get(issue=issue, division=w.villages[0])

    # 1. The village clerk opens the form from 填表报数: the residents figure is the system's.
    log_in(page, base, w.village_clerks[0].account.username)
    page.goto(f"{base}/collab/reports/")
    page.click(f"tr[data-assignment='{mine.public_id}'] a[data-action=fill]")
    page.wait_for_selector("[data-testid=prefilled]")
    assert page.input_value("#v_residents") == "5"
    assert page.locator("[data-field=residents] [data-testid=prefill-source]").count() == 1
    page.fill("#v_volunteers", "9")
    page.fill("#v_activities", "2")
    with page.expect_navigation():
        page.click("button[data-action=submit]")
    assert "志愿者人数不能多于常住人口" in page.locator("main").inner_text()
    page.fill("#v_volunteers", "3")
    with page.expect_navigation():
        page.click("button[data-action=submit]")
    assert page.locator("[data-testid=report-status] [data-light=submitted]").count() == 1

    # 2. The town's head reviews and approves it.
    log_in(page, base, w.town_heads[0].account.username)
    page.goto(f"{base}/collab/reports/")
    page.click(f"tr[data-assignment='{mine.public_id}'] a[data-action=review]")
    page.wait_for_selector("[data-testid=review-values]")
    with page.expect_navigation():
        page.click("button[data-action=approve]")
    assert page.locator("[data-testid=report-status] [data-light=approved]").count() == 1

    # 3. The bureau sees the district aggregate.
    log_in(page, base, w.mzj_head.account.username)
    page.goto(f"{base}/collab/reports/")
    page.click(f"a[href*='{issue.public_id}']")
    page.wait_for_selector("[data-testid=report-aggregate]")
    assert page.inner_text("[data-testid=agg-residents]") == "5"
    assert page.inner_text("[data-testid=agg-volunteers]") == "3"
    assert page.inner_text("[data-testid=agg-activities]") == "2"
    assert page.inner_text("[data-testid=reporting-rate]") == "25.0%"
