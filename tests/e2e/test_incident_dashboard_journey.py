"""一网统观 in a browser: a hotline complaint and a citizen report go through the intake pipeline; the district
dispatcher logs in (password + TOTP), opens the operations dashboard, sees today's counts and the grid map, and
drills down from a grid on the map and from a department cell to the work list."""

from __future__ import annotations

from datetime import date, datetime, time

import pyotp
import pytest
from django.utils import timezone

from yiwang.core.models import Account, Division
from yiwang.core.principal import Principal
from yiwang.demo import DEMO_PASSWORD, demo_load, demo_totp_secret
from yiwang.incidents.models import Incident
from yiwang.incidents.services.intake import IntakeReport, incident_intake

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def district(settings, tmp_path, clock):
    # The live server runs in this process, so it reads the same clock: "today" on the dashboard is this day
    # whatever the hour the suite runs at, and the demo's history ends at this moment.
    clock.set(2026, 3, 2, 10)
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    demo_load(scale=0.02, upto="governance")


def _principal(username: str) -> Principal:
    return Principal.for_account(Account.objects.get(username=username))


def _centre_of(grid: Division) -> tuple[float, float]:
    from shapely.geometry import shape

    point = shape(grid.geometry).representative_point()
    return round(point.x, 6), round(point.y, 6)


def _log_in(page, base: str, username: str) -> None:
    page.goto(f"{base}/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_selector("input[name=code]")
    # the server checks the code against its (the fixture's) clock, not the wall clock
    page.fill("input[name=code]", pyotp.TOTP(demo_totp_secret(username)).at(timezone.now()))
    page.click("main button[type=submit]")
    page.wait_for_selector("h1")
    assert "/login" not in page.url


def test_dispatcher_sees_todays_intake_on_the_dashboard_and_drills_down(page, live_server, district):
    grids = list(Division.objects.filter(level=Division.Level.GRID, geometry__isnull=False).order_by("code"))
    grid, other = grids[0], grids[len(grids) // 2]
    lon, lat = _centre_of(grid)
    hotline = incident_intake(
        actor=_principal("hotline"),
        report=IntakeReport(
            channel="hotline",
            description="早上七点有流动摊贩在路口占道卖早餐，行人只能走机动车道（仪表盘旅程）",
            category_code="SRHJ01",
            lon=lon,
            lat=lat,
            reporter_phone="13912345678",
        ),
    ).incident
    other_lon, other_lat = _centre_of(other)
    citizen = incident_intake(
        actor=_principal("citizen"),
        report=IntakeReport(
            channel="web",
            description="人行道上的下水道井盖破了一半，晚上看不见很危险（仪表盘旅程）",
            category_code="AQYH01",
            lon=other_lon,
            lat=other_lat,
        ),
    ).incident
    assert hotline.grid == grid and hotline.state == "dispatched"
    assert citizen.channel == "web"
    midnight = datetime.combine(date(2026, 3, 2), time.min, tzinfo=timezone.get_current_timezone())
    today = Incident.objects.filter(created_at__gte=midnight).count()
    assert today >= 2 + 12  # the two above and the demo's planted rise of 违章停车 this morning

    base = live_server.url
    _log_in(page, base, "dispatcher")
    page.goto(f"{base}/incidents/ops/")
    assert page.locator("h1").first.inner_text().strip() == "一网统观"
    assert page.inner_text("[data-testid=count-received]").strip() == str(today)
    assert page.locator("tr[data-channel=web] td").inner_text().strip() != "0"
    page.wait_for_selector("#ops-map canvas")
    page.wait_for_selector("#ops-channel-chart canvas")

    # drill down from the grid of the hotline complaint on the map
    x, y = page.evaluate(
        "([lon, lat]) => echarts.getInstanceByDom(document.getElementById('ops-map'))"
        ".convertToPixel({seriesIndex: 0}, [lon, lat])",
        [lon, lat],
    )
    page.click("#ops-map", position={"x": x, "y": y})
    page.wait_for_url(f"**/incidents/work/**grid={grid.code}*")
    page.wait_for_selector("h1")
    assert hotline.number in page.content()

    # and from the department table: 城管's received incidents
    page.goto(f"{base}/incidents/ops/")
    page.click("[data-testid=ops-departments] tr[data-code=CGJ] a[data-cell=received]")
    page.wait_for_url("**/incidents/work/**department=CGJ*")
    assert hotline.number in page.content()
