"""API /api/mydata: forbidden and invalid paths first (anonymous, staff, another holder's ids, bad input → problem+json,
nothing written), then holdings, uses, consents with receipt, vouchers with download and the public check."""

from __future__ import annotations

import json
import uuid

import pytest
from django.test import override_settings

from tests.datahub.world_mydata import _mydata_fast, log_call, mw_fixture  # noqa: F401  (fixtures)
from yiwang.core.models import AuditEntry
from yiwang.datahub.models import Consent, DataVoucher

pytestmark = pytest.mark.django_db
PROBLEM = "application/problem+json"
BASE = "/api/mydata"


@pytest.fixture(autouse=True)
def _platform_date(clock):
    return clock


def consent_body(world, **extra) -> dict:
    return {
        "grantee_kind": "system",
        "system_client_id": world.system.client_id,
        "items": [{"resource": world.person_res.code, "fields": ["name", "gender"]}],
        "purpose": "高龄津贴资格认定",
        "valid_until": "2026-05-01",  # the clock stands at 2026-03-02
        **extra,
    }


def post(client, path, body):
    return client.post(f"{BASE}{path}", json.dumps(body), content_type="application/json")


def assert_problem(response, status):
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith(PROBLEM)
    return response.json()


# --- forbidden -----------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "method,path",
    [
        ("get", "/holdings"),
        ("get", "/uses"),
        ("get", "/consents"),
        ("post", "/consents"),
        ("get", "/vouchers"),
        ("post", "/vouchers"),
        ("post", "/audit/uses"),
    ],
)
def test_anonymous_is_401(client, mw, method, path):
    response = getattr(client, method)(f"{BASE}{path}", content_type="application/json")
    assert_problem(response, 401)


def test_another_holders_consent_and_voucher_are_404(client, mw):
    client.force_login(mw.other)
    consent_id = post(client, "/consents", consent_body(mw)).json()["id"]
    voucher_id = post(client, "/vouchers", {"items": [{"source": "person"}]}).json()["id"]
    client.force_login(mw.citizen)
    for path in (
        f"/consents/{consent_id}",
        f"/consents/{consent_id}/receipt",
        f"/vouchers/{voucher_id}",
        f"/vouchers/{voucher_id}/file",
        f"/consents/{uuid.uuid4()}",
        "/consents/not-a-uuid",
        "/vouchers/1",
    ):
        assert_problem(client.get(f"{BASE}{path}"), 404)
    assert_problem(post(client, f"/consents/{consent_id}/revoke", {}), 404)
    assert_problem(post(client, f"/vouchers/{voucher_id}/revoke", {}), 404)
    assert Consent.objects.get(public_id=consent_id).status == "active"
    assert DataVoucher.objects.get(public_id=voucher_id).revoked_at is None


def test_staff_without_a_person_and_citizens_on_the_audit(client, mw):
    client.force_login(mw.auditor.account)
    assert_problem(client.get(f"{BASE}/holdings"), 404)
    assert_problem(post(client, "/consents", consent_body(mw)), 403)
    client.force_login(mw.citizen)
    body = {"id_number": mw.other.person.id_number, "purpose": "看看"}
    assert_problem(post(client, "/audit/uses", body), 403)
    assert not AuditEntry.objects.filter(action="datahub.data_uses_audit").exists()


def test_non_representative_enterprise_consent_is_403(client, mw):
    client.force_login(mw.agent_expired)
    body = consent_body(mw, items=[{"resource": mw.org_res.code, "fields": ["name"]}])
    assert_problem(post(client, "/consents", body), 403)
    assert not Consent.objects.exists()


@pytest.mark.parametrize(
    "extra,field",
    [
        ({"purpose": ""}, "purpose"),
        ({"valid_until": "2026-03-01"}, "valid_until"),
        ({"valid_until": "2027-06-01"}, "valid_until"),
        ({"valid_until": "not-a-date"}, "valid_until"),
        ({"items": [{"resource": "NOPE", "fields": ["name"]}]}, "items"),
        ({"system_client_id": "nope"}, "system"),
        ({"max_uses": 0}, "max_uses"),
        ({"mode": "store"}, "data_life_days"),
        (
            {
                "grantee_kind": "third_party",
                "system_client_id": "",
                "grantee_name": "银行",
                "grantee_uscc": "X",
            },
            "grantee_uscc",
        ),
    ],
)
def test_invalid_consent_is_422_naming_the_field(client, mw, extra, field):
    client.force_login(mw.citizen)
    data = assert_problem(post(client, "/consents", consent_body(mw, **extra)), 422)
    assert field in {e["field"] for e in data["errors"]}
    assert not Consent.objects.exists()


def test_invalid_voucher_and_cursor_are_422(client, mw):
    client.force_login(mw.citizen)
    assert_problem(post(client, "/vouchers", {"items": [{"source": "tax"}]}), 422)
    assert_problem(post(client, "/vouchers", {"items": [{"source": "person"}], "valid_days": 0}), 422)
    assert_problem(client.get(f"{BASE}/uses?cursor=%%%"), 422)
    assert not DataVoucher.objects.exists()


# --- holdings and uses ---------------------------------------------------------------------------------------
def test_holdings_and_uses(client, mw, django_assert_max_num_queries):
    for _ in range(3):
        log_call(mw, person=mw.citizen.person)
    log_call(mw, person=mw.other.person)
    client.force_login(mw.citizen)
    holdings = client.get(f"{BASE}/holdings")
    assert holdings.status_code == 200
    assert "no-cache" in holdings["Cache-Control"] or "no-store" in holdings["Cache-Control"]
    data = holdings.json()
    assert data["holder_kind"] == "person"
    assert [s["key"] for s in data["sections"]] == ["registry", "licences", "cases", "entitlements"]
    with django_assert_max_num_queries(8):
        uses = client.get(f"{BASE}/uses?limit=2")
    page = uses.json()
    assert len(page["items"]) == 2 and page["next_cursor"]
    rest = client.get(f"{BASE}/uses", {"cursor": page["next_cursor"]}).json()
    assert len(rest["items"]) == 1 and rest["next_cursor"] is None


# --- consents ------------------------------------------------------------------------------------------------
def test_give_list_receipt_revoke(client, mw):
    client.force_login(mw.citizen)
    created = post(client, "/consents", consent_body(mw, max_uses=5))
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["status"] == "active" and body["system_client_id"] == mw.system.client_id
    listing = client.get(f"{BASE}/consents").json()
    assert [c["id"] for c in listing["items"]] == [body["id"]]
    receipt = client.get(f"{BASE}/consents/{body['id']}/receipt").json()
    assert receipt["record"]["consentReceiptID"] == body["id"]
    assert receipt["public_key_hex"] and receipt["signature_sm2"]
    revoked = post(client, f"/consents/{body['id']}/revoke", {"reason": "办完了"})
    assert revoked.status_code == 200 and revoked.json()["status"] == "revoked"
    assert_problem(post(client, f"/consents/{body['id']}/revoke", {}), 422)


def test_enterprise_representative_gives(client, mw):
    client.force_login(mw.enterprise)
    body = consent_body(mw, items=[{"resource": mw.org_res.code, "fields": ["name", "uscc"]}])
    created = post(client, "/consents", body)
    assert created.status_code == 201, created.content
    assert (
        Consent.objects.get(public_id=created.json()["id"]).holder_organisation_id
        == mw.enterprise.organisation_id
    )


# --- vouchers ------------------------------------------------------------------------------------------------
def test_voucher_issue_download_verify_revoke(client, mw):
    client.force_login(mw.citizen)
    created = post(
        client, "/vouchers", {"items": [{"source": "person", "fields": ["name"]}], "valid_days": 30}
    )
    assert created.status_code == 201, created.content
    vid = created.json()["id"]
    download = client.get(f"{BASE}/vouchers/{vid}/file")
    assert download.status_code == 200 and "attachment" in download["Content-Disposition"]
    document = download.json()
    client.logout()
    check = client.post(f"{BASE}/vouchers/verify", json.dumps(document), content_type="application/json")
    assert check.status_code == 200 and check.json()["result"] == "valid"
    assert mw.citizen.person.name not in check.content.decode()
    document["payload"]["items"][0]["records"][0]["name"] = "王五"
    tampered = client.post(f"{BASE}/vouchers/verify", json.dumps(document), content_type="application/json")
    assert tampered.json()["result"] == "invalid"
    assert_problem(client.post(f"{BASE}/vouchers/verify", "not json", content_type="application/json"), 400)
    assert_problem(client.post(f"{BASE}/vouchers/verify", "[1]", content_type="application/json"), 422)
    keys = client.get(f"{BASE}/vouchers/keys").json()
    assert keys and keys[0]["public_key_hex"].startswith("04")
    client.force_login(mw.citizen)
    assert post(client, f"/vouchers/{vid}/revoke", {}).json()["status"] == "revoked"
    client.logout()
    document["payload"]["items"][0]["records"][0]["name"] = mw.citizen.person.name
    again = client.post(f"{BASE}/vouchers/verify", json.dumps(document), content_type="application/json")
    assert again.json()["result"] == "revoked"


@override_settings(YIWANG_RATE_LIMITS={"data_voucher_verify": "3/minute"})
def test_public_verify_is_rate_limited(client, mw):
    from yiwang.core.ratelimit import rate_limits_reset

    rate_limits_reset()
    for _ in range(3):
        assert (
            client.post(f"{BASE}/vouchers/verify", "{}", content_type="application/json").status_code == 200
        )
    over = client.post(f"{BASE}/vouchers/verify", "{}", content_type="application/json")
    assert_problem(over, 429)
    assert over["Retry-After"]


# --- staff audit ---------------------------------------------------------------------------------------------
def test_auditor_api_needs_purpose_and_audits(client, mw):
    log_call(mw, person=mw.citizen.person)
    client.force_login(mw.auditor.account)
    assert_problem(
        post(client, "/audit/uses", {"id_number": mw.citizen.person.id_number, "purpose": ""}), 422
    )
    ok = post(client, "/audit/uses", {"id_number": mw.citizen.person.id_number, "purpose": "投诉核查"})
    assert ok.status_code == 200 and len(ok.json()["items"]) == 1
    assert mw.citizen.person.id_number not in ok.content.decode()
    assert AuditEntry.objects.filter(action="datahub.data_uses_audit").count() == 1
