"""The indicator journey in a browser: the district office computes 12345 按期办结率 for last month on the
indicator page, sees 市场监管局 breach the threshold (red light), follows the link to the 督办 task the breach opened,
and the bureau's head finds that task on their workbench (指标 → 任务 → 督办)."""

from __future__ import annotations

import itertools
from decimal import Decimal

import pytest

from tests.cases.factories import at
from tests.collab.world import build_collab_world, principal
from tests.factories import PASSWORD
from yiwang.collab.models import Task
from yiwang.collab.services.indicators import indicator_create
from yiwang.incidents.models import Incident

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
_seq = itertools.count(1)


def log_in(page, base: str, username: str) -> None:
    page.context.clear_cookies()
    page.goto(f"{base}/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_selector("h1")
    assert "/login" not in page.url, username


@pytest.fixture
def world(settings, tmp_path, clock):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.MEDIA_ROOT = tmp_path / "media"
    clock.set(2026, 3, 10)
    w = build_collab_world()
    for dept, on_time in ((w.d_scj, False), (w.d_scj, False), (w.d_scj, True), (w.d_mzj, True)):
        Incident.objects.create(
            number=f"GDJ{next(_seq):08d}",
            channel="hotline",
            title="占道经营",
            description="路边摊占用人行道",
            town=w.towns[0],
            assigned_department=dept,
            state="closed",
            closed_at=at(2026, 2, 10),
            closed_on_time=on_time,
        )
    indicator_create(
        actor=principal(w.office),
        code="RX-ONTIME",
        name="12345 诉求按期办结率",
        definition="按期办结工单 ÷ 结案工单",
        metric="hotline_on_time_rate",
        owner_department=w.d_office,
        target=Decimal(95),
        threshold=Decimal(90),
    )
    return w


def test_a_breached_indicator_opens_a_task_for_the_unit(live_server, page, world):
    base = live_server.url
    page.set_default_timeout(60_000)  # a loaded machine: the live server's first pages can be slow

    # 1. The office opens the indicator for February and computes it.
    log_in(page, base, "office")
    page.goto(f"{base}/collab/indicators/")
    with page.expect_navigation():
        page.click("a[href='/collab/indicators/RX-ONTIME/']")
    page.goto(f"{base}/collab/indicators/RX-ONTIME/?period=2026-02-01")
    with page.expect_navigation():
        page.click("[data-testid=compute]")
    page.wait_for_selector("[data-testid=values]")
    row = page.locator("tr[data-unit=SCJ]")
    assert row.get_attribute("data-breached") == "1" and row.locator(".light-breach").count() == 1
    assert page.locator("tr[data-unit=MZJ]").get_attribute("data-breached") == "0"
    task = Task.objects.get(indicator__code="RX-ONTIME")
    assert task.lead_department == world.d_scj and task.source == "indicator"

    # 2. The office follows the link to the task the breach opened.
    with page.expect_navigation():
        row.locator("[data-testid=opened-task]").click()
    assert page.url.endswith(f"/collab/tasks/{task.public_id}/")
    assert task.code in page.inner_text("main") and "指标预警" in page.inner_text("h1")

    # 3. The bureau's head finds it on the workbench.
    log_in(page, base, "scjhead")
    page.goto(f"{base}/collab/")
    page.wait_for_selector("h1")
    assert page.locator(f"a[href*='{task.public_id}']").count() >= 1
