"""The issue-3 journey in a browser: a citizen finds an item by searching in Chinese and applies with prefilled
fields; an enterprise applies for a market-supervision licence; the window clerk accepts, the approver reviews
and inspects, the department head approves, the window concludes; the applicant sees the whole timeline."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest

from yiwang.core.validators import make_id_number, make_uscc
from yiwang.demo import DEMO_PASSWORD, demo_load

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

from tests.samples import PDF_BYTES as PDF  # noqa: E402


@pytest.fixture
def demo_catalogue(settings, tmp_path):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.Argon2PasswordHasher"]
    settings.MEDIA_ROOT = tmp_path / "media"
    demo_load(scale=0.02, upto="services")
    from yiwang.catalog.demo import demo_load_catalog
    from yiwang.demo.names import DISTRICT_CODE, DISTRICT_NAME

    demo_load_catalog(district_code=DISTRICT_CODE, district_name=DISTRICT_NAME)


@pytest.fixture
def pdf_file(tmp_path) -> Path:
    path = tmp_path / "材料.pdf"
    path.write_bytes(PDF)
    return path


def log_in(page, base: str, username: str) -> None:
    page.context.clear_cookies()
    page.goto(f"{base}/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_selector("h1")
    assert "/login" not in page.url, username


def fill_the_rest(page, pdf_file: Path) -> None:
    """Fills what the registries did not: editable empty inputs get a plausible value by kind, every
    material input gets a PDF (the service checks its magic bytes)."""
    form = page.locator("form[data-case-form]")
    for box in form.locator(".field[data-field]").all():
        if not box.is_visible():
            continue
        control = box.locator("input:not([type=hidden]), select, textarea").first
        if control.count() == 0 or control.get_attribute("readonly") is not None or control.is_disabled():
            continue
        kind = control.get_attribute("type") or control.evaluate("e => e.tagName.toLowerCase()")
        name = control.get_attribute("name") or ""
        if kind in ("checkbox", "radio"):
            continue
        if kind == "select":
            values = [v for v in control.locator("option").evaluate_all("os => os.map(o => o.value)") if v]
            control.select_option(values[0])
        elif control.input_value():
            continue
        elif "uscc" in name:
            control.fill(make_uscc("9", "1", "440199", "00001234"))
        elif "id_number" in name:
            control.fill(make_id_number("440199", date(1950, 5, 5), 7))
        elif kind == "tel" or "phone" in name:
            control.fill("13800138000")
        elif "account" in name:
            control.fill("6222020200112233445")
        elif kind == "number":
            control.fill("120")
        elif kind == "date":
            control.fill("1945-05-05")
        else:
            control.fill("云岭区云岭大道 1 号" if "address" in name else "测试填写")
    for upload in form.locator("input[type=file]").all():
        upload.set_input_files(str(pdf_file))


def submit_application(page, pdf_file: Path) -> str:
    fill_the_rest(page, pdf_file)
    page.click("button[name=intent][value=submit]")
    page.wait_for_selector("h1")
    heading = page.locator("h1").first.inner_text().strip()
    errors = page.locator(".field-error, .errorlist").all_inner_texts()
    assert heading == "申请已提交", errors
    return page.locator(".case-number").inner_text().strip()


def act(page, base: str, number: str, action: str, opinion: str = "") -> None:
    page.goto(f"{base}/cases/inbox/")
    page.click(f"table.inbox a:text-is('{number}')")
    form = page.locator(f"form.action-form[data-action='{action}']")
    if opinion:
        form.locator("textarea[name=opinion]").fill(opinion)
    form.locator("button[type=submit]").click()
    page.wait_for_selector(".messages .alert-success")
    assert "已办理" in page.locator(".messages").inner_text()


def test_search_apply_accept_review_approve_and_see_the_timeline(page, live_server, demo_catalogue, pdf_file):
    base = live_server.url

    # --- a citizen finds 高龄津贴 by searching in Chinese and applies with prefilled name and ID -------------------
    log_in(page, base, "citizen")
    page.goto(f"{base}/services/")
    page.fill("#catalog-q", "津贴")
    page.click("#catalog-form button[type=submit]")
    page.click("a:text-is('高龄津贴申领')")
    page.wait_for_url("**/services/MZJ-GF-001/")
    page.locator("a.btn", has_text="在线申请").first.click()
    page.wait_for_url("**/cases/apply/MZJ-GF-001/")
    name = page.locator("input[name=f_applicant_name]")
    id_number = page.locator("input[name=f_applicant_id_number]")
    assert name.input_value() and name.get_attribute("readonly") is not None
    assert re.fullmatch(r"\d{17}[\dX]", id_number.input_value())
    assert id_number.get_attribute("readonly") is not None
    assert page.locator("label[for=id_f_applicant_name] .source").inner_text() == "来自自然人基础库"
    # the conditional agent fields appear only when 委托 is ticked
    assert not page.locator(".field[data-field=f_agent_name]").is_visible()
    page.check("input[name=f_entrusted]")
    assert page.locator(".field[data-field=f_agent_name]").is_visible()
    page.uncheck("input[name=f_entrusted]")
    citizen_number = submit_application(page, pdf_file)
    assert citizen_number.startswith("MZJ-")

    # --- an enterprise applies for the food business licence of 市场监管局 ---------------------------------------
    log_in(page, base, "enterprise")
    page.goto(f"{base}/services/SCJ-XK-001/")
    page.locator("a.btn", has_text="在线申请").first.click()
    assert page.locator("input[name=f_org_name]").input_value()
    assert page.locator("label[for=id_f_org_name] .source").inner_text() == "来自法人基础库"
    number = submit_application(page, pdf_file)
    assert number.startswith("SCJ-")

    # --- the window clerk accepts both ----------------------------------------------------------------------------
    log_in(page, base, "clerk")
    page.goto(f"{base}/cases/inbox/")
    inbox = page.locator("table.inbox").inner_text()
    assert number in inbox and citizen_number in inbox
    act(page, base, number, "accept", "材料齐全，予以受理")
    act(page, base, citizen_number, "accept")

    # --- the approver reviews and inspects; the head approves; the window concludes -------------------------------
    log_in(page, base, "approver")
    act(page, base, number, "review", "经营场所与设备符合要求")
    act(page, base, number, "inspect", "现场核查通过")
    log_in(page, base, "head")
    act(page, base, number, "approve", "准予食品经营许可")
    log_in(page, base, "clerk")
    act(page, base, number, "conclude")

    # --- the enterprise sees every step, who did it and when, and the decision notice -----------------------------
    log_in(page, base, "enterprise")
    page.goto(f"{base}/cases/mine/")
    page.click(f"tr:has-text('{number}') a")
    page.wait_for_selector("ol.timeline")
    assert "办结（准予）" in page.locator(".page-head").inner_text()
    entries = page.locator("ol.timeline li.timeline-entry")
    assert entries.count() == 6
    actions = [entries.nth(i).get_attribute("data-action") for i in range(entries.count())]
    assert actions == ["submit", "accept", "review", "inspect", "approve", "conclude"]
    timeline = page.locator("ol.timeline").inner_text()
    for text in ("提交申请", "受理", "审查通过", "核查通过", "准予许可", "办结出件", "材料齐全，予以受理"):
        assert text in timeline, text
    page.locator("a", has_text="准予许可决定书").click()
    page.wait_for_selector("h1")
    assert page.locator("h1").inner_text().strip() == "准予许可决定书"
    assert number in page.locator("body").inner_text()

    # --- the citizen's case is accepted and waits at 审查 -------------------------------------------------------
    log_in(page, base, "citizen")
    page.goto(f"{base}/cases/mine/")
    page.click(f"tr:has-text('{citizen_number}') a")
    page.wait_for_selector("ol.timeline")
    assert page.locator(".steps-now").inner_text().strip() == "审查"
    assert [e.get_attribute("data-action") for e in page.locator("ol.timeline li.timeline-entry").all()] == [
        "submit",
        "accept",
    ]
