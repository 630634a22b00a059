"""一网统管 intake journeys in a browser: a citizen reports a problem with a photo and a point clicked on the grid
map, gets the receipt number and finds the report with its photo in 我的诉求; a hotline operator looks up the
caller, files a consultation and answers it from the knowledge base at once (一网通答)."""

from __future__ import annotations

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from tests.factories import PASSWORD
from tests.incidents.factories import build_incident_world, point_in
from tests.incidents.test_report_pages import png_bytes
from yiwang.incidents.models import Incident, KnowledgeAnswer

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


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


def click_on_map(page, lon: float, lat: float) -> None:
    """Clicks the grid map where (lon, lat) is drawn (ECharts converts the coordinate to a pixel) and waits until
    the form holds that point. The page may still be settling (HTMX panels, the chart's first layout) and move
    the map under the pointer, so a click that missed is retried with a fresh pixel."""
    page.wait_for_selector("#grid-map canvas")
    page.wait_for_load_state("networkidle")
    for _attempt in range(4):
        x, y = page.evaluate(
            "([lon, lat]) => echarts.getInstanceByDom(document.getElementById('grid-map'))"
            ".convertToPixel({geoIndex: 0}, [lon, lat])",
            [lon, lat],
        )
        page.click("#grid-map", position={"x": x, "y": y})
        try:
            page.wait_for_function(
                "([lon, lat]) => Math.abs(parseFloat(document.getElementById('id_lon').value) - lon) < 0.002"
                " && Math.abs(parseFloat(document.getElementById('id_lat').value) - lat) < 0.002",
                arg=[lon, lat],
                timeout=3_000,
            )
            return
        except PlaywrightTimeoutError:
            page.wait_for_timeout(500)
    raise AssertionError(f"clicking the map did not set the point {lon}, {lat}")


def test_citizen_reports_with_a_photo_and_a_map_point(page, live_server, world):
    base = live_server.url
    log_in(page, base, world.citizen.username)
    page.goto(f"{base}/incidents/report/")
    page.select_option("#id_category", "SRHJ01")
    page.fill("#id_description", "小区门口流动摊贩占道经营，行人只能走机动车道")
    page.set_input_files(
        "#id_photos", files=[{"name": "scene.png", "mimeType": "image/png", "buffer": png_bytes(16, 16)}]
    )
    lon, lat = point_in("440199001002001")
    click_on_map(page, lon, lat)
    located = page.wait_for_selector("[data-testid=located]")
    assert "440199001002001" in located.inner_text() and "凤岗社区" in located.inner_text()
    page.click("[data-testid=submit]")
    number = page.wait_for_selector("[data-testid=receipt-number]").inner_text()
    incident = Incident.objects.get(number=number)
    assert incident.grid.code == "440199001002001" and incident.assigned_department == world.cgj
    assert abs(incident.lon - lon) < 0.002 and abs(incident.lat - lat) < 0.002

    page.goto(f"{base}/incidents/mine/")
    page.click(f"[data-testid=mine-list] a:has-text('{number}')")
    page.wait_for_selector("[data-testid=mine-photos] img")
    assert world.cgj.name in page.locator("[data-testid=mine-unit]").inner_text()
    # a function, not an expression string: Playwright evaluates the latter with eval, which the CSP refuses
    page.wait_for_function("() => document.querySelector('[data-testid=mine-photos] img').complete")
    width = page.evaluate("() => document.querySelector('[data-testid=mine-photos] img').naturalWidth")
    assert width == 16  # the photo itself is served to its reporter


def test_operator_answers_a_consultation_from_the_knowledge_base(page, live_server, world):
    from yiwang.incidents.services.knowledge import knowledge_save

    answer = knowledge_save(
        actor=None,
        answer=KnowledgeAnswer(
            question="居住证怎么办理",
            answer="携带身份证、居住证明到居住地派出所办理。",
            keywords="居住证 办理",
        ),
    )
    base = live_server.url
    log_in(page, base, world.operator.account.username)
    page.goto(f"{base}/incidents/hotline/")
    page.fill("#id_reporter_phone", world.citizen.person.phone)
    page.press("#id_reporter_phone", "Enter")  # looks the caller up, does not submit
    caller = page.wait_for_selector("[data-testid=caller]")
    assert world.citizen.person.name in caller.inner_text()
    page.check("input[name=kind][value=consultation]")
    page.fill("#id_description", "想问一下居住证在哪里办")
    page.fill("#id_q", "居住证")
    page.wait_for_selector("[data-testid=kb-answer]")
    page.click("[data-testid=kb-answer] button[name=answer_with]")
    result = page.wait_for_selector("[data-testid=result]")
    assert "已答复并办结" in result.inner_text()
    incident = Incident.objects.get()
    assert incident.state == Incident.State.CLOSED and incident.closure == Incident.Closure.ANSWERED
    assert incident.resolution == answer.answer
    assert page.input_value("#id_description") == ""  # a fresh form for the next call
