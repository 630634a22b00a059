"""免证办 in a browser: the demo enterprise holds an electronic 营业执照; applying for 食品经营许可 (SCJ-XK-001),
whose material asks for that licence type, the form offers the licence instead of an upload; the submit succeeds;
the window clerk opens the case and sees the verified licence data; the enterprise sees the use in 我的授权."""

from __future__ import annotations

import pytest

from tests.e2e.test_apply_journey import demo_catalogue, log_in, pdf_file, submit_application  # noqa: F401

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def _enterprise_licence():
    """The demo enterprise's valid 营业执照 (from the demo data; issued here if the demo has none yet)."""
    from yiwang.core.models import Account, Department
    from yiwang.licences.models import Licence, LicenceType, Seal
    from yiwang.licences.services.core import licence_issue, seal_create

    try:
        from yiwang.licences.demo import demo_load_licences

        demo_load_licences()
    except Exception:  # noqa: BLE001 — another part's demo data; the journey issues its own licence below
        pass
    enterprise = Account.objects.select_related("organisation", "person").get(username="enterprise")
    org = enterprise.organisation
    found = Licence.objects.filter(
        holder_organisation=org, licence_type__code="yyzz", status=Licence.Status.VALID
    ).first()
    if found is not None:
        return found
    scj = Department.objects.get(code="SCJ")
    kind = LicenceType.objects.filter(code="yyzz").first() or LicenceType.objects.create(
        code="yyzz",
        name="营业执照",
        department=scj,
        holder_kind=LicenceType.HolderKind.ORGANISATION,
        face_fields=[
            {"name": "name", "label": "名称", "required": True, "public": True},
            {"name": "uscc", "label": "统一社会信用代码", "required": True, "public": True},
        ],
        validity=LicenceType.Validity.PERMANENT,
    )
    if not Seal.objects.filter(department=kind.department, status=Seal.Status.ACTIVE).exists():
        seal_create(actor=None, department=kind.department, name=f"{kind.department.name}行政审批专用章")
    face = {
        f["name"]: org.uscc if f["name"] == "uscc" else org.name
        for f in kind.face_fields
        if f.get("required")
    }
    return licence_issue(actor=None, licence_type=kind, holder_organisation=org, face=face)


def test_apply_with_a_licence_instead_of_an_upload(page, live_server, demo_catalogue, pdf_file):  # noqa: F811
    base = live_server.url
    licence = _enterprise_licence()

    # --- the enterprise applies; the 营业执照 material offers the licence, chosen by default -------------------
    log_in(page, base, "enterprise")
    page.goto(f"{base}/cases/apply/SCJ-XK-001/")
    choice = page.locator("li[data-material=yyzz] [data-licence-choice]")
    assert "使用电子证照：营业执照" in choice.inner_text() and licence.identifier in choice.inner_text()
    assert choice.locator(f"input[value='{licence.public_id}']").is_checked()
    assert page.locator("li[data-material=yyzz] input[type=file]").count() == 0
    number = submit_application(page, pdf_file)

    from yiwang.cases.models import Case
    from yiwang.licences.models import LicenceGrant

    case = Case.objects.get(number=number)
    grant = LicenceGrant.objects.get(grantee_case=case, material_code="yyzz")
    assert grant.licence_id == licence.pk and grant.purpose.startswith("办理 ")

    # --- the window clerk opens the case and sees the verified licence data, not a scan ----------------------
    log_in(page, base, "clerk")
    page.goto(f"{base}/cases/inbox/")
    page.click(f"table.inbox a:text-is('{number}')")
    panel = page.locator("#licence-staff")
    panel.wait_for()
    text = panel.inner_text()
    assert "签名核验通过" in text and licence.identifier in text and licence.holder_name in text

    # --- the enterprise sees the use in 我的授权 -----------------------------------------------------------
    log_in(page, base, "enterprise")
    page.goto(f"{base}/licences/grants/")
    row = page.locator(f"tr[data-grant='{grant.public_id}']")
    assert "1 次" in row.inner_text() and number in row.inner_text()
    assert (
        "综合窗口" in row.inner_text() or "窗口" in row.inner_text() or row.locator(".uses li").count() == 1
    )
    # and the case page lists the licence the case was authorised to use
    page.goto(f"{base}/cases/{case.public_id}/")
    assert licence.identifier in page.locator("#licence-applicant").inner_text()
