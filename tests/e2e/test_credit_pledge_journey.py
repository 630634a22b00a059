"""A false pledge appears in the enterprise's credit file, in a browser: an enterprise's case is approved on a
告知承诺 (through the services); the approver opens the 核查 page, records it as 不实 with a reason — the approval
is revoked; the district's credit officer searches the enterprise on /credit/files/ and finds the PLEDGE_FALSE
record, its legal basis and the lowered grade on the file page."""

from __future__ import annotations

import pytest

from tests.cases.factories import build_world
from tests.factories import PASSWORD, AccountFactory, DepartmentFactory, staff_with_roles
from tests.pledge.conftest import advance, submit_pledged
from yiwang.cases.models import Case, PledgeVerification
from yiwang.credit.models import CreditRecord

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def log_in(page, base: str, username: str) -> None:
    page.context.clear_cookies()
    page.goto(f"{base}/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_selector("h1")
    assert "/login" not in page.url, username


@pytest.fixture
def approved(settings, tmp_path, clock):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.MEDIA_ROOT = tmp_path / "media"
    w = build_world()
    w.id_card.pledge_allowed = True
    w.id_card.save(update_fields=["pledge_allowed"])
    w.item.pledge_verify_days = 20
    w.item.target = "both"
    w.item.save(update_fields=["pledge_verify_days", "target"])
    enterprise = AccountFactory(enterprise=True)
    org = enterprise.organisation
    org.division = w.district
    org.name = "示范承诺餐饮有限公司"
    org.save(update_fields=["division", "name"])
    case = advance(w, submit_pledged(w, applicant=enterprise), "approved")
    verification = PledgeVerification.objects.get(case=case)
    officer = staff_with_roles(
        "credit_officer",
        department=DepartmentFactory(code="FGJ", name="示范区发展和改革局", division=w.district),
    )
    return w, org, case, verification, officer


def test_a_false_pledge_found_in_the_browser_is_on_the_credit_file(live_server, page, approved):
    w, org, case, verification, officer = approved
    base = live_server.url

    # 1. The approver records the 核查 as 不实: the approval is revoked.
    log_in(page, base, w.approver.account.username)
    page.goto(f"{base}/cases/pledge-checks/{verification.public_id}/")
    page.check("input[name=outcome][value=failed]")
    page.fill("textarea[name=result]", "现场核查：经营场所证明与实际不符")
    page.click("#verify button[type=submit]")
    page.wait_for_url(f"{base}/cases/pledge-checks/")
    case.refresh_from_db()
    assert case.state == Case.State.REVOKED
    record = CreditRecord.objects.get(kind=CreditRecord.Kind.PLEDGE_FALSE)
    assert record.file.organisation_id == org.pk

    # 2. The credit officer finds the enterprise and opens its file.
    log_in(page, base, officer.account.username)
    page.goto(f"{base}/credit/files/")
    page.fill("#file-q", org.uscc)
    page.click("[data-testid=file-search] button[type=submit]")
    page.wait_for_selector(f"tr[data-file='{record.file.public_id}']")
    page.click(f"tr[data-file='{record.file.public_id}'] a")
    page.wait_for_selector("[data-testid=file-records]")
    row = page.locator("tr[data-kind=pledge_false]")
    assert row.count() == 1
    text = row.inner_text()
    assert "告知承诺经核查不实" in text and case.number in text
    assert "国办发〔2020〕42号" in text and "有效" in text
    assert "C 级" in page.locator("[data-testid=file-grade]").inner_text()
    assert "经营场所证明与实际不符" in text
