"""双随机、一公开 in a browser: the market-regulation planner plans a draw (its seed commitment shown at once),
executes it and sees the revealed seed and the verification; an assigned inspector records a result with a photo on
the phone-sized page (390×844); the planner publishes it; the anonymous public page shows it, and the public
verification page of the draw recomputes it."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.utils import timezone

from tests.credit.test_draws_services import build_world
from tests.factories import PASSWORD
from yiwang.credit.models import Draw

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def log_in(page, base: str, username: str) -> None:
    page.context.clear_cookies()
    page.goto(f"{base}/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_selector("h1")
    assert "/login" not in page.url, username


def png() -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), (30, 120, 200)).save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.fixture
def world(settings, tmp_path):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.MEDIA_ROOT = tmp_path / "media"
    return build_world()


def test_plan_draw_inspect_publish(live_server, page, world):
    w = world
    base = live_server.url

    # 1. The planner plans the draw: the commitment is shown, the seed is not.
    log_in(page, base, w.planner.account.username)
    page.goto(f"{base}/credit/supervision/")
    with page.expect_navigation():
        page.click("[data-testid=draw-new]")
    page.fill("#id_title", "食品经营许可事项双随机抽查")
    page.select_option("#id_matter", w.matter.code)
    for town in w.towns:
        page.check(f"input[name=towns][value='{town.code}']")
    page.check("input[name=kinds][value=enterprise]")
    page.fill("#id_count", "0")
    page.fill("#id_due_date", (timezone.localdate() + dt.timedelta(days=30)).isoformat())
    with page.expect_navigation():
        page.click("[data-testid=draw-submit]")
    assert "确保该值大于或等于1" in page.locator("main").inner_text()
    assert not Draw.objects.exists()
    page.fill("#id_count", "2")
    with page.expect_navigation():
        page.click("[data-testid=draw-submit]")
    draw = Draw.objects.get()
    assert page.inner_text("[data-testid=seed-commitment]") == draw.seed_commitment
    assert page.locator("[data-testid=seed]").count() == 0

    # 2. It is executed once; the seed is revealed and the recomputation matches.
    with page.expect_navigation():
        page.click("[data-testid=draw-execute]")
    draw.refresh_from_db()
    assert page.inner_text("[data-testid=seed]") == draw.seed
    assert page.locator("[data-testid=verify-ok]").count() == 1
    assert page.locator("[data-testid=draw-tasks] tbody tr").count() == 2
    assert page.locator("[data-testid=draw-execute]").count() == 0

    # 3. An assigned inspector records the result on a phone.
    task = draw.tasks.order_by("position").first()
    inspector = task.inspectors.select_related("staff__account").first().staff
    page.set_viewport_size({"width": 390, "height": 844})
    log_in(page, base, inspector.account.username)
    page.goto(f"{base}/credit/inspections/")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390  # no sideways scrolling on a phone
    with page.expect_navigation():
        page.click(f"li[data-task='{task.public_id}'] a[data-action=open]")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.check("input[name=result][value=rectified]")
    page.fill("#id_findings", "进货查验记录不全，现场责令整改。")
    page.set_input_files("#id_photos", files=[{"name": "现场.png", "mimeType": "image/png", "buffer": png()}])
    with page.expect_navigation():
        page.click("[data-testid=result-submit]")
    assert page.locator("[data-testid=task-status][data-status=done]").count() == 1
    assert task.photos.count() == 1

    # 4. The department publishes it.
    page.set_viewport_size({"width": 1280, "height": 900})
    log_in(page, base, w.planner.account.username)
    page.goto(f"{base}/credit/supervision/results/")
    with page.expect_navigation():
        page.click(f"tr[data-task='{task.public_id}'] button[data-action=publish]")
    task.refresh_from_db()
    assert task.status == "published"

    # 5. The public sees the result and can verify the draw.
    page.context.clear_cookies()
    page.goto(f"{base}/credit/public/inspections/")
    row = page.locator(f"tr[data-uscc='{task.organisation.uscc}']")
    assert row.count() == 1 and "发现问题已责令整改" in row.inner_text()
    with page.expect_navigation():
        row.locator("a").click()
    assert page.locator("[data-testid=verify-ok]").count() == 1
    assert page.inner_text("[data-testid=seed]") == draw.seed
