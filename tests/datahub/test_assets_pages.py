"""Pages of 数据资产登记: the journey draft → submit → register on the pages (the same services as the API), form
errors on the form, the certificate page with its QR code and file, the public verification (number + code and
upload; no login; nothing but public facts; tampered file invalid), bounded list queries, forbidden paths, and
the read-only admin."""

from __future__ import annotations

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from tests.datahub.world_assets import asset_kwargs, build_assets_world
from yiwang.core.ratelimit import rate_limits_reset
from yiwang.datahub.asset_certificate import asset_file, verify_code_display
from yiwang.datahub.models import DataAsset
from yiwang.datahub.services.assets import asset_create, asset_review, asset_submit

pytestmark = pytest.mark.django_db


@pytest.fixture
def w(db, clock, media_and_fast_passwords):
    rate_limits_reset()
    return build_assets_world()


def _login(client, staff_or_account):
    client.force_login(getattr(staff_or_account, "account", staff_or_account))
    return client


def _registered(w) -> DataAsset:
    asset = asset_submit(actor=w.scj, asset=asset_create(actor=w.scj, **asset_kwargs(w)))
    return asset_review(actor=w.centre, asset=asset, decision="register", review="准予登记")


def _form(w, **kw) -> dict:
    data = {
        "name": "区企业经营主体画像数据产品",
        "description": "企业画像。",
        "producer": "区市场监督管理局",
        "rights": ["holding", "processing"],
        "valuation_note": "",
        "compliance_note": "来源合法。",
        "source_1": str(w.r_company.public_id),
        "basis_1": "条例第三十五条",
        "source_2": str(w.r_tax.public_id),
        "basis_2": "共享授权",
    }
    data.update(kw)
    return data


def test_journey_draft_submit_register_on_the_pages(client, w):
    _login(client, w.scj_officer)
    page = client.get(reverse("datahub:asset_new")).content.decode()
    assert "纳税人登记信息" in page and "欠税公告信息" not in page and w.d_scj.uscc in page
    response = client.post(reverse("datahub:asset_new"), _form(w))
    assert response.status_code == 302, response.content.decode()[-3000:]
    asset = DataAsset.objects.get()
    detail = client.get(response["Location"]).content.decode()
    assert 'data-action="submit"' in detail and "440199-SWJ-00001" in detail and w.grant.number in detail
    edit = client.post(
        reverse("datahub:asset_edit", args=[asset.public_id]),
        _form(w, name="企业画像（修订）", expected_version=asset.row_version),
    )
    assert edit.status_code == 302
    asset.refresh_from_db()
    act = reverse("datahub:asset_act", args=[asset.public_id])
    assert client.post(act, {"action": "submit", "expected_version": asset.row_version}).status_code == 302
    assert (
        client.post(act, {"action": "register", "review": "自批"}).status_code == 302
    )  # not offered: refused
    asset.refresh_from_db()
    assert asset.name == "企业画像（修订）" and asset.status == "submitted"
    client.logout()
    _login(client, w.centre_officer)
    queue = client.get(reverse("datahub:asset_list")).content.decode()
    assert str(asset.public_id) in queue
    missing = client.post(act, {"action": "register", "review": "", "expected_version": asset.row_version})
    assert missing.status_code == 422 and "合规审查意见" in missing.content.decode()
    done = client.post(act, {"action": "register", "review": "准予", "expected_version": asset.row_version})
    assert done.status_code == 302
    asset.refresh_from_db()
    assert asset.status == "registered" and asset.number
    detail = client.get(reverse("datahub:asset_detail", args=[asset.public_id])).content.decode()
    assert (
        asset.number in detail
        and "data-receipts" in detail
        and verify_code_display(asset.verify_code) in detail
    )


def test_form_errors_show_on_the_form(client, w):
    _login(client, w.scj_officer)
    response = client.post(
        reverse("datahub:asset_new"), _form(w, rights=["operation"], source_2="", basis_1="")
    )
    assert response.status_code == 422
    page = response.content.decode()
    assert "加工使用权" in page and "合法性依据" in page
    assert not DataAsset.objects.exists()
    response = client.post(
        reverse("datahub:asset_new"), _form(w, rights=["operation"]), HTTP_ACCEPT_LANGUAGE="en"
    )
    assert "processing and use right" in response.content.decode()


def test_certificate_page_has_the_qr_and_the_file(client, w):
    asset = _registered(w)
    _login(client, w.scj_officer)
    page = client.get(reverse("datahub:asset_certificate", args=[asset.public_id])).content.decode()
    assert "<svg" in page and asset.number in page and verify_code_display(asset.verify_code) in page
    assert reverse("datahub:asset_verify") in page
    file = client.get(reverse("datahub:asset_certificate_file", args=[asset.public_id]))
    assert json.loads(file.content)["payload"]["number"] == asset.number


def test_change_and_transfer_forms(client, w):
    asset = _registered(w)
    _login(client, w.scj_officer)
    url = reverse("datahub:asset_change", args=[asset.public_id])
    form = client.get(url).content.decode()
    assert "rights" in form and "source_1" in form and "纳税人登记信息" in form
    bad = client.post(url + "?kind=transfer", {"kind": "transfer", "note": "转让", "to_uscc": "123"})
    assert bad.status_code == 422 and "统一社会信用代码" in bad.content.decode()
    ok = client.post(
        url,
        {
            "kind": "change",
            "note": "更新估值",
            "description": asset.description,
            "valuation_note": "收益法",
            "compliance_note": asset.compliance_note,
            "rights": asset.rights,
            "source_1": str(w.r_company.public_id),
            "basis_1": "条例第三十五条",
            "source_2": str(w.r_annual.public_id),
            "basis_2": "《企业信息公示暂行条例》",
            "expected_version": asset.row_version,
        },
    )
    assert ok.status_code == 302, ok.content.decode()[-2000:]
    asset.refresh_from_db()
    change = asset.pending_change["values"]
    assert change["valuation_note"] == "收益法"
    assert [s["code"] for s in change["sources"]] == ["440199-SCJ-00001", "440199-SCJ-00002"]


def test_public_verification_page_by_number_and_upload(client, w):
    asset = _registered(w)
    url = reverse("datahub:asset_verify")
    assert client.get(url).status_code == 200
    found = client.get(url, {"number": asset.number, "code": verify_code_display(asset.verify_code)})
    page = found.content.decode()
    assert found.status_code == 200 and 'data-result="valid"' in page and asset.name in page
    wrong = client.get(url, {"number": asset.number, "code": "0000-0000"})
    assert wrong.status_code == 404 and asset.name not in wrong.content.decode()
    document = asset_file(asset)
    upload = SimpleUploadedFile(
        "cert.json", json.dumps(document, ensure_ascii=False).encode(), content_type="application/json"
    )
    assert 'data-result="valid"' in client.post(url, {"certificate": upload}).content.decode()
    document["payload"]["name"] = "别的产品"
    upload = SimpleUploadedFile("cert.json", json.dumps(document).encode(), content_type="application/json")
    page = client.post(url, {"certificate": upload}).content.decode()
    assert 'data-result="invalid"' in page and "别的产品" not in page
    bad = client.post(url, {"certificate": SimpleUploadedFile("x.txt", b"hello", content_type="text/plain")})
    assert bad.status_code == 400


def test_lists_have_bounded_queries(client, w, django_assert_max_num_queries):
    for i in range(4):
        asset_create(actor=w.scj, **asset_kwargs(w, name=f"产品{i}"))
    _registered(w)
    _login(client, w.scj_officer)
    with django_assert_max_num_queries(12):
        assert client.get(reverse("datahub:asset_list")).status_code == 200
    client.logout()
    _login(client, w.centre_officer)
    with django_assert_max_num_queries(12):
        assert client.get(reverse("datahub:asset_list") + "?tab=all").status_code == 200


@pytest.mark.parametrize("who", ["clerk", "citizen"])
def test_pages_are_forbidden_to_other_roles(client, w, who):
    asset = asset_create(actor=w.scj, **asset_kwargs(w))
    _login(client, getattr(w, who))
    for url in (
        reverse("datahub:asset_list"),
        reverse("datahub:asset_new"),
        reverse("datahub:asset_detail", args=[asset.public_id]),
        reverse("datahub:asset_certificate", args=[asset.public_id]),
    ):
        assert client.get(url).status_code == 403, url
    assert (
        client.post(reverse("datahub:asset_act", args=[asset.public_id]), {"action": "submit"}).status_code
        == 403
    )


def test_another_department_gets_404_and_anonymous_goes_to_login(client, w):
    asset = asset_create(actor=w.scj, **asset_kwargs(w))
    assert client.get(reverse("datahub:asset_list")).status_code == 302
    assert client.get(reverse("datahub:asset_detail", args=[asset.public_id])).status_code == 302
    _login(client, w.mzj_officer)
    assert client.get(reverse("datahub:asset_detail", args=[asset.public_id])).status_code == 404
    response = client.post(reverse("datahub:asset_act", args=[asset.public_id]), {"action": "submit"})
    assert response.status_code == 404
    assert asset.name not in client.get(reverse("datahub:asset_list")).content.decode()


def test_admin_is_read_only_for_the_centre(client, w):
    asset = _registered(w)
    for staff in (w.centre_officer, w.scj_officer):
        staff.account.is_staff = True
        staff.account.save(update_fields=["is_staff"])
    _login(client, w.centre_officer)
    assert client.get(reverse("admin:datahub_dataasset_changelist")).status_code == 200
    change = client.get(reverse("admin:datahub_dataasset_change", args=[asset.pk]))
    assert change.status_code == 200 and asset.number in change.content.decode()
    assert client.get(reverse("admin:datahub_dataassetevent_changelist")).status_code == 200
    assert client.get(reverse("admin:datahub_dataasset_add")).status_code == 403
    client.logout()
    _login(client, w.scj_officer)
    assert client.get(reverse("admin:datahub_dataasset_changelist")).status_code == 403
