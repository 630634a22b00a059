"""The 一件事 journey in a browser: an enterprise finds 开办餐饮店 and applies ONCE (one combined form with
prefilled fields, one set of materials); the window clerk (政务服务中心) and the market-supervision approver and
head handle the sub-cases of two item departments (市场监管局, 城管局) to conclusion — the food permit is filed
by itself once the business licence is approved; the applicant sees one timeline and the bundle 已办结."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.test_apply_journey import act, fill_the_rest, log_in
from yiwang.cases.models import BundleCase, Case
from yiwang.demo import demo_load

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

from tests.samples import PDF_BYTES as PDF  # noqa: E402

# Who acts at which step of the demo processes (std, inspect, instant), and with what.
STEP_ACTIONS = {
    "intake": ("clerk", "accept", "材料齐全，予以受理"),
    "review": ("approver", "review", "审查通过"),
    "inspection": ("approver", "inspect", "现场核查通过"),
    "decision": ("head", "approve", "准予"),
    "delivery": ("clerk", "conclude", ""),
    "handle": ("clerk", "approve", ""),
}


@pytest.fixture
def demo(settings, tmp_path):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.Argon2PasswordHasher"]
    settings.MEDIA_ROOT = tmp_path / "media"
    demo_load(scale=0.02, upto="services")  # district, catalogue and the issue-4 extras: the demo bundles


@pytest.fixture
def pdf_file(tmp_path) -> Path:
    path = tmp_path / "材料.pdf"
    path.write_bytes(PDF)
    return path


def handle_to_conclusion(page, base: str, number: str) -> list[str]:
    """Whoever can act at the sub-case's current step acts, until it is concluded (秒批 may have done it)."""
    done = []
    for _ in range(8):
        case = Case.objects.get(number=number)
        if case.state not in Case.OPEN_STATES:
            break
        user, action, opinion = STEP_ACTIONS[case.current_step]
        log_in(page, base, user)
        act(page, base, number, action, opinion)
        done.append(action)
    assert Case.objects.get(number=number).state == Case.State.APPROVED, number
    return done


def sub_case_numbers(page) -> dict[str, str]:
    rows = page.locator("table.bundle-parts tbody tr").all()
    return {row.get_attribute("data-item"): row.locator("td.mono").inner_text().strip() for row in rows}


def test_apply_once_two_departments_conclude_one_timeline(page, live_server, demo, pdf_file):
    base = live_server.url

    # --- the enterprise finds the bundle and applies once ------------------------------------------------------
    log_in(page, base, "enterprise")
    page.goto(f"{base}/services/bundles/")
    page.click("li[data-bundle=restaurant] h3 a")
    page.wait_for_url("**/services/bundles/restaurant/")
    assert (
        "在营业执照设立登记（有限责任公司）准予后自动分送办理"
        in page.locator("table.bundle-items-table").inner_text()
    )
    page.locator("a.btn", has_text="一次申请").click()
    page.wait_for_url("**/cases/bundles/apply/restaurant/")
    org_name = page.locator("input[name=f_org_name]")
    assert org_name.input_value() and org_name.get_attribute("readonly") is not None
    assert page.locator("input[name=f_org_name]").count() == 1  # asked once for three items
    assert (
        page.locator("input[type=file][name=m_yyzz]").count() == 0
    )  # fetched from the e-licence, not uploaded
    fill_the_rest(page, pdf_file)
    page.fill("input[name=f_ad_period_months]", "12")  # the sign's period is at most 36 months
    page.click("button[name=intent][value=submit]")
    page.wait_for_selector("h1")
    errors = page.locator(".field-error, .errorlist, .alert-error").all_inner_texts()
    assert page.locator(".bundle-number").count() == 1, errors
    assert "一件事已提交" in page.locator(".messages").inner_text()
    number = page.locator(".bundle-number").inner_text().strip()
    assert number.startswith("YJS-")
    numbers = sub_case_numbers(page)
    assert numbers["SCJ-QR-001"].startswith("SCJ-") and numbers["CGJ-XK-007"].startswith("CGJ-")
    assert numbers["SCJ-XK-001"] == "—"  # the permit waits for the licence
    assert page.locator("tr[data-item=SCJ-XK-001]").get_attribute("data-state") == "waiting"

    # --- two departments' sub-cases, handled by the staff who can act: licence first, then the sign ------------
    handle_to_conclusion(page, base, numbers["SCJ-QR-001"])
    bc = BundleCase.objects.get(number=number)
    permit = bc.parts.get(item__code="SCJ-XK-001").case
    assert permit is not None and permit.department.code == "SCJ"  # filed by itself after the licence
    handle_to_conclusion(page, base, numbers["CGJ-XK-007"])
    assert BundleCase.objects.get(number=number).state == BundleCase.State.IN_PROGRESS
    handle_to_conclusion(page, base, permit.number)

    # --- the applicant sees one timeline and the bundle 已办结 ------------------------------------------------------
    log_in(page, base, "enterprise")
    page.goto(f"{base}/cases/bundles/")
    page.click(f"tr:has-text('{number}') a")
    page.wait_for_selector("ol.bundle-timeline")
    head = page.locator(".page-head").inner_text()
    assert "已办结" in head and "全部准予" in head
    entries = page.locator("ol.bundle-timeline li.timeline-entry")
    items = {entries.nth(i).get_attribute("data-item") for i in range(entries.count())}
    assert items == {"", "SCJ-QR-001", "SCJ-XK-001", "CGJ-XK-007"}
    times = [entries.nth(i).locator("time").get_attribute("datetime") for i in range(entries.count())]
    assert times == sorted(times)
    assert entries.count() >= 1 + 3 * 2
    timeline = page.locator("ol.bundle-timeline").inner_text()
    for text in ("提交一件事申请", "营业执照设立登记", "食品经营许可", "店铺招牌设置备案", "办结出件"):
        assert text in timeline, text
    for row in page.locator("table.bundle-parts tbody tr").all():
        assert row.get_attribute("data-state") == "approved"
    # the one conclusion notice lists every item's result
    [notice] = bc.applicant_account.notifications.filter(title="一件事已办结")
    for name in ("营业执照设立登记", "食品经营许可", "店铺招牌设置备案"):
        assert name in notice.body
