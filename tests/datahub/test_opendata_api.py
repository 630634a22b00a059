"""API of the open-data portal (/api/datahub/open): the public and keyed reads, the signed-in account's keys and
applications, management; forbidden paths (anonymous, citizen, other department) and field-level errors in
Chinese and English."""

from __future__ import annotations

import json
from datetime import date

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings

from tests.datahub.world_opendata import ow_fixture, personal_csv, stats_csv  # noqa: F401  (fixtures)
from yiwang.datahub.models import OpenApplication, OpenDataset
from yiwang.datahub.services import opendata as svc

pytestmark = pytest.mark.django_db
BASE = "/api/datahub/open"


def _login(client, who):
    client.force_login(getattr(who, "account", who))
    return client


def _post(client, url, body, **extra):
    return client.post(url, json.dumps(body), content_type="application/json", **extra)


def test_public_listing_follows_the_visibility_rule(client, ow, django_assert_max_num_queries):
    open_ds = ow.published(title="各镇街人口统计")
    cond_ds = ow.published(title="企业经营统计", tier="conditional", themes=["economy"])
    draft = ow.draft(title="草稿数据集")
    with django_assert_max_num_queries(16):
        body = client.get(f"{BASE}/datasets").json()
    names = [d["name"] for d in body["items"]]
    assert names == [open_ds.name] and body["total"] == 1
    assert {f["value"] for f in body["facets"]["department"]} == {"TJJ"}
    assert client.get(f"{BASE}/datasets/{cond_ds.name}").status_code == 404
    assert client.get(f"{BASE}/datasets/{draft.name}").status_code == 404
    _login(client, ow.citizen)
    body = client.get(f"{BASE}/datasets", {"tier": "conditional"}).json()
    assert [d["name"] for d in body["items"]] == [cond_ds.name]
    detail = client.get(f"{BASE}/datasets/{cond_ds.name}").json()
    assert detail["data_allowed"] is False and detail["resources"][0]["row_count"] == 25
    assert client.get(f"{BASE}/datasets", {"q": "企业经营"}).json()["total"] == 1


def test_keyed_rows_open_and_conditional(client, ow):
    open_ds = ow.published()
    cond_ds = ow.published(title="企业经营统计", tier="conditional")
    open_res = open_ds.resources.get()
    cond_res = cond_ds.resources.get()
    url = f"{BASE}/resources/{open_res.public_id}/rows"
    assert client.get(url).status_code == 401  # a key is needed
    assert client.get(url, HTTP_X_API_KEY="yod_notakey").status_code == 401
    _key, raw = svc.open_api_key_create(actor=ow.citizen, label="测试")
    response = client.get(url, {"limit": 3, "filters": json.dumps({"镇街": "东城街道"})}, HTTP_X_API_KEY=raw)
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["total"] == 5 and len(body["records"]) == 3
    assert client.get(url, {"sort": "nope"}, HTTP_X_API_KEY=raw).status_code == 422
    assert client.get(url, {"filters": "[1"}, HTTP_X_API_KEY=raw).status_code == 422
    # CKAN's header convention works too
    assert client.get(url, {"limit": 0}, HTTP_AUTHORIZATION=raw).json()["records"] == []
    open_ds.refresh_from_db()
    assert open_ds.api_call_count == 2
    cond_url = f"{BASE}/resources/{cond_res.public_id}/rows"
    assert client.get(cond_url, HTTP_X_API_KEY=raw).status_code == 403
    app = svc.open_application_create(
        actor=ow.citizen,
        dataset=cond_ds,
        applicant_name="某大学",
        purpose="研究企业经营规模的变化",
        scenario="研究",
        agreement=True,
    )
    svc.open_application_decide(actor=ow.tj, application=app, approve=True, valid_until=date(2027, 12, 31))
    assert client.get(cond_url, HTTP_X_API_KEY=raw).status_code == 200
    _other, raw2 = svc.open_api_key_create(actor=ow.citizen2, label="x")
    assert client.get(cond_url, HTTP_X_API_KEY=raw2).status_code == 403


@override_settings(YIWANG_OPEN_API_RATE="2/minute")
def test_keyed_api_is_rate_limited_per_key(client, ow):
    res = ow.published().resources.get()
    _key, raw = svc.open_api_key_create(actor=ow.citizen, label="x")
    url = f"{BASE}/resources/{res.public_id}/rows"
    assert [client.get(url, HTTP_X_API_KEY=raw).status_code for _ in range(3)] == [200, 200, 429]
    last = client.get(url, HTTP_X_API_KEY=raw)
    assert last["Retry-After"] and last["Content-Type"].startswith("application/problem+json")


def test_keys_and_applications_of_a_signed_in_user(client, ow):
    assert _post(client, f"{BASE}/keys", {"label": "x"}).status_code == 401
    _login(client, ow.citizen)
    created = _post(client, f"{BASE}/keys", {"label": "出行小程序"})
    assert created.status_code == 201 and created.json()["key"].startswith("yod_")
    listed = client.get(f"{BASE}/keys").json()
    assert len(listed) == 1 and "key" not in listed[0]
    revoked = client.post(f"{BASE}/keys/{listed[0]['id']}/revoke")
    assert revoked.status_code == 200 and revoked.json()["revoked_at"]
    cond_ds = ow.published(tier="conditional")
    bad = _post(
        client,
        f"{BASE}/datasets/{cond_ds.name}/applications",
        {"applicant_name": "", "purpose": "短", "scenario": "", "agreement": False},
    )
    assert bad.status_code == 422
    fields = {e["field"] for e in bad.json()["errors"]}
    assert {"applicant_name", "purpose", "scenario", "agreement"} <= fields
    assert "须阅读并同意" in bad.content.decode()
    bad_en = _post(
        client,
        f"{BASE}/datasets/{cond_ds.name}/applications",
        {"applicant_name": "", "purpose": "短", "scenario": "", "agreement": False},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert "agreement" in bad_en.content.decode() and "须阅读" not in bad_en.content.decode()
    good = _post(
        client,
        f"{BASE}/datasets/{cond_ds.name}/applications",
        {
            "applicant_name": "某公司",
            "purpose": "开发便民出行服务的需要",
            "scenario": "出行",
            "agreement": True,
        },
    )
    assert good.status_code == 201
    app_id = good.json()["id"]
    assert client.get(f"{BASE}/applications").json()["items"][0]["status"] == "submitted"
    assert client.post(f"{BASE}/applications/{app_id}/key").status_code == 422  # not approved yet
    svc.open_application_decide(
        actor=ow.tj,
        application=OpenApplication.objects.get(public_id=app_id),
        approve=True,
        valid_until=date(2027, 1, 1),
    )
    key = client.post(f"{BASE}/applications/{app_id}/key")
    assert key.status_code == 201 and key.json()["key"].startswith("yod_")
    report = _post(
        client,
        f"{BASE}/applications/{app_id}/reports",
        {"period": "2026-12", "content": "用于出行小程序的公交站点展示"},
    )
    assert report.status_code == 201
    _login(client, ow.citizen2)
    assert client.post(f"{BASE}/applications/{app_id}/key").status_code == 404


def test_management_lifecycle_and_forbidden_paths(client, ow):
    url = f"{BASE}/manage/datasets"
    assert client.get(url).status_code == 401
    _login(client, ow.citizen)
    assert client.get(url).status_code == 403
    _login(client, ow.clerk)
    assert client.get(url).status_code == 403
    _login(client, ow.tj_officer)
    bad = _post(client, url, {"title": "", "tier": "open"})
    assert bad.status_code == 422 and "请填写数据集名称" in bad.content.decode()
    bad_en = _post(client, url, {"title": "", "tier": "open"}, HTTP_ACCEPT_LANGUAGE="en")
    assert bad_en.status_code == 422 and "请填写" not in bad_en.content.decode()
    created = _post(
        client,
        url,
        {"title": "各镇街人口统计", "notes": "按年份汇总", "tier": "open", "themes": ["population"]},
    )
    assert created.status_code == 201, created.content
    ds_id = created.json()["id"]
    upload = client.post(
        f"{url}/{ds_id}/resources", {"file": SimpleUploadedFile("p.csv", stats_csv(), "text/csv")}
    )
    assert upload.status_code == 201 and upload.json()["row_count"] == 25
    bad_file = client.post(
        f"{url}/{ds_id}/resources", {"file": SimpleUploadedFile("p.csv", b"%PDF-1", "text/csv")}
    )
    assert bad_file.status_code == 422
    check = client.post(f"{url}/{ds_id}/check")
    assert check.status_code == 200 and check.json()["ok"] is True
    assert _post(client, f"{url}/{ds_id}/submit", {}).json()["status"] == "in_review"
    assert _post(client, f"{url}/{ds_id}/publish", {}).status_code == 403  # the centre publishes
    _login(client, ow.scj_officer)
    assert client.get(f"{url}/{ds_id}").status_code == 404  # another department
    _login(client, ow.centre)
    published = _post(client, f"{url}/{ds_id}/publish", {})
    assert published.status_code == 200 and published.json()["status"] == "published"
    receipts = client.get(f"{url}/{ds_id}/receipts").json()
    assert receipts[0]["action"] == "datahub.open.dataset_publish"
    _login(client, ow.tj_officer)
    withdrawn = _post(client, f"{url}/{ds_id}/withdraw", {"note": ""})
    assert withdrawn.status_code == 422
    assert _post(client, f"{url}/{ds_id}/withdraw", {"note": "口径调整"}).json()["status"] == "withdrawn"
    assert client.get(f"{BASE}/datasets/{OpenDataset.objects.get(public_id=ds_id).name}").status_code == 404


def test_refused_publication_check_over_the_api(client, ow):
    ds = ow.draft(data=personal_csv())
    _login(client, ow.tj_officer)
    response = _post(client, f"{BASE}/manage/datasets/{ds.public_id}/submit", {})
    assert response.status_code == 422 and "身份证号" in response.content.decode()
    ds.refresh_from_db()
    assert ds.status == "draft" and ds.publication_check["ok"] is False


def test_applications_decided_only_by_the_opening_department(client, ow):
    cond_ds = ow.published(tier="conditional")
    app = svc.open_application_create(
        actor=ow.citizen,
        dataset=cond_ds,
        applicant_name="某公司",
        purpose="开发便民出行服务的需要",
        scenario="出行",
        agreement=True,
    )
    url = f"{BASE}/manage/applications/{app.public_id}/decide"
    _login(client, ow.scj_officer)
    assert _post(client, url, {"approve": True, "valid_until": "2027-01-01"}).status_code == 404
    assert client.get(f"{BASE}/manage/applications").json()["items"] == []
    _login(client, ow.tj_officer)
    assert client.get(f"{BASE}/manage/applications").json()["items"][0]["number"] == app.number
    missing = _post(client, url, {"approve": True})
    assert missing.status_code == 422 and "valid_until" in {e["field"] for e in missing.json()["errors"]}
    ok = _post(client, url, {"approve": True, "valid_until": "2027-01-01"})
    assert ok.status_code == 200 and ok.json()["status"] == "approved"


def test_negative_list_and_apps_are_the_centres(client, ow):
    _login(client, ow.tj_officer)
    assert client.get(f"{BASE}/manage/negative").status_code == 403
    _login(client, ow.centre)
    added = _post(
        client, f"{BASE}/manage/negative", {"resource_code": ow.open_resource.code, "basis": "涉密"}
    )
    assert (
        added.status_code == 201
        and client.get(f"{BASE}/manage/negative").json()[0]["resource_code"] == ow.open_resource.code
    )
    _login(client, ow.citizen)
    submitted = _post(
        client, f"{BASE}/apps", {"name": "人口地图", "description": "人口分布", "developer": "个人开发者"}
    )
    assert submitted.status_code == 201
    assert client.get(f"{BASE}/apps").json() == []
    app_id = submitted.json()["id"]
    assert _post(client, f"{BASE}/manage/apps/{app_id}/review", {"show": True}).status_code == 403
    _login(client, ow.centre)
    assert _post(client, f"{BASE}/manage/apps/{app_id}/review", {"show": True}).json()["status"] == "shown"
    client.logout()
    assert [a["name"] for a in client.get(f"{BASE}/apps").json()] == ["人口地图"]


def test_a_bearer_token_reads_as_its_account_and_nothing_more(client, ow):
    from yiwang.core.services.identity import api_token_issue_for_account

    cond_ds = ow.published(title="企业经营统计", tier="conditional")
    token = api_token_issue_for_account(account=ow.citizen).token
    signed_in = client.get(f"{BASE}/datasets/{cond_ds.name}", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert signed_in.status_code == 200 and signed_in.json()["data_allowed"] is False
    listed = client.get(f"{BASE}/datasets", {"tier": "conditional"}, HTTP_AUTHORIZATION=f"Bearer {token}")
    assert [d["name"] for d in listed.json()["items"]] == [cond_ds.name]
    # a refused token, or none, reads as the anonymous: the conditional dataset is not there
    for headers in ({"HTTP_AUTHORIZATION": "Bearer not-a-token"}, {}):
        assert client.get(f"{BASE}/datasets/{cond_ds.name}", **headers).status_code == 404
