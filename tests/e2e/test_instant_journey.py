"""秒批 in a browser: the demo citizen applies for 户籍证明开具 (GAJ-GG-006, an item with demo 秒批 rules) and,
after the one submit, the page says 办结（准予） with the rules that passed; the case page keeps the reasons. An
application for 高龄津贴 (age 80+) goes to people instead, and the window clerk sees which rule failed."""

from __future__ import annotations

from pathlib import Path

import pytest

from .test_apply_journey import PDF, fill_the_rest, log_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def demo(settings, tmp_path):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.Argon2PasswordHasher"]
    settings.MEDIA_ROOT = tmp_path / "media"
    from yiwang.demo import demo_load

    demo_load(scale=0.02, upto="services")  # the catalogue and the 秒批 rule sets come with it


@pytest.fixture
def pdf_file(tmp_path) -> Path:
    path = tmp_path / "材料.pdf"
    path.write_bytes(PDF)
    return path


def apply_for(page, base: str, code: str, pdf_file: Path) -> None:
    page.goto(f"{base}/services/{code}/")
    page.locator("a.btn", has_text="在线申请").first.click()
    page.wait_for_url(f"**/cases/apply/{code}/")
    fill_the_rest(page, pdf_file)
    page.click("button[name=intent][value=submit]")
    page.wait_for_selector("h1")
    errors = page.locator(".field-error, .errorlist").all_inner_texts()
    assert page.locator("h1").first.inner_text().strip() == "申请已提交", errors


def test_instant_approval_concludes_in_the_submit_and_shows_its_reasons(page, live_server, demo, pdf_file):
    from yiwang.cases.models import Case, InstantDecision

    base = live_server.url
    log_in(page, base, "citizen")
    apply_for(page, base, "GAJ-GG-006", pdf_file)

    # one submit: the receipt already says 办结（准予） and why
    number = page.locator(".case-number").inner_text().strip()
    assert "办结（准予）" in page.locator(".case-receipt .kv").inner_text()
    outcome = page.locator("#instant")
    assert outcome.get_attribute("data-outcome") == "approved"
    assert "秒批：已自动准予" in outcome.inner_text()
    reasons = outcome.locator("ul.instant-reasons li")
    assert reasons.count() == 4
    assert all(r.get_attribute("data-passed") == "1" for r in reasons.all())
    text = outcome.inner_text()
    for rule in ("本区户籍", "未登记死亡", "年满16周岁", "无在办同类申请"):
        assert rule in text, rule
    case = Case.objects.get(number=number)
    assert case.state == Case.State.APPROVED
    assert InstantDecision.objects.get(case=case).ruleset_version == 1

    # the case page keeps the reasons and the timeline shows the automatic decision
    page.locator("a.btn", has_text="查看办理进度").click()
    page.wait_for_selector("ol.timeline")
    assert "办结（准予）" in page.locator(".page-head").inner_text()
    panel = page.locator(".instant-panel")
    assert "已由系统自动准予并办结" in panel.inner_text()
    assert panel.locator("ul.instant-passed li").count() == 4
    actions = [e.get_attribute("data-action") for e in page.locator("ol.timeline li.timeline-entry").all()]
    assert actions == ["submit", "instant_approve"]

    # 高龄津贴 needs age 80+: the working-age citizen's application goes to people, with the reason
    apply_for(page, base, "MZJ-GF-001", pdf_file)
    manual_number = page.locator(".case-number").inner_text().strip()
    outcome = page.locator("#instant")
    assert outcome.get_attribute("data-outcome") == "manual"
    assert "申请人未满80周岁" in outcome.inner_text()

    log_in(page, base, "clerk")
    page.goto(f"{base}/cases/inbox/")
    page.click(f"table.inbox a:text-is('{manual_number}')")
    staff = page.locator(".instant-panel")
    staff.wait_for()
    assert "转人工审核" in staff.inner_text()
    assert staff.locator("tr[data-rule=age][data-passed='0']").count() == 1
    assert staff.locator("tr[data-passed='1']").count() == 4
