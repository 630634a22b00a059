"""The 12345 hotline journey in a browser: a complaint taken by the operator is filed through the pipeline
(hotline channel, a point in a grid, 占道经营 routed to 城管 by the responsibility list), the 城管 handler opens
it from the work list and handles it with a note and a photo, the grid worker verifies it on site, and the
operator records the caller's satisfaction on the callbacks page; the timeline shows every step."""

from __future__ import annotations

import pytest

from tests.cases.factories import PNG_BYTES
from tests.factories import PASSWORD
from tests.incidents.factories import build_incident_world, point_in
from yiwang.incidents.models import Callback, Incident
from yiwang.incidents.services.intake import IntakeReport, incident_intake

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

GRID = "440199001002001"


@pytest.fixture
def world(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    return build_incident_world()


def log_in(page, base: str, username: str) -> None:
    page.context.clear_cookies()
    page.goto(f"{base}/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_selector("h1")
    assert "/login" not in page.url, username


def test_hotline_complaint_is_handled_verified_and_called_back(page, live_server, world, tmp_path):
    base = live_server.url
    lon, lat = point_in(GRID)
    incident = incident_intake(
        actor=world.p(world.operator),
        report=IntakeReport(
            channel="hotline",
            description="市场路口有流动摊贩占道卖水果，行人只能走机动车道",
            category_code="SRHJ01",
            lon=lon,
            lat=lat,
            reporter_name="王先生",
            reporter_phone="13800001111",
        ),
    ).incident
    incident = Incident.objects.get(pk=incident.pk)
    assert incident.state == "dispatched" and incident.assigned_department == world.cgj

    # --- the 城管 handler finds it in the work list and handles it with a note and a photo ------------------------
    log_in(page, base, world.cgj_handler.account.username)
    page.goto(f"{base}/incidents/work/")
    row = page.locator(f"table.incident-list tr:has-text('{incident.number}')")
    assert "处置中" in row.inner_text()
    row.locator("a").first.click()
    form = page.locator("form[data-action=handle]")
    form.locator("textarea[name=note]").fill("已劝离流动摊贩，清理占道物品，恢复人行道通行。")
    picture = tmp_path / "scene.png"
    picture.write_bytes(PNG_BYTES)
    form.locator("input[name=photos]").set_input_files(str(picture))
    form.locator("button[type=submit]").click()
    page.wait_for_selector(".messages .alert-success")
    assert "待核查" in page.locator("[data-testid=incident-state]").inner_text()

    # --- the grid worker verifies it ------------------------------------------------------------------------------
    log_in(page, base, world.grid_workers[GRID].account.username)
    page.goto(f"{base}/incidents/{incident.public_id}/")
    form = page.locator("form[data-action=verify]")
    form.locator("input[name=passed][value='1']").check()
    form.locator("textarea[name=note]").fill("现场复查，人行道已畅通。")
    form.locator("button[type=submit]").click()
    page.wait_for_selector(".messages .alert-success")
    assert "已结案" in page.locator("[data-testid=incident-state]").inner_text()

    # --- the operator calls back and records the caller's satisfaction --------------------------------------------
    log_in(page, base, world.operator.account.username)
    page.goto(f"{base}/incidents/callbacks/")
    form = page.locator(f"form[data-testid=callback-{incident.number}]")
    form.locator("select[name=satisfaction]").select_option("satisfied")
    form.locator("input[name=note]").fill("王先生表示满意")
    form.locator("button[type=submit]").click()
    page.wait_for_selector(".messages .alert-success")
    assert Callback.objects.get(incident=incident).satisfaction == "satisfied"

    page.goto(f"{base}/incidents/{incident.public_id}/")
    steps = page.locator("[data-testid=timeline] > li").evaluate_all("els => els.map(e => e.dataset.action)")
    assert steps == ["intake", "dispatch", "handle", "verify_pass", "callback"]
    assert page.locator("[data-testid=satisfaction]").inner_text() == "满意"
    assert page.locator(".incident-photos img").count() == 1
