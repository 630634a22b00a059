"""Pages of 我的数据: login required, another holder's ids → 404, the give form and its errors, receipt download,
revocation, vouchers, the public check page (rate-limited) and the auditor's page (DATA_AUDIT only)."""

from __future__ import annotations

import io
import json

import pytest
from django.test import override_settings

from tests.datahub.world_mydata import _mydata_fast, log_call, mw_fixture  # noqa: F401  (fixtures)
from yiwang.core.models import AuditEntry
from yiwang.datahub.models import Consent, DataVoucher
from yiwang.datahub.services.mydata import voucher_issue
from yiwang.datahub.vouchers import voucher_file

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _platform_date(clock):
    return clock


def give_form(world, **extra):
    return {
        "grantee_kind": "system",
        "system": world.system.client_id,
        "item": [f"{world.person_res.code}:name", f"{world.person_res.code}:gender"],
        "purpose": "高龄津贴资格认定",
        "valid_until": "2026-05-01",
        "mode": "view",
        "max_uses": "",
        "data_life_days": "",
        **extra,
    }


@pytest.mark.parametrize(
    "url", ["/data/mydata/", "/data/mydata/uses/", "/data/consents/", "/data/vouchers/", "/data/uses-audit/"]
)
def test_login_required(client, mw, url):
    response = client.get(url)
    assert response.status_code == 302 and "login" in response["Location"]


def test_auditor_page_is_staff_only(client, mw):
    client.force_login(mw.citizen)
    assert client.get("/data/uses-audit/").status_code == 403


def test_mydata_home_and_uses(client, mw, django_assert_max_num_queries):
    log_call(mw, person=mw.citizen.person, purpose="GX-办件-0077")
    log_call(mw, person=mw.other.person, purpose="GX-别人的-0001")
    client.force_login(mw.citizen)
    home = client.get("/data/mydata/")
    assert home.status_code == 200
    text = home.content.decode()
    assert "人口基础信息" in text and mw.person_res.provider.name in text
    assert "GX-办件-0077" in text and "GX-别人的-0001" not in text
    assert mw.citizen.person.id_number not in text
    assert home["Cache-Control"].startswith("max-age=0") or "no-store" in home["Cache-Control"]
    with django_assert_max_num_queries(12):
        uses = client.get("/data/mydata/uses/")
    assert "GX-办件-0077" in uses.content.decode()
    assert client.get("/data/mydata/uses/?cursor=%%%").status_code == 302


def test_staff_without_person_sees_an_empty_page(client, mw):
    client.force_login(mw.auditor.account)
    assert client.get("/data/mydata/").status_code == 200
    assert client.get("/data/mydata/uses/").status_code == 200


def test_give_with_errors_then_ok_then_revoke(client, mw):
    client.force_login(mw.citizen)
    page = client.get("/data/consents/")
    assert page.status_code == 200 and "高龄津贴系统" in page.content.decode()
    bad = client.post("/data/consents/", give_form(mw, purpose="", item=[]))
    assert bad.status_code == 400
    assert "请填写用途" in bad.content.decode() and "请至少选择一项授权数据" in bad.content.decode()
    assert not Consent.objects.exists()
    ok = client.post("/data/consents/", give_form(mw))
    consent = Consent.objects.get()
    assert ok.status_code == 302 and ok["Location"].endswith(f"/data/consents/{consent.public_id}/")
    detail = client.get(ok["Location"])
    assert detail.status_code == 200 and consent.signature in detail.content.decode()
    receipt = client.get(f"/data/consents/{consent.public_id}/receipt.json")
    assert receipt.status_code == 200 and json.loads(receipt.content)["record"]["consentReceiptID"] == str(
        consent.public_id
    )
    client.post(f"/data/consents/{consent.public_id}/revoke/", {"reason": "不再需要"})
    consent.refresh_from_db()
    assert consent.status == Consent.Status.REVOKED


def test_another_holders_consent_pages_are_404(client, mw):
    client.force_login(mw.other)
    client.post("/data/consents/", give_form(mw))
    consent = Consent.objects.get()
    client.force_login(mw.citizen)
    assert client.get(f"/data/consents/{consent.public_id}/").status_code == 404
    assert client.get(f"/data/consents/{consent.public_id}/receipt.json").status_code == 404
    assert client.post(f"/data/consents/{consent.public_id}/revoke/").status_code == 404
    assert client.get("/data/consents/12/").status_code == 404
    consent.refresh_from_db()
    assert consent.status == Consent.Status.ACTIVE


def test_enterprise_non_representative_sees_no_form(client, mw):
    client.force_login(mw.agent_expired)
    page = client.get("/data/consents/")
    assert "data-consent-form" not in page.content.decode()
    assert client.post("/data/consents/", give_form(mw)).status_code == 403
    assert not Consent.objects.exists()


def test_vouchers_page_issue_download_revoke(client, mw):
    client.force_login(mw.citizen)
    assert client.get("/data/vouchers/").status_code == 200
    bad = client.post("/data/vouchers/", {"valid_days": "30"})
    assert bad.status_code == 400 and not DataVoucher.objects.exists()
    ok = client.post("/data/vouchers/", {"item": ["person:name", "licences:type_name"], "valid_days": "30"})
    assert ok.status_code == 302
    voucher = DataVoucher.objects.get()
    download = client.get(f"/data/vouchers/{voucher.public_id}/file.json")
    assert download.status_code == 200 and json.loads(download.content)["payload"]["voucher_id"] == str(
        voucher.public_id
    )
    client.force_login(mw.other)
    assert client.get(f"/data/vouchers/{voucher.public_id}/file.json").status_code == 404
    assert client.post(f"/data/vouchers/{voucher.public_id}/revoke/").status_code == 404
    client.force_login(mw.citizen)
    client.post(f"/data/vouchers/{voucher.public_id}/revoke/")
    voucher.refresh_from_db()
    assert voucher.revoked_at is not None


def _upload(document, name="v.json"):
    data = io.BytesIO(json.dumps(document, ensure_ascii=False).encode())
    data.name = name
    return data


def test_public_verify_page(client, mw):
    voucher = voucher_issue(actor=mw.p(mw.citizen), items=[{"source": "person", "fields": ["name"]}])
    document = voucher_file(voucher)
    assert client.get("/data/vouchers/verify/").status_code == 200
    good = client.post("/data/vouchers/verify/", {"voucher": _upload(document)})
    text = good.content.decode()
    assert good.status_code == 200 and 'data-result="valid"' in text
    assert mw.citizen.person.name not in text
    document["payload"]["purpose"] = "改过"
    bad = client.post("/data/vouchers/verify/", {"voucher": _upload(document)})
    assert 'data-result="invalid"' in bad.content.decode()
    not_json = client.post("/data/vouchers/verify/", {"voucher": _upload(document, name="v.txt")})
    assert not_json.status_code == 400


@override_settings(YIWANG_RATE_LIMITS={"data_voucher_verify": "2/minute"})
def test_public_verify_page_is_rate_limited(client, mw):
    from yiwang.core.ratelimit import rate_limits_reset

    rate_limits_reset()
    for _ in range(2):
        client.post("/data/vouchers/verify/", {"voucher": _upload({})})
    over = client.post("/data/vouchers/verify/", {"voucher": _upload({})})
    assert over.status_code == 429 and over["Retry-After"]


def test_auditor_page_searches_and_audits(client, mw):
    log_call(mw, person=mw.citizen.person, purpose="GX-审计-0001")
    client.force_login(mw.auditor.account)
    assert client.get("/data/uses-audit/").status_code == 200
    bad = client.post("/data/uses-audit/", {"id_number": mw.citizen.person.id_number, "purpose": ""})
    assert bad.status_code == 400
    ok = client.post("/data/uses-audit/", {"id_number": mw.citizen.person.id_number, "purpose": "投诉核查"})
    assert ok.status_code == 200 and "GX-审计-0001" in ok.content.decode()
    assert AuditEntry.objects.filter(action="datahub.data_uses_audit").count() == 1


def test_admin_lists_read_only_and_revokes_through_the_service(client, mw):
    from datetime import timedelta

    from django.utils import timezone

    from tests.factories import AccountFactory
    from yiwang.datahub.services.consent import consent_give

    consent = consent_give(
        actor=mw.p(mw.citizen),
        grantee_kind="system",
        system_client_id=mw.system.client_id,
        items=[{"resource": mw.person_res.code, "fields": ["name"]}],
        purpose="高龄津贴",
        valid_until=timezone.now() + timedelta(days=30),
    )
    voucher_issue(actor=mw.p(mw.citizen), items=[{"source": "person", "fields": ["name"]}])
    root = AccountFactory(username="mydata-root", is_superuser=True, is_staff=True)
    client.force_login(root)
    listing = client.get("/admin/datahub/consent/")
    assert listing.status_code == 200 and "高龄津贴" in listing.content.decode()
    assert client.get(f"/admin/datahub/consent/{consent.pk}/change/").status_code == 200
    assert client.get("/admin/datahub/consent/add/").status_code == 403
    assert client.get("/admin/datahub/datavoucher/").status_code == 200
    response = client.post(
        "/admin/datahub/consent/", {"action": "revoke_selected", "_selected_action": [consent.pk]}
    )
    assert response.status_code == 302
    consent.refresh_from_db()
    assert consent.status == Consent.Status.REVOKED
    entry = AuditEntry.objects.get(action="datahub.consent_revoke")
    assert entry.after["by"] == "data_centre"


def test_consent_and_voucher_lists_do_not_grow_with_rows(client, mw, django_assert_max_num_queries):
    client.force_login(mw.citizen)
    for _ in range(6):
        client.post("/data/consents/", give_form(mw))
        voucher_issue(actor=mw.p(mw.citizen), items=[{"source": "person", "fields": ["name"]}])
    with django_assert_max_num_queries(14):
        page = client.get("/data/consents/")
    assert page.content.decode().count("data-consent=") == 6
    with django_assert_max_num_queries(10):
        page = client.get("/data/vouchers/")
    assert page.content.decode().count("data-voucher=") == 6
    with django_assert_max_num_queries(6):
        listing = client.get("/api/mydata/consents")
    assert len(listing.json()["items"]) == 6
    with django_assert_max_num_queries(6):
        listing = client.get("/api/mydata/vouchers")
    assert len(listing.json()["items"]) == 6
