"""No script from data (issue 11, section 4), in a browser.

A grid and its village renamed in the admin to markup that would run script must show as text in every map
tooltip that names them — the dispatcher's operations dashboard, the citizen's report map, the division browser —
and run nothing: no dialog, no window flag, no element made from the name. The Content-Security-Policy is the
second wall: the `page` fixture (conftest.py) fails any journey in which the browser refused something under it;
the last tests prove that detector and the policy on /api/docs, served from this origin without a CDN."""

from __future__ import annotations

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from tests.e2e.conftest import log_in_with_totp
from tests.incidents.factories import point_in
from yiwang.core.geo import grid_index_invalidate

from .test_incident_report_journey import world  # noqa: F401

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

GRID = "440199001002001"
VILLAGE = "440199001002"
GRID_NAME = '<img src=x onerror="window.__xss=(window.__xss||0)+1;alert(1)">网格'
VILLAGE_NAME = '<svg onload="window.__xss=(window.__xss||0)+1;alert(2)"></svg>社区'


@pytest.fixture
def hostile_names(world):  # noqa: F811
    """What an administrator could type as the names of a grid and its village."""
    world.grids[GRID].name = GRID_NAME
    world.grids[GRID].save(update_fields=["name"])
    village = world.grids[GRID].parent
    assert village.code == VILLAGE
    village.name = VILLAGE_NAME
    village.save(update_fields=["name"])
    grid_index_invalidate()  # the process memo of grids may hold the old names
    return world


log_in = log_in_with_totp


def _watch_for_script(page) -> list[str]:
    dialogs: list[str] = []

    def on_dialog(dialog) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    return dialogs


def _hover_until_tooltip(page, chart_id: str, finder: dict, lon: float, lat: float, text: str) -> None:
    """Moves the pointer onto (lon, lat) of the chart until its tooltip shows `text` (the page may still be
    settling: HTMX panels and the chart's first layout move the map under the pointer)."""
    page.wait_for_selector(f"#{chart_id} canvas")
    page.wait_for_load_state("networkidle")
    for _attempt in range(5):
        x, y = page.evaluate(
            "([id, finder, lon, lat]) => echarts.getInstanceByDom(document.getElementById(id))"
            ".convertToPixel(finder, [lon, lat])",
            [chart_id, finder, lon, lat],
        )
        chart = page.locator(f"#{chart_id}")
        chart.hover(position={"x": x - 3, "y": y - 3})  # scrolls the chart into view
        chart.hover(position={"x": x, "y": y})
        try:
            page.wait_for_function(
                "([id, text]) => document.getElementById(id).innerText.includes(text)",
                arg=[chart_id, text],
                timeout=3_000,
            )
            return
        except PlaywrightTimeoutError:
            page.mouse.move(0, 0)
            page.wait_for_timeout(300)
    shown = page.locator(f"#{chart_id}").inner_text()
    raise AssertionError(f"the tooltip of #{chart_id} never showed {text!r} as text; it shows {shown!r}")


MAPS = {
    # page, who opens it, chart element, how ECharts finds the coordinate, the names its tooltip shows
    "ops-dashboard": (
        "/incidents/ops/",
        "dispatcher",
        "ops-map",
        {"seriesIndex": 0},
        (GRID_NAME, VILLAGE_NAME),
    ),
    "report-map": ("/incidents/report/", "citizen", "grid-map", {"geoIndex": 0}, (GRID_NAME, VILLAGE_NAME)),
    "division-browser": (f"/org/?code={VILLAGE}", "dispatcher", "grid-map", {"seriesIndex": 0}, (GRID_NAME,)),
}


@pytest.mark.parametrize("which", MAPS)
def test_names_from_data_show_as_text_in_map_tooltips_and_run_nothing(
    page, live_server, hostile_names, which
):
    path, who, chart_id, finder, names = MAPS[which]
    account = hostile_names.citizen if who == "citizen" else getattr(hostile_names, who).account
    dialogs = _watch_for_script(page)
    log_in(page, live_server.url, account)
    page.goto(f"{live_server.url}{path}")
    lon, lat = point_in(GRID)
    for name in names:
        _hover_until_tooltip(page, chart_id, finder, lon, lat, name)
    made = page.evaluate(
        "id => document.getElementById(id).querySelectorAll('img, svg, script, iframe, object').length",
        chart_id,
    )
    assert made == 0, "the tooltip made elements from a name"
    page.wait_for_timeout(300)  # an onerror handler runs after the failed load of src=x
    assert page.evaluate("() => window.__xss") is None
    assert dialogs == []


def test_the_admin_where_the_names_are_typed_shows_them_as_text_under_the_policy(
    page, live_server, hostile_names
):
    account = hostile_names.admin.account
    account.is_staff = account.is_superuser = True
    account.save(update_fields=["is_staff", "is_superuser"])
    grid = hostile_names.grids[GRID]
    dialogs = _watch_for_script(page)
    log_in(page, live_server.url, account)
    page.goto(f"{live_server.url}/admin/core/division/?q={VILLAGE}")
    listed = page.inner_text("#result_list")
    assert GRID_NAME in listed and VILLAGE_NAME in listed
    page.goto(f"{live_server.url}/admin/core/division/{grid.pk}/change/")
    assert page.input_value("input[name=name]") == GRID_NAME
    page.wait_for_load_state("networkidle")
    assert page.evaluate("() => window.__xss") is None
    assert dialogs == []


def test_an_injected_inline_handler_is_refused_and_reported(page, live_server, world, csp_violations):  # noqa: F811
    """The detector every journey relies on: markup injected past the escaping cannot run script, and the
    refusal is seen (then cleared here, so this test does not fail on the violation it provoked)."""
    dialogs = _watch_for_script(page)
    log_in(page, live_server.url, world.dispatcher.account)
    page.goto(f"{live_server.url}/incidents/ops/")
    page.evaluate(
        "() => document.body.insertAdjacentHTML('beforeend', "
        "'<img src=x onerror=\"window.__xss=1;alert(1)\">')"
    )
    page.wait_for_function("() => document.querySelector('body > img[src=x]').complete")
    page.wait_for_timeout(300)
    assert page.evaluate("() => window.__xss") is None and dialogs == []
    deadline = 20
    while not csp_violations and deadline:
        page.wait_for_timeout(100)
        deadline -= 1
    assert any("script-src" in v for v in csp_violations), csp_violations
    csp_violations.clear()


def test_api_docs_load_from_this_origin_under_the_policy(page, live_server):
    origins: set[str] = set()
    page.on("request", lambda request: origins.add("/".join(request.url.split("/")[:3])))
    response = page.goto(f"{live_server.url}/api/docs")
    policy = response.headers.get("content-security-policy", "")
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy.split("style-src-attr")[0]
    # The OpenAPI document (every router of every app) is built on its first request: slow on a busy machine.
    page.wait_for_selector(".swagger-ui .info .title", timeout=90_000)
    assert "Yiwang" in page.inner_text(".swagger-ui .info .title")
    page.wait_for_selector(
        ".swagger-ui .opblock", timeout=90_000
    )  # the operations rendered from /api/openapi.json
    page.wait_for_load_state("networkidle")
    assert origins == {live_server.url}
