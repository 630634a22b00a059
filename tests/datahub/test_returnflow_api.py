# ruff: noqa: F811  (the shared world fixtures are imported, then named as test arguments)
"""API /api/datahub/return: designated resources, rows and figures for grass-roots staff; harvesters, runs and
立即采集 for the big-data centre. Forbidden and invalid paths answer problem+json and write nothing."""

from __future__ import annotations

import uuid

import pytest

from tests.datahub.world_returnflow import (  # noqa: F401  (fixtures)
    GRID_A1,
    TOWN_A,
    harvest_dir,
    harvested,
    rworld,
)
from yiwang.core.models import AuditEntry
from yiwang.datahub.models import Harvester, HarvestRun

pytestmark = pytest.mark.django_db

BASE = "/api/datahub/return"


def _problem(response, status):
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/problem+json")
    return response.json()


def test_resources_and_rows_for_a_grid_worker(client, harvested, django_assert_max_num_queries):
    client.force_login(harvested.grid_worker.account)
    with django_assert_max_num_queries(12):
        home = client.get(f"{BASE}/resources")
    assert home.status_code == 200
    data = home.json()
    assert data["area"] == {
        "code": GRID_A1,
        "name": "甲社区第一网格",
        "level": 4,
        "figures_code": "440199001001",
    }
    assert [(i["code"], i["count"], i["figures"]) for i in data["items"]] == [
        (harvested.resource.code, 5, False)
    ]
    assert data["items"][0]["provider"] == harvested.district_dept.name
    url = f"{BASE}/resources/{harvested.resource.public_id}/rows"
    with django_assert_max_num_queries(14):
        rows = client.get(url, {"limit": 2})
    assert rows.status_code == 200
    page = rows.json()
    assert [c["name"] for c in page["columns"]] == [
        "id_number",
        "name",
        "division_code",
        "address",
        "family_size",
    ]
    assert page["columns"][0]["mask"] == "MASK_SHOW_LAST_4"
    assert len(page["rows"]) == 2 and page["page"] == 1 and page["next_cursor"]
    assert harvested.rows[0]["id_number"] not in rows.content.decode()
    assert page["rows"][0]["id_number"].endswith(harvested.rows[0]["id_number"][-4:])
    rest = client.get(url, {"cursor": page["next_cursor"], "limit": 50}).json()
    assert len(rest["rows"]) == 3 and rest["page"] == 2 and rest["next_cursor"] is None
    assert AuditEntry.objects.filter(action="datahub.return.view").count() == 2


def test_rows_forbidden_and_invalid_paths(client, harvested):
    url = f"{BASE}/resources/{harvested.resource.public_id}/rows"
    _problem(client.get(url), 401)
    client.force_login(harvested.citizen)
    _problem(client.get(url), 403)
    _problem(client.get(f"{BASE}/resources"), 403)
    client.force_login(harvested.steward.account)  # a data officer files share requests
    _problem(client.get(url), 403)
    client.force_login(harvested.district_dispatcher.account)
    assert client.get(f"{BASE}/resources").json() == {"area": None, "items": []}
    _problem(client.get(url), 404)
    client.force_login(harvested.town_clerk.account)
    _problem(client.get(f"{BASE}/resources/{uuid.uuid4()}/rows"), 404)
    _problem(client.get(f"{BASE}/resources/not-a-uuid/rows"), 422)
    bad = _problem(client.get(url, {"cursor": "AAAA"}), 422)
    assert bad["errors"][0]["field"] == "cursor"
    _problem(client.get(url, {"limit": 0}), 422)
    _problem(client.get(f"{BASE}/resources/{harvested.resource.public_id}/figures"), 422)
    assert AuditEntry.objects.filter(action="datahub.return.view").count() == 0


def test_harvesters_for_the_centre(client, harvested, django_assert_max_num_queries):
    client.force_login(harvested.centre.account)
    with django_assert_max_num_queries(10):
        listing = client.get(f"{BASE}/harvesters")
    assert listing.status_code == 200
    item = listing.json()["items"][0]
    assert item["id"] == str(harvested.harvester.public_id)
    assert item["current_run"]["rows_written"] == 12
    assert item["last_run"]["status"] == "succeeded"
    assert item["options"]["directory"] == "dibao"
    runs = client.get(f"{BASE}/harvesters/{harvested.harvester.public_id}/runs").json()
    assert [r["status"] for r in runs["items"]] == ["succeeded"]
    assert runs["items"][0]["provenance"]["source"] == "upload.csv"


def test_harvester_token_is_hidden(client, rworld):
    Harvester.objects.filter(pk=rworld.harvester.pk).update(
        plugin="http_pull", options={"url": "http://127.0.0.1:9/x", "token": "top-secret"}
    )
    client.force_login(rworld.centre.account)
    body = client.get(f"{BASE}/harvesters").content.decode()
    assert "top-secret" not in body and "******" in body


def test_run_now_queues_a_harvest(client, rworld, django_capture_on_commit_callbacks):
    rworld.drop_rows(rworld.rows)
    client.force_login(rworld.centre.account)
    url = f"{BASE}/harvesters/{rworld.harvester.public_id}/run"
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url)
    assert response.status_code == 202 and response.json()["queued"] is True
    run = HarvestRun.objects.get(harvester=rworld.harvester)
    assert run.status == "succeeded" and run.rows_written == 12
    assert AuditEntry.objects.filter(action="datahub.harvest.request").exists()


def test_centre_api_forbidden_and_invalid(client, rworld):
    url = f"{BASE}/harvesters/{rworld.harvester.public_id}/run"
    _problem(client.post(url), 401)
    for who in (rworld.steward.account, rworld.grid_worker.account, rworld.citizen):
        client.force_login(who)
        _problem(client.get(f"{BASE}/harvesters"), 403)
        _problem(client.post(url), 403)
        _problem(client.get(f"{BASE}/harvesters/{rworld.harvester.public_id}/runs"), 403)
    client.force_login(rworld.centre.account)
    _problem(client.post(f"{BASE}/harvesters/{uuid.uuid4()}/run"), 404)
    _problem(client.get(f"{BASE}/harvesters", {"cursor": "!!"}), 422)
    Harvester.objects.filter(pk=rworld.harvester.pk).update(is_active=False)
    _problem(client.post(url), 422)
    assert not HarvestRun.objects.exists()
    assert not AuditEntry.objects.filter(action="datahub.harvest.request").exists()


def test_centre_pages(client, harvested, django_assert_max_num_queries):
    client.force_login(harvested.centre.account)
    with django_assert_max_num_queries(14):
        listing = client.get("/data/harvesters/")
    assert listing.status_code == 200 and harvested.harvester.name in listing.content.decode()
    detail = client.get(f"/data/harvesters/{harvested.harvester.public_id}/")
    assert detail.status_code == 200
    body = detail.content.decode()
    assert "upload.csv" in body and "data-run-now" in body
    harvested.drop("bad.json", b"[", mtime=9999999999)
    response = client.post(f"/data/harvesters/{harvested.harvester.public_id}/run")
    assert response.status_code == 302
    client.force_login(harvested.grid_worker.account)
    assert client.get("/data/harvesters/").status_code == 403
    assert client.post(f"/data/harvesters/{harvested.harvester.public_id}/run").status_code == 403


# --- through the gateway (回流's implicit grant, no share request) ----------------------------------------------
def test_a_town_system_reads_its_area_through_the_gateway(client, harvested):
    from tests.datahub.factories import RegisteredSystemFactory
    from tests.datahub.world_gateway import system_token
    from yiwang.datahub.gateway import IMPLICIT_SCENARIO
    from yiwang.datahub.models import GatewayCall

    town = RegisteredSystemFactory(department=harvested.town_a_office, name="甲街道网格化管理系统")
    district = RegisteredSystemFactory(department=harvested.district_dept, name="区民政业务系统")
    url = f"/api/gateway/v1/resources/{harvested.resource.code}/query"

    def query(system, key):
        return client.post(
            url,
            {"key": key, "purpose": IMPLICIT_SCENARIO},
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {system_token(system)}",
        )

    inside, outside = harvested.rows[0], harvested.rows[10]  # grid A1 (town A), village B (town B)
    ok = query(town, inside["id_number"])
    assert ok.status_code == 200, ok.content
    record = ok.json()["record"]
    assert record["name"] == inside["name"]
    assert record["id_number"] != inside["id_number"] and record["id_number"].endswith(
        inside["id_number"][-4:]
    )
    assert "income_note" not in record  # 不予共享 never flows down
    assert query(town, outside["id_number"]).status_code == 404  # outside the area: as if missing
    assert query(district, inside["id_number"]).status_code == 403  # district level files share requests
    outcomes = list(GatewayCall.objects.filter(resource=harvested.resource).values_list("outcome", flat=True))
    assert sorted(outcomes) == sorted(["ok", "not_found", "denied"])
