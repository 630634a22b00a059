"""The 好差评 journey in a browser: a citizen rates a concluded 市场监管局 case 非常不满意 (差评), the department head
replies with what was done, the citizen confirms the reply, the supervisor closes the rectification, and the
report shows the bad rating as rectified (with its charts drawn)."""

from __future__ import annotations

import pytest

from yiwang.cases.models import Case, Rectification, Review
from yiwang.demo import DEMO_PASSWORD, demo_load

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def demo(settings, tmp_path):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.Argon2PasswordHasher"]
    settings.MEDIA_ROOT = tmp_path / "media"
    demo_load(scale=0.02, upto="services")  # the catalogue and the 好差评 history come with it


def log_in(page, base: str, username: str) -> None:
    page.context.clear_cookies()
    page.goto(f"{base}/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_selector("h1")
    assert "/login" not in page.url, username


def test_a_bad_rating_is_rectified_end_to_end(page, live_server, demo):
    base = live_server.url
    # The demo leaves the citizen a concluded, unrated 个体工商户注销登记 of 市场监管局 (the head's department).
    case = (
        Case.objects.filter(
            applicant_account__username="citizen",
            item__code="SCJ-QR-005",
            state=Case.State.APPROVED,
            reviews__isnull=True,
        )
        .order_by("-id")
        .first()
    )
    assert case is not None, "the demo should leave an unrated SCJ case for the citizen"

    # --- the citizen rates it 非常不满意 ----------------------------------------------------------------------
    log_in(page, base, "citizen")
    page.goto(f"{base}/cases/{case.public_id}/")
    form = page.locator("form[data-testid=review-form]")
    form.locator("input[name=overall][value='1']").check()
    for code in ("guide", "process", "timeliness", "attitude", "result"):
        form.locator(f"input[name=score_{code}][value='2']").check()
    form.locator("textarea[name=comment]").fill("窗口说法前后不一，跑了两趟。")
    form.locator("button[type=submit]").click()
    page.wait_for_selector(".messages .alert-success")
    panel = page.locator("#review")
    assert "非常不满意" in panel.inner_text() and "已转办理部门核实整改" in panel.inner_text()
    review = Review.objects.get(case=case)
    rect = Rectification.objects.get(review=review)
    assert rect.status == "open" and rect.department.code == "SCJ"

    # --- the head of 市场监管局 finds it in the rectification list and replies --------------------------------
    log_in(page, base, "head")
    page.goto(f"{base}/cases/rectifications/")
    row = page.locator(f"table.rect-list tr:has-text('{case.number}')")
    assert "待整改" in row.inner_text()
    row.locator("a").click()
    page.wait_for_selector("form[data-testid=reply-form]")
    page.fill("textarea[name=reply]", "经核实，窗口告知不一致。已统一一次性告知清单并对窗口人员培训。")
    page.click("form[data-testid=reply-form] button[type=submit]")
    page.wait_for_selector(".messages .alert-success")
    assert page.locator("[data-testid=rect-status-head]").inner_text() == "已答复"

    # --- the citizen sees the reply (and a message) and confirms it ------------------------------------------
    log_in(page, base, "citizen")
    page.goto(f"{base}/cases/reviews/mine/")
    page.click(f"tr:has-text('{case.number}') a:has-text('已答复')")
    page.wait_for_selector("[data-testid=rect-reply]")
    assert "一次性告知清单" in page.locator("[data-testid=rect-reply]").inner_text()
    page.click("form[data-testid=respond-form] button[value=yes]")
    page.wait_for_selector(".messages .alert-success")
    assert page.locator("[data-testid=rect-status-head]").inner_text() == "申请人认可"

    # --- the supervisor sees it waiting on the home page, closes it ------------------------------------------
    log_in(page, base, "supervisor")
    page.wait_for_selector("[data-testid=review-counts]")
    assert int(page.locator("[data-testid=count-confirmed]").inner_text()) >= 1
    page.goto(f"{base}/cases/rectifications/{rect.public_id}/")
    page.fill("form[data-testid=close-form] textarea[name=note]", "申请人认可，整改到位。")
    page.click("form[data-testid=close-form] button[type=submit]")
    page.wait_for_selector(".messages .alert-success")
    assert page.locator("[data-testid=rect-status-head]").inner_text() == "已办结"
    rect.refresh_from_db()
    assert rect.status == "closed" and rect.closed_by.account.username == "supervisor"

    # --- the report counts it: per item, the bad rating is rectified; the charts are drawn -------------------
    page.goto(f"{base}/cases/reviews/report/?group_by=item")
    row = page.locator("table.review-report-table tr[data-key='SCJ-QR-005']")
    cells = row.locator("td").all_inner_texts()
    # concluded, ratings, rating rate, satisfaction, average, bad, rectified, rectification rate
    assert int(cells[5]) >= 1 and int(cells[6]) >= 1
    page.wait_for_selector("#review-rates-chart canvas")
    page.wait_for_selector("#review-dist-chart canvas")
    page.goto(f"{base}/cases/reviews/report/?group_by=department")
    assert "市场监督管理局" in page.locator("table.review-report-table").inner_text()
