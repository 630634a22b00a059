"""The open-data journeys of issue 15 in a browser: a visitor searches the portal, opens a dataset, sees the
preview and downloads the CSV; a signed-in user applies for a 有条件开放 dataset, the opening department's data
officer approves it, and the user downloads the data."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from tests.datahub.world_opendata import build_open_world
from tests.e2e.conftest import log_in_with_totp

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def world(settings, tmp_path):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.MEDIA_ROOT = tmp_path / "media"
    from yiwang.core.ratelimit import rate_limits_reset

    rate_limits_reset()
    w = build_open_world()
    open_ds = w.published(title="各镇街人口统计", notes="全区各镇街常住人口与户数，按年份汇总。")
    cond_ds = w.published(title="企业经营明细统计", tier="conditional", themes=["economy"], tags=["企业"])
    return w, open_ds, cond_ds


def test_visitor_finds_previews_and_downloads(live_server, page, world, tmp_path):
    _w, open_ds, cond_ds = world
    base = live_server.url
    page.goto(f"{base}/open/")
    assert page.locator("[data-figure=datasets]").inner_text() == "1"
    page.fill("#od-q", "人口")
    page.click("form[role=search] button[type=submit]")
    page.wait_for_selector("[data-testid=open-results]")
    assert cond_ds.title not in page.content()  # conditional: not listed to the anonymous
    page.click(f"[data-dataset={open_ds.name}] h2 a")
    page.wait_for_selector("[data-testid=preview]")
    assert page.locator("[data-testid=preview] tbody tr").count() == 20
    assert "东城街道" in page.locator("[data-testid=preview]").inner_text()
    with page.expect_download() as info:
        page.click("[data-download]")
    saved = Path(tmp_path / "download.csv")
    info.value.save_as(saved)
    assert info.value.suggested_filename.endswith(".csv")
    assert saved.read_text(encoding="utf-8").startswith("镇街,年份,常住人口")


def test_conditional_dataset_is_applied_for_and_granted(live_server, page, world, tmp_path):
    w, _open_ds, cond_ds = world
    base = live_server.url
    page.goto(f"{base}/open/dataset/{cond_ds.name}/")
    assert "404" in page.title() or page.locator("[data-testid=preview]").count() == 0

    # 1. The citizen signs in, finds the dataset and applies.
    log_in_with_totp(page, base, w.citizen)
    page.goto(f"{base}/open/dataset/{cond_ds.name}/")
    assert page.locator("[data-testid=preview]").count() == 0
    page.click(f"a[href='/open/dataset/{cond_ds.name}/apply/']")
    page.fill("#od-applicant_name", "示范区大学统计学院")
    page.fill("#od-purpose", "研究各行业企业经营规模的变化趋势，用于课程与论文。")
    page.fill("#od-scenario", "学术研究")
    page.check("input[name=agreement]")
    page.click("form.od-form button[type=submit]")
    page.wait_for_selector("[data-testid=application-status]")
    assert page.locator("[data-testid=application-status]").inner_text() == "待审核"

    # 2. The 统计局's data officer approves it, valid for a year.
    log_in_with_totp(page, base, w.tj_officer.account)
    page.goto(f"{base}/data/open/applications/")
    page.click("[data-testid=applications] tbody a")
    page.fill("#od-valid_until", (timezone.localdate() + timedelta(days=365)).isoformat())
    page.click("button[name=decision][value=approve]")
    page.wait_for_selector("[data-testid=application-status]")
    assert page.locator("[data-testid=application-status]").inner_text() == "已批准"

    # 3. The citizen now sees the preview and downloads the data.
    log_in_with_totp(page, base, w.citizen)
    page.goto(f"{base}/open/dataset/{cond_ds.name}/")
    page.wait_for_selector("[data-testid=preview]")
    with page.expect_download() as info:
        page.click("[data-download]")
    saved = Path(tmp_path / "granted.csv")
    info.value.save_as(saved)
    assert saved.read_text(encoding="utf-8").startswith("镇街,年份")
