"""The receipt (存证回执) journey in a browser: a citizen opens their licence, downloads the receipt of its issue
from the licence page; a visitor who is not logged in uploads it on the public verify page and sees it is valid
and what was logged; an altered copy is refused."""

from __future__ import annotations

import json

import pytest

from tests.e2e.conftest import log_in_with_totp
from tests.licences.grants_world import build_gw
from yiwang.core.evidence.sequencer import sequencer_run_once, tree_head_sign

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def gw(clock, settings, tmp_path):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.MEDIA_ROOT = tmp_path / "media"
    world = build_gw()
    sequencer_run_once()
    tree_head_sign(force=True)
    return world


def test_holder_downloads_a_receipt_and_a_visitor_verifies_it(live_server, page, gw, tmp_path):
    base = live_server.url
    licence = gw.licence

    # the holder: 我的证照 → the licence → 存证回执 (loaded into the page) → 下载回执
    log_in_with_totp(page, base, gw.world.citizen)
    page.goto(f"{base}/licences/mine/{licence.public_id}/")
    row = page.locator("#receipts tr[data-action='licence.issue']")
    row.wait_for()
    with page.expect_download() as info:
        row.locator("a[data-download=receipt]").click()
    download = info.value
    entry_uuid = row.get_attribute("data-receipt")
    assert download.suggested_filename == f"receipt-{entry_uuid}.json"
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    receipt = json.loads(saved.read_text(encoding="utf-8"))
    assert receipt["format"] == "yiwang-evidence-receipt/v1" and receipt["entry"]["uuid"] == entry_uuid

    # a visitor, not logged in, checks it on the public page
    page.context.clear_cookies()
    page.goto(f"{base}/audit/receipts/verify/")
    page.set_input_files("input[type=file][name=receipt]", str(saved))
    page.click("form[data-receipt-form] button[type=submit]")
    result = page.locator(".verify-result")
    result.wait_for()
    assert result.get_attribute("data-result") == "ok"
    assert result.locator("h2").inner_text().strip() == "有效"
    fields = page.locator("[data-entry-fields]").inner_text()
    assert "licence.issue" in fields and licence.identifier in fields

    # an altered copy is refused
    altered = dict(
        receipt,
        entry={
            **receipt["entry"],
            "canonical": receipt["entry"]["canonical"].replace(
                licence.identifier, "X" * len(licence.identifier)
            ),
        },
    )
    forged = tmp_path / "altered.json"
    forged.write_text(json.dumps(altered, ensure_ascii=False), encoding="utf-8")
    page.set_input_files("input[type=file][name=receipt]", str(forged))
    page.click("form[data-receipt-form] button[type=submit]")
    page.wait_for_selector(".verify-result[data-result='entry_altered']")
    assert page.locator(".verify-result h2").inner_text().strip() == "无效"
