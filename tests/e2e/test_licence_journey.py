"""The issue-5 holder journey in a browser: a licence is issued to the demo citizen, who finds it in 我的证照,
downloads the PDF, opens the verification page through the QR's URL (有效), shows a 亮证 QR whose URL verifies
too; the issuing department revokes it and the verification page says 已注销.

The licence is issued in the test through `licence_issue` (the system as actor, like the case listener does when a
licence-producing case concludes) so the journey does not depend on a particular demo case reaching approval."""

from __future__ import annotations

import pytest

from tests.e2e.test_apply_journey import log_in
from tests.factories import PASSWORD, staff_with_roles
from tests.samples import PDF_BYTES
from yiwang.core.models import Account
from yiwang.demo import demo_load
from yiwang.licences.models import Licence, LicenceType
from yiwang.licences.services.core import licence_issue, seal_create, seal_for

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def _face(licence_type: LicenceType, person) -> dict:
    face = {}
    for spec in licence_type.face_fields or []:
        if not spec.get("required"):
            continue
        kind = spec.get("type", "string")
        if spec["name"] == "name":
            face["name"] = person.name
        elif spec["name"] == "id_number":
            face["id_number"] = person.id_number
        elif kind == "date":
            face[spec["name"]] = "2026-03-02"
        elif kind == "number":
            face[spec["name"]] = 1
        elif kind == "boolean":
            face[spec["name"]] = True
        else:
            face[spec["name"]] = "测试内容"
    return face


@pytest.fixture
def issued(settings, tmp_path):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.MEDIA_ROOT = tmp_path / "media"
    demo_load(scale=0.02, upto="services")
    citizen = Account.objects.select_related("person").get(username="citizen")
    licence_type = LicenceType.objects.filter(code="jhz", is_active=True).first()
    if licence_type is None:  # the demo licence types not loaded: a type of our own
        from yiwang.core.models import Department

        department = Department.objects.order_by("id").first()
        licence_type = LicenceType.objects.create(
            code="jhz",
            name="结婚证",
            department=department,
            holder_kind=LicenceType.HolderKind.PERSON,
            face_fields=[{"name": "spouse", "label": "配偶姓名", "type": "string", "required": True}],
            validity=LicenceType.Validity.PERMANENT,
        )
    try:
        seal_for(licence_type.department)
    except Exception:  # noqa: BLE001 — no usable seal yet
        seal_create(
            actor=None, department=licence_type.department, name=f"{licence_type.department.name}专用章"
        )
    licence = licence_issue(
        actor=None,
        licence_type=licence_type,
        holder_person=citizen.person,
        face=_face(licence_type, citizen.person),
    )
    staff = staff_with_roles("approver", department=licence_type.department, username="licence_issuer")
    return licence, staff


def test_citizen_downloads_verifies_shows_and_sees_revocation(live_server, page, issued):
    licence, staff = issued
    base = live_server.url

    # 我的证照 → the licence → PDF
    log_in(page, base, "citizen")
    page.goto(f"{base}/licences/mine/")
    row = page.locator(f"tr[data-licence='{licence.identifier}']")
    assert "有效" in row.inner_text()
    row.locator("a").click()
    page.wait_for_selector("h1")
    assert licence.identifier in page.content()
    with page.expect_download() as info:
        page.click("a[data-download=pdf]")
    download = info.value
    assert download.suggested_filename == f"{licence.identifier}.pdf"
    with open(download.path(), "rb") as fh:
        assert fh.read(5) == b"%PDF-"

    # the QR's URL: the public verification page says 有效
    verify_url = page.get_attribute("a[data-verify-url]", "href")
    assert verify_url.endswith(f"/licences/verify/{licence.verify_token}/")
    detail_url = page.url

    # 亮证: a short-lived QR whose URL verifies too
    page.click("button:has-text('亮证')")
    page.wait_for_selector(".qr svg")
    show_url = page.get_attribute("a[data-show-url]", "href")
    page.context.clear_cookies()  # a verifier is not logged in
    page.goto(show_url)
    assert page.get_attribute(".verify-result", "data-result") == "valid"
    page.goto(verify_url)
    result = page.locator(".verify-result")
    assert result.get_attribute("data-result") == "valid"
    assert result.locator("h2").inner_text().strip() == "有效"
    assert licence.identifier in result.inner_text()
    assert licence.holder_id not in page.content()  # no personal ID on the public page

    # the issuing department revokes it
    staff.account.set_password(PASSWORD)
    staff.account.save()
    page.context.clear_cookies()
    page.goto(f"{base}/login/")
    page.fill("input[name=username]", "licence_issuer")
    page.fill("input[name=password]", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_selector("h1")
    page.goto(f"{base}/licences/issued/{licence.public_id}/")
    page.select_option("select[name=action]", "revoke")
    page.fill("textarea[name=reason]", "登记信息有误，依法注销")
    page.click("form[action$='/status/'] button[type=submit]")
    page.wait_for_load_state()
    assert Licence.objects.get(pk=licence.pk).status == Licence.Status.REVOKED

    # verification now says 已注销; the citizen's list shows it too
    page.context.clear_cookies()
    page.goto(verify_url)
    result = page.locator(".verify-result")
    assert result.get_attribute("data-result") == "revoked"
    assert "已注销" in result.inner_text()
    log_in(page, base, "citizen")
    page.goto(detail_url)
    assert "已注销" in page.locator("h1").inner_text()


def test_a_concluded_case_puts_the_sealed_licence_in_my_licences(live_server, page, settings, tmp_path):
    """The whole chain in a browser: the citizen applies for 居住证申领 (an item producing the 居住证 licence); the
    item has a 秒批 rule, so the case concludes with approval in the submit request; the case listener issues the
    sealed licence, which the citizen finds in 我的证照 with its PDF."""
    from yiwang.catalog.models import ServiceItem
    from yiwang.catalog.rulesets import instant_ruleset_save
    from yiwang.licences.signing import licence_verify_signature

    from .test_instant_journey import apply_for

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.MEDIA_ROOT = tmp_path / "media"
    demo_load(scale=0.02, upto="services")
    item = ServiceItem.objects.get(name="居住证申领", status=ServiceItem.Status.PUBLISHED)
    assert item.produces_licence_type == "jzz"
    instant_ruleset_save(
        actor=None,
        item_code=item.code,
        rules=[
            {"code": "alive", "name": "未登记死亡", "expr": "not applicant_deceased", "message": "已登记死亡"}
        ],
    )
    pdf_file = tmp_path / "材料.pdf"
    pdf_file.write_bytes(PDF_BYTES)
    base = live_server.url
    log_in(page, base, "citizen")
    apply_for(page, base, item.code, pdf_file)
    number = page.locator(".case-number").inner_text().strip()
    assert "办结（准予）" in page.locator(".case-receipt .kv").inner_text()

    licence = Licence.objects.select_related("licence_type", "issuer", "seal", "case").get(
        case__number=number
    )
    assert licence.licence_type.code == "jzz" and licence_verify_signature(licence)
    page.goto(f"{base}/licences/mine/")
    row = page.locator("tr", has_text="居住证").first
    assert licence.identifier in row.inner_text() or "居住证" in row.inner_text()
    row.locator("a", has_text="查看").click()
    page.wait_for_selector("h1")
    assert licence.identifier in page.content()
    with page.expect_download() as download:
        page.locator("a[data-download=pdf]").click()
    assert download.value.path().read_bytes().startswith(b"%PDF")
