"""API /api/datahub/assets: drafting, the centre's review, the certificate file and receipts, changes and
transfers, cancellation; the public verification (number + code, the file; rate-limited); field errors in
Chinese and English with nothing written; forbidden for other departments, clerks, citizens and anonymous
callers; lists keyset-paged with bounded queries."""

from __future__ import annotations

import json

import pytest

from tests.datahub.world_assets import asset_kwargs, build_assets_world
from yiwang.core.evidence.sequencer import sequencer_run_once, tree_head_sign
from yiwang.core.models import AuditEntry
from yiwang.core.ratelimit import rate_limits_reset
from yiwang.datahub.models import DataAsset
from yiwang.datahub.services.assets import asset_create, asset_review, asset_submit

pytestmark = pytest.mark.django_db
BASE = "/api/datahub/assets"


@pytest.fixture
def w(db, clock, media_and_fast_passwords):
    rate_limits_reset()
    return build_assets_world()


def _login(client, staff_or_account):
    client.force_login(getattr(staff_or_account, "account", staff_or_account))
    return client


def _post(client, url, body, **extra):
    return client.post(url, data=json.dumps(body), content_type="application/json", **extra)


def _problem(response, status):
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/problem+json")
    return response.json()


def _body(w, **kw) -> dict:
    base = {
        "name": "区企业经营主体画像数据产品",
        "description": "企业画像。",
        "producer": "区市场监督管理局",
        "sources": [
            {"resource": str(w.r_company.public_id), "legal_basis": "条例第三十五条"},
            {"resource": "440199-SWJ-00001", "legal_basis": "共享授权"},
        ],
        "rights": ["holding", "processing"],
        "valuation_note": "",
        "compliance_note": "来源合法。",
    }
    base.update(kw)
    return base


def _registered(w) -> DataAsset:
    asset = asset_submit(actor=w.scj, asset=asset_create(actor=w.scj, **asset_kwargs(w)))
    return asset_review(actor=w.centre, asset=asset, decision="register", review="准予登记")


def test_draft_submit_register_then_download_the_certificate(client, w):
    response = _post(_login(client, w.scj_officer), BASE, _body(w))
    assert response.status_code == 201, response.content
    data = response.json()
    assert data["status"] == "draft" and data["holder"]["uscc"] == w.d_scj.uscc
    assert {s["code"]: s["grant"] for s in data["sources"]} == {
        "440199-SCJ-00001": "",
        "440199-SWJ-00001": w.grant.number,
    }
    assert data["actions"] == ["edit", "submit", "cancel"]
    aid = data["id"]
    patched = client.patch(
        f"{BASE}/{aid}",
        data=json.dumps({"expected_version": data["row_version"], "valuation_note": "成本法"}),
        content_type="application/json",
    )
    assert patched.status_code == 200 and patched.json()["valuation_note"] == "成本法"
    stale = _post(client, f"{BASE}/{aid}/submit", {"expected_version": data["row_version"]})
    _problem(stale, 409)
    submitted = _post(client, f"{BASE}/{aid}/submit", {"expected_version": patched.json()["row_version"]})
    assert submitted.status_code == 200 and submitted.json()["status"] == "submitted"
    _problem(_post(client, f"{BASE}/{aid}/register", {"review": "自己批"}), 403)
    client.logout()
    _login(client, w.centre_officer)
    queue = client.get(f"{BASE}?tab=queue").json()["items"]
    assert [a["id"] for a in queue] == [aid]
    registered = _post(client, f"{BASE}/{aid}/register", {"review": "准予登记"})
    assert registered.status_code == 200, registered.content
    body = registered.json()
    assert body["status"] == "registered" and body["number"].startswith("ZC") and body["version"] == 1
    assert body["verify_code"] and body["events"][-1]["action"] == "register"
    _problem(_post(client, f"{BASE}/{aid}/register", {"review": "再批"}), 409)
    file = client.get(f"{BASE}/{aid}/certificate")
    assert file.status_code == 200 and "attachment" in file["Content-Disposition"]
    document = json.loads(file.content)
    assert document["payload"]["number"] == body["number"] and document["public_key_hex"].startswith("04")
    assert document["receipt_entry"] == body["events"][-1]["receipt_entry"]
    verified = client.post(f"{BASE}/verify", data=file.content, content_type="application/json")
    assert verified.json()["result"] == "valid"


def test_field_errors_in_chinese_and_english_and_nothing_written(client, w):
    _login(client, w.scj_officer)
    body = _problem(_post(client, BASE, _body(w, rights=["operation"], name="")), 422)
    fields = {e["field"]: e["message"] for e in body["errors"]}
    assert "加工使用权" in fields["rights"] and "名称" in fields["name"]
    body = _problem(_post(client, BASE, _body(w, rights=["operation"]), HTTP_ACCEPT_LANGUAGE="en"), 422)
    message = {e["field"]: e["message"] for e in body["errors"]}["rights"]
    assert "processing" in message.lower() or "use" in message.lower(), message
    grantless = _body(w, sources=[{"resource": "440199-SWJ-00002", "legal_basis": "无"}])
    assert "共享授权" in _problem(_post(client, BASE, grantless), 422)["errors"][0]["message"]
    _problem(_post(client, BASE, {"name": "x"}), 422)
    _problem(_post(client, BASE, _body(w, sources="not a list")), 422)
    assert not DataAsset.objects.exists()


def test_forbidden_to_other_departments_clerks_citizens_and_anonymous(client, w):
    asset = asset_create(actor=w.scj, **asset_kwargs(w))
    url = f"{BASE}/{asset.public_id}"
    _problem(client.get(url), 401)
    _problem(client.get(BASE), 401)
    _problem(_post(client, BASE, _body(w)), 401)
    for who in (w.clerk, w.citizen):
        _login(client, who)
        _problem(client.get(url), 403)
        _problem(_post(client, BASE, _body(w)), 403)
        client.logout()
    _login(client, w.mzj_officer)
    _problem(client.get(url), 404)
    _problem(_post(client, f"{url}/submit", {}), 404)
    assert client.get(BASE).json()["items"] == []
    client.logout()
    _login(client, w.centre_officer)
    _problem(_post(client, f"{url}/submit", {}), 403)  # the centre does not act for the holder
    assert client.get(url).status_code == 200  # but sees drafts
    _problem(client.get(f"{BASE}/not-a-uuid"), 404)


def test_lists_are_scoped_keyset_paged_and_bounded(client, w, django_assert_max_num_queries):
    for i in range(5):
        asset_create(actor=w.scj, **asset_kwargs(w, name=f"产品{i}"))
    asset_create(actor=w.swj, **asset_kwargs(w, sources=[{"resource": w.r_tax, "legal_basis": "法定职责"}]))
    _login(client, w.scj_officer)
    with django_assert_max_num_queries(12):
        page = client.get(f"{BASE}?limit=3").json()
    assert len(page["items"]) == 3 and page["next_cursor"]
    rest = client.get(f"{BASE}?limit=3&cursor={page['next_cursor']}").json()
    assert len(rest["items"]) == 2 and rest["next_cursor"] is None
    client.logout()
    _login(client, w.centre_officer)
    with django_assert_max_num_queries(12):
        assert len(client.get(f"{BASE}?tab=all&limit=50").json()["items"]) == 6
    _problem(client.get(f"{BASE}?tab=bogus"), 422)
    _problem(client.get(f"{BASE}?status=bogus"), 422)
    _problem(client.get(f"{BASE}?cursor=%%%"), 422)


def test_public_verification_by_number_and_code(client, w):
    asset = _registered(w)
    ok = client.get(f"{BASE}/verify", {"number": asset.number, "code": asset.verify_code})
    assert ok.status_code == 200
    data = ok.json()
    assert data["result"] == "valid" and data["holder_uscc"] == w.d_scj.uscc
    assert data["sources"][0]["code"] == "440199-SCJ-00001"
    wrong = client.get(f"{BASE}/verify", {"number": asset.number, "code": "0000-0000"})
    assert "name" not in _problem(wrong, 404) and asset.name not in wrong.content.decode()
    _problem(client.get(f"{BASE}/verify", {"number": asset.number}), 404)
    _problem(client.post(f"{BASE}/verify", data=b"not json", content_type="application/json"), 400)
    _problem(client.post(f"{BASE}/verify", data=b"[1, 2]", content_type="application/json"), 422)


def test_public_verification_is_rate_limited(client, w, settings):
    settings.YIWANG_RATE_LIMITS_ENABLED = True
    asset = _registered(w)
    for _ in range(30):
        client.get(f"{BASE}/verify", {"number": asset.number, "code": "0000-0000"})
    response = client.get(f"{BASE}/verify", {"number": asset.number, "code": asset.verify_code})
    assert _problem(response, 429) and response["Retry-After"]


def test_change_transfer_and_cancel_through_the_api(client, w):
    asset = _registered(w)
    url = f"{BASE}/{asset.public_id}"
    _login(client, w.scj_officer)
    bad = _post(client, f"{url}/transfer", {"note": "转让", "to_uscc": "123"})
    assert _problem(bad, 422)["errors"][0]["field"] == "to_uscc"
    changed = _post(client, f"{url}/changes", {"note": "更新估值", "valuation_note": "收益法 60 万元"})
    assert changed.status_code == 200 and changed.json()["pending_change"]["kind"] == "change"
    _problem(_post(client, f"{url}/changes", {"note": "再改", "valuation_note": "x"}), 409)
    client.logout()
    _login(client, w.centre_officer)
    assert [a["id"] for a in client.get(f"{BASE}?tab=queue").json()["items"]] == [str(asset.public_id)]
    approved = _post(client, f"{url}/changes/approve", {"review": "准予"})
    assert approved.json()["version"] == 2 and approved.json()["valuation_note"] == "收益法 60 万元"
    client.logout()
    _login(client, w.scj_officer)
    moved = _post(client, f"{url}/transfer", {"note": "职能调整", "to_department": "MZJ"})
    assert moved.json()["pending_change"]["to"]["name"] == "民政局"
    client.logout()
    _login(client, w.centre_officer)
    done = _post(client, f"{url}/changes/approve", {"review": "准予转让"}).json()
    assert done["holder"]["code"] == "MZJ" and done["version"] == 3
    cancelled = _post(client, f"{url}/cancel", {"reason": "停止运营"})
    assert cancelled.json()["status"] == "cancelled"
    check = client.get(f"{BASE}/verify", {"number": asset.number, "code": asset.verify_code}).json()
    assert check["result"] == "cancelled"


def test_receipts_of_every_step(client, w):
    asset = _registered(w)
    _login(client, w.scj_officer)
    rows = client.get(f"{BASE}/{asset.public_id}/receipts").json()
    assert [r["action"] for r in rows] == ["data_asset.create", "data_asset.submit", "data_asset.register"]
    first = rows[-1]
    if not first["ready"]:
        response = client.get(first["download_url"])
        assert _problem(response, 409) and response["Retry-After"]
    sequencer_run_once()
    tree_head_sign()
    response = client.get(first["download_url"])
    assert response.status_code == 200
    receipt = json.loads(response.content)
    assert receipt["entry"]["uuid"] == first["entry_uuid"]
    other = AuditEntry.objects.exclude(uuid__in=[r["entry_uuid"] for r in rows]).first()
    if other is not None:
        _problem(client.get(f"{BASE}/{asset.public_id}/receipts/{other.uuid}"), 404)
