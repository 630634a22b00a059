"""The 公文 journey in a browser: the 市场监管局 drafts a 发文, its head checks it, the 民政局 countersigns, the head
signs it off, the district office numbers, seals and distributes it, and the 民政局 signs it in as 收文."""

from __future__ import annotations

import pytest
from django.utils import timezone

from tests.collab.documents_world import documents_world
from tests.factories import PASSWORD
from yiwang.collab.models.documents import Document, DocumentParty

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

TITLE = "关于联合开展校园周边食品安全检查的通知"


def log_in(page, base: str, username: str) -> None:
    page.context.clear_cookies()
    page.goto(
        f"{base}/login/", timeout=90_000
    )  # the live server's first request warms it up (imports, static)
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_selector("h1")
    assert "/login" not in page.url, username


def act(page, selector: str) -> None:
    with page.expect_navigation():
        page.click(selector)
    page.wait_for_selector("[data-testid=document-step]")


@pytest.fixture
def world(settings, tmp_path):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.MEDIA_ROOT = tmp_path / "media"
    return documents_world()


def test_a_document_drafted_countersigned_sealed_and_received(live_server, page, world):
    base = live_server.url

    # 1. The drafter writes the 发文 and sends it to the head.
    log_in(page, base, "scjapprover")
    page.goto(f"{base}/collab/documents/new/")
    page.fill("input[name=title]", TITLE)
    page.fill("textarea[name=body]", "各有关单位：\n请于本月底前完成校园周边食品安全检查。")
    page.select_option("select[name=recipients]", ["MZJ"])
    page.select_option("select[name=countersign]", ["MZJ"])
    with page.expect_navigation():
        page.click("button[data-action=save]")
    assert page.inner_text("[data-testid=document-step]") == "拟稿"
    doc = Document.objects.get(title=TITLE)
    detail = f"{base}/collab/documents/{doc.public_id}/"
    act(page, "button[data-action=send_check]")
    assert page.inner_text("[data-testid=document-step]") == "核稿"

    # 2. The head checks it; it goes to the 民政局 for 会签.
    log_in(page, base, "scjhead")
    page.goto(detail)
    page.fill("#o-check", "同意，送民政局会签。")
    act(page, "button[data-action=check-pass]")
    assert page.inner_text("[data-testid=document-step]") == "会签"

    # 3. The 民政局's head countersigns.
    log_in(page, base, "mzjhead")
    page.goto(detail)
    page.fill("#o-cs", "无意见。")
    act(page, "button[data-action=countersign-agree]")
    assert page.inner_text("[data-testid=document-step]") == "签发"
    assert page.locator("button[data-action=sign_off]").count() == 0  # a countersigner cannot sign off

    # 4. The head signs it off.
    log_in(page, base, "scjhead")
    page.goto(detail)
    act(page, "button[data-action=sign_off]")
    assert page.inner_text("[data-testid=document-step]") == "编号"

    # 5. The district office numbers, seals and distributes it.
    log_in(page, base, "office")
    page.goto(detail)
    act(page, "button[data-action=number]")
    number = f"示市监〔{timezone.localdate().year}〕1号"
    assert page.inner_text("[data-testid=document-number]") == number
    act(page, "button[data-action=seal]")
    assert page.inner_text("[data-testid=document-step]") == "分发"
    assert page.locator("[data-testid=verify-code]").count() == 1
    assert page.locator("[data-testid=document-files] li[data-kind=sealed]").count() == 1
    act(page, "button[data-action=distribute]")
    assert page.inner_text("[data-testid=document-step]") == "办结"

    # 6. The 民政局 finds it among its 收文 and signs it in.
    log_in(page, base, "mzjhead")
    page.goto(f"{base}/collab/documents/?direction=incoming")
    with page.expect_navigation():
        page.click(f"text={TITLE}")
    assert page.inner_text("[data-testid=document-step]") == "签收"
    assert page.inner_text("[data-testid=document-number]") == number
    act(page, "button[data-action=sign_in]")
    assert page.inner_text("[data-testid=document-step]") == "登记"
    party = DocumentParty.objects.get(document=doc, department__code="MZJ", role="recipient")
    assert party.status == DocumentParty.Status.RECEIVED
