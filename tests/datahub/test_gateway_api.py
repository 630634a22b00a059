# ruff: noqa: F811  (the shared world fixtures are imported, then named as test arguments)
"""数据共享网关 API (/api/gateway/v1): forbidden paths first, then the four operations, the call log and the hash."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.datahub.factories import RegisteredSystemFactory, ShareGrantFactory, ShareRequestFactory
from tests.datahub.world_gateway import SCENARIO, TOWN, call, gworld, system_token  # noqa: F401
from tests.factories import staff_with_roles
from yiwang.core.models import AuditEntry
from yiwang.datahub.gateway import gateway_hash
from yiwang.datahub.models import GatewayCall, ShareGrant

pytestmark = pytest.mark.django_db

PROBLEM = "application/problem+json"


def _body(world, **extra):
    return {"key": world.person.id_number, "purpose": SCENARIO, **extra}


def _assert_refused(response, status: int, outcome: str | None, world=None):
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith(PROBLEM)
    data = response.json()
    assert "record" not in data and "results" not in data and "items" not in data
    if outcome is not None:
        row = GatewayCall.objects.get(request_id=data["request_id"])
        assert row.outcome == outcome
        assert response["X-Request-ID"] == data["request_id"]
    return data


# --- forbidden paths ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("state", ["revoked", "suspended", "expired"])
def test_dead_grant_refuses_and_logs(gworld, call, state):
    if state == "expired":
        ShareGrant.objects.filter(pk=gworld.grant.pk).update(
            valid_until=timezone.now() - timedelta(seconds=1)
        )
    else:
        ShareGrant.objects.filter(pk=gworld.grant.pk).update(status=state)
    response = call("query", _body(gworld))
    _assert_refused(response, 403, GatewayCall.Outcome.DENIED)


def test_grant_not_yet_valid_and_unpublished_resource_refuse(gworld, call):
    ShareGrant.objects.filter(pk=gworld.grant.pk).update(valid_from=timezone.now() + timedelta(hours=1))
    _assert_refused(call("query", _body(gworld)), 403, GatewayCall.Outcome.DENIED)
    ShareGrant.objects.filter(pk=gworld.grant.pk).update(valid_from=timezone.now() - timedelta(hours=1))
    gworld.resource.status = "retired"
    gworld.resource.save(update_fields=["status"])
    _assert_refused(call("query", _body(gworld)), 404, GatewayCall.Outcome.DENIED)


def test_unknown_resource_is_404(gworld, call):
    _assert_refused(call("query", _body(gworld), code="NO-SUCH-CODE"), 404, GatewayCall.Outcome.DENIED)


def test_fields_outside_the_grant_are_refused_by_name(gworld, call):
    response = call("query", _body(gworld, fields=["name", "is_deceased"]))
    data = _assert_refused(response, 403, GatewayCall.Outcome.DENIED)
    assert data["fields"] == ["is_deceased"]
    assert "is_deceased" in data["detail"]


def test_row_outside_the_filter_answers_like_a_missing_one(gworld, call):
    outside = call("query", {"key": gworld.outsider.id_number, "purpose": SCENARIO})
    missing = call("query", {"key": "440199199001011234", "purpose": SCENARIO})
    a = _assert_refused(outside, 404, GatewayCall.Outcome.NOT_FOUND)
    b = _assert_refused(missing, 404, GatewayCall.Outcome.NOT_FOUND)
    assert (a["title"], a["detail"]) == (b["title"], b["detail"])
    assert GatewayCall.objects.get(request_id=a["request_id"]).subject_person_id is None
    verify = call(
        "verify", {"key": gworld.outsider.id_number, "claims": {"name": "李四"}, "purpose": SCENARIO}
    )
    _assert_refused(verify, 404, GatewayCall.Outcome.NOT_FOUND)


def test_another_systems_credentials_cannot_use_the_grant(gworld, call):
    response = call("query", _body(gworld), token=gworld.other_token)
    data = _assert_refused(response, 403, GatewayCall.Outcome.DENIED)
    row = GatewayCall.objects.get(request_id=data["request_id"])
    assert row.system_id == gworld.other_system.pk and row.grant_id is None


def test_system_without_the_gateway_scope_is_refused(gworld, call):
    system = RegisteredSystemFactory(department=gworld.mzj, scopes=["division.view"])
    ShareGrantFactory(
        request=ShareRequestFactory(
            resource=gworld.resource, requester=gworld.mzj, system=system, fields=["name"], state="active"
        )
    )
    before = GatewayCall.objects.count()
    response = call("query", _body(gworld), token=system_token(system))
    _assert_refused(response, 403, None)
    assert GatewayCall.objects.count() == before


def test_a_staff_token_is_refused(gworld, call):
    from yiwang.core.services.identity import api_token_issue_for_account

    staff = staff_with_roles("data_centre", department=gworld.mzj)
    token = api_token_issue_for_account(account=staff.account).token
    _assert_refused(call("query", _body(gworld), token=token), 403, None)
    assert not GatewayCall.objects.exists()


def test_anonymous_is_401(gworld, client):
    response = client.post(
        f"/api/gateway/v1/resources/{gworld.resource.code}/query",
        _body(gworld),
        content_type="application/json",
    )
    assert response.status_code == 401 and response["Content-Type"].startswith(PROBLEM)
    assert not GatewayCall.objects.exists()


def test_no_purpose_is_400_and_logged(gworld, call):
    data = _assert_refused(call("query", {"key": gworld.person.id_number}), 400, GatewayCall.Outcome.INVALID)
    assert GatewayCall.objects.get(request_id=data["request_id"]).subject_person_id is None


def test_unknown_purpose_is_422(gworld, call):
    _assert_refused(call("query", _body(gworld, purpose="随便看看")), 422, GatewayCall.Outcome.INVALID)
    # a case number of another department is no purpose for this system
    from tests.factories import DepartmentFactory  # noqa: F401

    _assert_refused(call("query", _body(gworld, purpose="GD2026120600001")), 422, GatewayCall.Outcome.INVALID)


def test_purpose_header_percent_encoded(gworld, call):
    from urllib.parse import quote

    response = call("query", {"key": gworld.person.id_number}, HTTP_X_PURPOSE=quote(SCENARIO))
    assert response.status_code == 200
    assert GatewayCall.objects.get(request_id=response.json()["request_id"]).purpose == SCENARIO


def test_rate_limit_exceeded_is_429_nothing_returned_and_logged(gworld, call):
    ShareGrant.objects.filter(pk=gworld.grant.pk).update(rate_per_minute=3)
    for _ in range(3):
        assert call("query", _body(gworld)).status_code == 200
    response = call("query", _body(gworld))
    data = _assert_refused(response, 429, GatewayCall.Outcome.RATE_LIMITED)
    assert int(response["Retry-After"]) >= 1 and data["retry_after"] >= 1
    assert GatewayCall.objects.get(request_id=data["request_id"]).subject_person_id is None


def test_bad_input_is_422_and_nothing_is_written(gworld, call):
    response = call("verify", {"key": gworld.person.id_number, "purpose": SCENARIO, "claims": "x"})
    assert response.status_code == 422 and response["Content-Type"].startswith(PROBLEM)
    assert not GatewayCall.objects.exists()


def test_batch_limit_beyond_export_limit_is_refused(gworld, client):
    url = f"/api/gateway/v1/resources/{gworld.resource.code}/records?limit=5000&purpose={SCENARIO}"
    response = client.get(url, **gworld.headers())
    data = _assert_refused(response, 422, GatewayCall.Outcome.INVALID)
    assert data["export_limit"] == 2000  # 重要数据


def test_key_in_a_url_is_refused_for_persons(gworld, client):
    url = f"/api/gateway/v1/resources/{gworld.resource.code}/records/{gworld.person.id_number}?purpose={SCENARIO}"
    _assert_refused(client.get(url, **gworld.headers()), 400, GatewayCall.Outcome.INVALID)


def test_english_problem(gworld, call):
    response = call("query", {"key": gworld.person.id_number}, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400
    assert response.json()["title"] == "Purpose missing"


# --- the operations -------------------------------------------------------------------------------------------------
def test_query_returns_masked_granted_fields_and_logs_without_values(gworld, call):
    response = call("query", _body(gworld))
    assert response.status_code == 200
    data = response.json()
    record = data["record"]
    assert record["name"] == "张三丰"
    assert record["id_number"] == "n" * 14 + gworld.person.id_number[-4:]
    assert record["birth_date"] == f"{gworld.person.birth_date.year}-01-01"
    assert record["address"] is None
    assert len(record["phone"]) == 64 and "13812345678" not in response.content.decode()
    assert response["X-Request-ID"] == data["request_id"]
    row = GatewayCall.objects.get(request_id=data["request_id"])
    assert row.outcome == "ok" and row.grant_id == gworld.grant.pk and row.system_id == gworld.system.pk
    assert row.subject_person_id == gworld.person.pk and row.purpose == SCENARIO
    assert row.response_hash == data["response_hash"]
    assert set(row.fields) == set(record)
    # the log holds no value
    logged = str({f.name: getattr(row, f.attname) for f in GatewayCall._meta.concrete_fields})
    for value in ("张三丰", gworld.person.id_number, "13812345678", "幸福路"):
        assert value not in logged
    entry = AuditEntry.objects.get(uuid=row.audit_uuid)
    assert entry.action == "gateway.query" and entry.object_id == str(gworld.grant.public_id)
    assert entry.purpose == SCENARIO
    assert entry.request_id == data["request_id"]
    for value in ("张三丰", gworld.person.id_number, "13812345678"):
        assert value not in entry.canonical


def test_response_hash_is_recomputable(gworld, call):
    data = call("query", _body(gworld, fields=["name", "gender"])).json()
    request = {
        "operation": "query",
        "resource": gworld.resource.code,
        "purpose": SCENARIO,
        "key": gworld.person.id_number,
        "fields": ["name", "gender"],
        "consent_id": None,
    }
    assert gateway_hash(request, data) == data["response_hash"]
    tampered = {**data, "record": {**data["record"], "name": "王五"}}
    assert gateway_hash(request, tampered) != data["response_hash"]


def test_verify_answers_yes_no_without_data(gworld, call):
    body = {
        "key": gworld.person.id_number,
        "purpose": SCENARIO,
        "claims": {"division_code": "440199001001", "name": "张三丰"},
    }
    data = call("verify", body).json()
    assert data["results"] == {"division_code": True, "name": True}
    assert "record" not in data
    data = call("verify", {**body, "claims": {"division_code": "440199002"}}).json()
    assert data["results"] == {"division_code": False}
    row = GatewayCall.objects.get(request_id=data["request_id"])
    assert row.operation == "verify" and row.fields == ["division_code"]


def test_verify_refuses_a_field_the_grant_nulls(gworld, call):
    body = {"key": gworld.person.id_number, "purpose": SCENARIO, "claims": {"address": "第一街道幸福路 1 号"}}
    _assert_refused(call("verify", body), 403, GatewayCall.Outcome.DENIED)


def test_compare_match_and_mismatch(gworld, call):
    body = {
        "key": gworld.person.id_number,
        "purpose": SCENARIO,
        "values": {"name": " 张三丰 ", "birth_date": "1999-01-01"},
    }
    data = call("compare", body).json()
    assert data["results"] == {"name": "match", "birth_date": "mismatch"}


def test_batch_pages_only_rows_inside_the_filter(gworld, client):
    from tests.factories import PersonFactory

    for i in range(4):
        PersonFactory(name=f"居民{i}", division=gworld.person.division)
    url = f"/api/gateway/v1/resources/{gworld.resource.code}/records"
    seen, cursor = [], None
    while True:
        query = f"?limit=2&purpose={SCENARIO}" + (f"&after={cursor}" if cursor else "")
        response = client.get(url + query, **gworld.headers())
        assert response.status_code == 200, response.content
        data = response.json()
        seen += [item["name"] for item in data["items"]]
        assert gworld.person.id_number not in (cursor or "")
        cursor = data["next_cursor"]
        if not cursor:
            break
    assert len(seen) == 5 and "李四" not in seen
    first = GatewayCall.objects.filter(operation="batch").order_by("id").first()
    assert first.subject_count == 2 and first.subjects.count() == 1


def test_batch_bad_cursor_is_refused(gworld, client):
    url = (
        f"/api/gateway/v1/resources/{gworld.resource.code}/records?after=bm90LWEtY3Vyc29y&purpose={SCENARIO}"
    )
    _assert_refused(client.get(url, **gworld.headers()), 422, GatewayCall.Outcome.INVALID)


def test_grants_lists_live_grants_only(gworld, client):
    data = client.get("/api/gateway/v1/grants", **gworld.headers()).json()
    assert [g["number"] for g in data] == [gworld.grant.number]
    assert {f["name"]: f["mask"] for f in data[0]["fields"]}["id_number"] == "MASK_SHOW_LAST_4"
    assert data[0]["row_filter"] == {"division": TOWN}
    ShareGrant.objects.filter(pk=gworld.grant.pk).update(status="suspended")
    assert client.get("/api/gateway/v1/grants", **gworld.headers()).json() == []


def test_suspension_holds_from_the_next_call(gworld, call):
    assert call("query", _body(gworld)).status_code == 200
    ShareGrant.objects.filter(pk=gworld.grant.pk).update(status="suspended")
    assert call("query", _body(gworld)).status_code == 403


def test_openapi_documents_the_gateway(client):
    doc = client.get("/api/openapi.json").json()
    paths = [p for p in doc["paths"] if p.startswith("/api/gateway/v1/")]
    assert "/api/gateway/v1/resources/{code}/query" in paths
    op = doc["paths"]["/api/gateway/v1/resources/{code}/query"]["post"]
    assert {"200", "403", "404", "429"} <= set(op["responses"])


def test_a_refused_purpose_carrying_an_identifier_is_logged_starred(gworld, call):
    data = _assert_refused(
        call("query", _body(gworld, purpose=f"查 {gworld.outsider.id_number}")),
        422,
        GatewayCall.Outcome.INVALID,
    )
    row = GatewayCall.objects.get(request_id=data["request_id"])
    assert gworld.outsider.id_number not in row.purpose and row.purpose.startswith("查 ****")
    assert gworld.outsider.id_number not in AuditEntry.objects.get(uuid=row.audit_uuid).canonical
