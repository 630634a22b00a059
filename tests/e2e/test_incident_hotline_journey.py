"""The 12345 hotline journey in a browser: the operator takes a complaint on the hotline desk (caller's phone,
description, 占道经营, the place clicked on the grid map), the pipeline routes it to 城管 by the responsibility list
and location, the 城管 handler opens it from the work list and handles it with a note and a photo, the grid
worker verifies it on site, and the operator records the caller's satisfaction on the callbacks page; the
timeline shows every step."""

from __future__ import annotations

import pytest

from tests.cases.factories import PNG_BYTES
from tests.incidents.factories import point_in
from yiwang.incidents.models import Callback, Incident

# the incident world (fixture), the password login and the map click are shared with the report journeys
from .test_incident_report_journey import click_on_map, log_in, world  # noqa: F401

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

GRID = "440199001002001"


def test_hotline_complaint_is_handled_verified_and_called_back(page, live_server, world, tmp_path):  # noqa: F811
    base = live_server.url
    lon, lat = point_in(GRID)

    # --- the operator takes the call on the hotline desk ---------------------------------------------------------
    log_in(page, base, world.operator.account.username)
    page.goto(f"{base}/incidents/hotline/")
    page.fill("#id_reporter_phone", "13800001111")
    page.fill("input[name=reporter_name]", "王先生")
    page.check("input[name=kind][value=complaint]")
    page.fill("#id_description", "市场路口有流动摊贩占道卖水果，行人只能走机动车道")
    page.select_option("#id_category", "SRHJ01")
    # the caller lookup and the category suggestions arrive by HTMX and move the map down: let them settle first
    page.wait_for_selector("[data-testid=caller]")
    page.wait_for_selector("#suggestions > *")
    page.wait_for_load_state("networkidle")
    click_on_map(page, lon, lat)
    located = page.wait_for_selector("[data-testid=located]")
    assert GRID in located.inner_text()
    page.click("[data-testid=submit]")
    page.wait_for_selector("[data-testid=result]")
    assert page.locator("[data-testid=result-state]").inner_text() == "处置中"
    assert world.cgj.name in page.locator("[data-testid=result-unit]").inner_text()
    number = page.locator("[data-testid=result] .number").inner_text().strip()
    incident = Incident.objects.get(number=number)
    assert incident.channel == "hotline" and incident.assigned_department == world.cgj
    assert incident.grid.code == GRID and incident.reporter_staff == world.operator

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
