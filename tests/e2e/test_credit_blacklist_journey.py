"""A black-listed enterprise applies in a browser for an item with 告知承诺: it ticks the pledge for 身份证明 and
is refused with the reason shown (the listing, its legal basis, the measure) — nothing filed; it then uploads the
material instead and the application goes through, and its case page shows the credit check (what was checked,
what applied and why)."""

from __future__ import annotations

from datetime import date

import pytest

from tests.cases.factories import build_world
from tests.factories import PASSWORD, AccountFactory, DepartmentFactory, staff_with_roles
from tests.samples import PDF_BYTES
from yiwang.cases.models import Case
from yiwang.core.principal import Principal
from yiwang.credit.models import CreditCheck
from yiwang.credit.services.lists import list_entry_create_for
from yiwang.credit.services.measures import measures_install_defaults

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
def listed(settings, tmp_path):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.MEDIA_ROOT = tmp_path / "media"
    w = build_world()
    w.id_card.pledge_allowed = True
    w.id_card.save(update_fields=["pledge_allowed"])
    w.item.target = "both"
    w.item.pledge_verify_days = 20
    w.item.save(update_fields=["target", "pledge_verify_days"])
    measures_install_defaults()
    enterprise = AccountFactory(enterprise=True)
    org = enterprise.organisation
    org.division = w.district
    org.name = "示范失信建材有限公司"
    org.save(update_fields=["division", "name"])
    officer = staff_with_roles(
        "credit_officer",
        department=DepartmentFactory(code="FGJ", name="示范区发展和改革局", division=w.district),
    )
    list_entry_create_for(
        actor=Principal.for_account(officer.account),
        uscc=org.uscc,
        list_type="black",
        reason="拒不履行法院生效判决",
        legal_basis="《最高人民法院关于公布失信被执行人名单信息的若干规定》第一条",
        department=officer.department,
        starts_on=date(2026, 1, 1),
        publish=True,
    )
    pdf = tmp_path / "材料.pdf"
    pdf.write_bytes(PDF_BYTES)
    return w, enterprise, pdf


def test_a_black_listed_enterprise_is_refused_the_pledge_and_applies_without_it(live_server, page, listed):
    w, enterprise, pdf = listed
    base = live_server.url
    log_in(page, base, enterprise.username)

    # 1. With the pledge ticked: refused, the reason shown, nothing filed.
    page.goto(f"{base}/cases/apply/{w.item.code}/")
    page.fill("input[name=f_shop_name]", "示范建材门市")
    page.set_input_files("input[type=file][name=m_premises]", str(pdf))
    page.check("input[name=pledged][value=id_card]")
    page.check("#id_pledge_accept")
    page.click("button[name=intent][value=submit]")
    summary = page.locator("[data-error-summary]")
    summary.wait_for()
    text = summary.inner_text()
    assert "不适用告知承诺" in text and "拒不履行法院生效判决" in text and "国办发〔2020〕42号" in text
    assert not Case.objects.filter(applicant_account=enterprise).exclude(state="draft").exists()

    # 2. Without the pledge, the material uploaded: filed, and the check is on the case page.
    page.uncheck("input[name=pledged][value=id_card]")
    page.set_input_files("input[type=file][name=m_id_card]", str(pdf))
    page.set_input_files("input[type=file][name=m_premises]", str(pdf))
    page.click("button[name=intent][value=submit]")
    page.wait_for_url("**/receipt/")
    case = Case.objects.get(applicant_account=enterprise)
    assert case.state == Case.State.SUBMITTED
    check = CreditCheck.objects.get(case=case, moment="submit")
    assert check.grade == "D" and check.applied[0]["effect"] == "no_pledge"
    page.goto(f"{base}/cases/{case.public_id}/")
    panel = page.locator("[data-testid=credit-checks]")
    panel.wait_for()
    assert "拒不履行法院生效判决" in panel.inner_text() and "不适用告知承诺" in panel.inner_text()
