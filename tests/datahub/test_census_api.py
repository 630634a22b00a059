"""API /api/datahub/census: rounds, returns with their three lists, lines, submit and review, completeness, 供需对接;
problem+json on bad input (Chinese field messages, English with Accept-Language: en) with nothing written; 404 for
another unit's return; 403 for clerks, citizens and data officers on the centre's operations; 401 anonymous;
bounded queries on the lists."""

from __future__ import annotations

import json

import pytest

from tests.datahub.world_census import SYSTEM, build_census_world, data_values, need_values, open_round
from yiwang.core.models import AuditEntry
from yiwang.datahub.models import CensusReturn, CensusRound, CensusSystem, DataResource, ShareRequest
from yiwang.datahub.services.census import (
    census_return_review,
    census_return_submit,
)
from yiwang.datahub.services.census_lines import (
    census_line_save,
)

pytestmark = pytest.mark.django_db
BASE = "/api/datahub/census"


@pytest.fixture
def w(db, clock, media_and_fast_passwords):
    return build_census_world()


def _login(client, staff_or_account):
    client.force_login(getattr(staff_or_account, "account", staff_or_account))
    return client


def _post(client, url, body, **extra):
    return client.post(url, data=json.dumps(body), content_type="application/json", **extra)


def _problem(response, status):
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/problem+json")
    return response.json()


def _ret(round_, department) -> CensusReturn:
    return CensusReturn.objects.get(round=round_, unit=department)


def test_centre_creates_and_opens_a_round(client, w):
    _login(client, w.centre_officer)
    response = _post(
        client,
        f"{BASE}/rounds",
        {
            "code": "2026",
            "name": "2026 年度数据资源普查",
            "period_start": "2026-01-01",
            "period_end": "2026-12-31",
            "due_on": "2026-03-31",
            "instructions": "按实际填报",
        },
    )
    assert response.status_code == 201, response.content
    assert response.json()["status"] == "draft"
    response = _post(client, f"{BASE}/rounds/2026/open", {"enterprises": ["GSGS"]})
    assert response.status_code == 200 and response.json()["status"] == "open"
    _problem(_post(client, f"{BASE}/rounds/2026/open", {}), 409)
    listing = client.get(f"{BASE}/rounds/2026/returns").json()
    kinds = {r["unit"]["code"]: r["unit_kind"] for r in listing["items"]}
    assert kinds["GSGS"] == "enterprise" and kinds["SFJD"] == "town" and len(kinds) == 6
    response = _post(client, f"{BASE}/rounds/2026/units", {"department": "SCJDJK", "unit_kind": "department"})
    assert response.status_code == 201 and response.json()["unit"]["code"] == "SCJDJK"


@pytest.mark.parametrize(
    "changes, field",
    [
        ({"code": ""}, "code"),
        ({"code": "a b"}, "code"),
        ({"name": ""}, "name"),
        ({"period_end": "2025-01-01"}, "period_end"),
        ({"due_on": None}, "due_on"),
        ({"period_start": "not-a-date"}, "period_start"),
    ],
)
def test_invalid_round_is_422_and_nothing_written(client, w, changes, field):
    body = {
        "code": "2026",
        "name": "x",
        "period_start": "2026-01-01",
        "period_end": "2026-12-31",
        "due_on": "2026-03-31",
    }
    body.update(changes)
    problem = _problem(_post(_login(client, w.centre_officer), f"{BASE}/rounds", body), 422)
    assert field in {e["field"] for e in problem["errors"]}
    assert not CensusRound.objects.exists()


def test_field_messages_in_english(client, w):
    _login(client, w.centre_officer)
    body = {
        "code": "",
        "name": "x",
        "period_start": "2026-01-01",
        "period_end": "2026-12-31",
        "due_on": "2026-03-31",
    }
    problem = _problem(_post(client, f"{BASE}/rounds", body, HTTP_ACCEPT_LANGUAGE="en"), 422)
    message = next(e["message"] for e in problem["errors"] if e["field"] == "code")
    assert "round code" in message.lower()
    round_ = open_round(w)
    row = _ret(round_, w.d_gaj)
    client.logout()
    _login(client, w.gaj_officer)
    problem = _problem(
        _post(
            client,
            f"{BASE}/returns/{row.public_id}/lines/systems",
            dict(SYSTEM, vertical_owner=""),
            HTTP_ACCEPT_LANGUAGE="en",
        ),
        422,
    )
    message = next(e["message"] for e in problem["errors"] if e["field"] == "vertical_owner")
    assert "vertical" in message.lower()


def test_officer_fills_submits_centre_returns_and_accepts(client, w):
    round_ = open_round(w)
    row = _ret(round_, w.d_gaj)
    _login(client, w.gaj_officer)
    mine = client.get(f"{BASE}/returns").json()["items"]
    assert [r["unit"]["code"] for r in mine] == ["GAJ"]
    url = f"{BASE}/returns/{row.public_id}"
    response = _post(client, f"{url}/lines/systems", dict(SYSTEM))
    assert response.status_code == 201, response.content
    detail = response.json()
    assert (
        detail["status"] == "in_progress"
        and detail["systems"] == 1
        and detail["actions"] == ["edit", "submit"]
    )
    system_id = detail["systems_list"][0]["id"]
    response = _post(client, f"{url}/lines/data", data_values(system=system_id))
    assert response.status_code == 201, response.content
    item = response.json()["data_list"][0]
    assert item["system"] == system_id and item["fields"][0]["element"] == "DE00001"
    response = client.put(
        f"{url}/lines/systems/{system_id}",
        data=json.dumps(dict(SYSTEM, name="人口信息管理系统")),
        content_type="application/json",
    )
    assert response.status_code == 200 and response.json()["systems_list"][0]["name"] == "人口信息管理系统"
    response = _post(client, f"{url}/lines/needs", need_values(w, wanted_from="MZJ"))
    need_id = response.json()["needs_list"][0]["id"]
    response = client.delete(f"{url}/lines/needs/{need_id}")
    assert response.status_code == 200 and response.json()["needs"] == 0
    version = response.json()["version"]
    _problem(_post(client, f"{url}/submit", {"expected_version": version - 1}), 409)
    response = _post(client, f"{url}/submit", {"expected_version": version})
    assert response.status_code == 200 and response.json()["status"] == "submitted"
    assert response.json()["audit_uuid"] and response.json()["on_time"] is True
    _problem(_post(client, f"{url}/lines/systems", dict(SYSTEM)), 409)
    _problem(_post(client, f"{url}/review", {"decision": "accept"}), 403)
    client.logout()
    _login(client, w.centre_officer)
    problem = _problem(_post(client, f"{url}/review", {"decision": "return"}), 422)
    assert problem["errors"][0]["field"] == "note"
    response = _post(client, f"{url}/review", {"decision": "return", "note": "请补充数据量"})
    assert response.json()["status"] == "returned" and response.json()["review_note"] == "请补充数据量"
    client.logout()
    _login(client, w.gaj_officer)
    assert _post(client, f"{url}/submit", {}).json()["status"] == "submitted"
    client.logout()
    _login(client, w.centre_officer)
    detail = _post(client, f"{url}/review", {"decision": "accept"}).json()
    assert detail["status"] == "accepted" and detail["actions"] == ["match"]
    figures = client.get(f"{BASE}/rounds/2026/completeness").json()
    assert figures["total"]["units"] == 6 and figures["total"]["accepted"] == 1
    assert figures["total"]["accepted_pct"] == pytest.approx(16.7) and figures["total"]["on_time"] == 1
    department = next(k for k in figures["kinds"] if k["unit_kind"] == "department")
    assert department["units"] == 4 and department["systems"] == 1 and department["data"] == 1
    # 供需对接: the data item becomes a catalogue draft
    response = _post(client, f"{BASE}/data/{item['id']}/draft", {})
    assert response.status_code == 201, response.content
    assert response.json()["status"] == "draft" and response.json()["fields"] == 3
    _problem(_post(client, f"{BASE}/data/{item['id']}/draft", {}), 409)


@pytest.mark.parametrize(
    "kind, changes, field",
    [
        ("systems", {"name": ""}, "name"),
        ("systems", {"deployment": "cloud"}, "deployment"),
        ("systems", {"vertical_owner": ""}, "vertical_owner"),
        ("data", {"fields": [{"name": "x", "label": "x", "element": "DE00099"}]}, "fields.0.element"),
        ("data", {"share_type": ""}, "share_type"),
        ("data", {"system": "00000000-0000-0000-0000-000000000000"}, "system"),
        ("needs", {"wanted_from": "NOPE"}, "wanted_from"),
        ("needs", {"name": "需" * 201}, "name"),
    ],
)
def test_invalid_lines_are_422_and_nothing_written(client, w, kind, changes, field):
    round_ = open_round(w)
    row = _ret(round_, w.d_gaj)
    base = {"systems": dict(SYSTEM), "data": data_values(), "needs": need_values(w, wanted_from="MZJ")}[kind]
    base.update(changes)
    _login(client, w.gaj_officer)
    problem = _problem(_post(client, f"{BASE}/returns/{row.public_id}/lines/{kind}", base), 422)
    assert field in {e["field"] for e in problem["errors"]}
    row.refresh_from_db()
    assert row.row_version == 1 and row.status == "not_started"


def test_another_units_return_is_404_and_the_centres_operations_403(client, w):
    round_ = open_round(w)
    row = _ret(round_, w.d_gaj)
    _login(client, w.mzj_officer)
    _problem(client.get(f"{BASE}/returns/{row.public_id}"), 404)
    _problem(_post(client, f"{BASE}/returns/{row.public_id}/lines/systems", dict(SYSTEM)), 404)
    _problem(_post(client, f"{BASE}/returns/{row.public_id}/submit", {}), 404)
    _problem(client.get(f"{BASE}/rounds/2026/completeness"), 403)
    _problem(_post(client, f"{BASE}/rounds/2026/close", {}), 403)
    _problem(client.get(f"{BASE}/needs"), 403)
    assert [r["unit"]["code"] for r in client.get(f"{BASE}/rounds/2026/returns").json()["items"]] == ["MZJ"]
    _problem(client.get(f"{BASE}/returns/not-a-uuid"), 404)
    assert not CensusSystem.objects.exists()


@pytest.mark.parametrize("who", ["clerk", "citizen"])
def test_wrong_roles_are_403(client, w, who):
    round_ = open_round(w)
    row = _ret(round_, w.d_mzj)
    _login(client, w.mzj_clerk if who == "clerk" else w.citizen)
    _problem(client.get(f"{BASE}/rounds"), 403)
    _problem(client.get(f"{BASE}/returns/{row.public_id}"), 403)
    _problem(_post(client, f"{BASE}/returns/{row.public_id}/lines/systems", dict(SYSTEM)), 403)


def test_anonymous_is_401(client, w):
    _problem(client.get(f"{BASE}/rounds"), 401)
    _problem(_post(client, f"{BASE}/rounds", {}), 401)


def test_draft_rounds_are_hidden_from_data_officers(client, w):
    from yiwang.datahub.services.census import census_round_create

    census_round_create(
        actor=w.centre,
        code="2027",
        name="2027",
        period_start="2027-01-01",
        period_end="2027-12-31",
        due_on="2028-03-31",
    )
    _login(client, w.gaj_officer)
    assert client.get(f"{BASE}/rounds").json()["items"] == []
    _problem(client.get(f"{BASE}/rounds/2027"), 404)


def test_need_match_and_request_through_the_api(client, w):
    round_ = open_round(w)
    row = _ret(round_, w.d_mzj)
    census_line_save(actor=w.mzj, census_return=row, kind="needs", values=need_values(w))
    census_return_submit(actor=w.mzj, census_return=row)
    census_return_review(actor=w.centre, census_return=row, decision="accept")
    need = row.needs.get()
    _login(client, w.centre_officer)
    queue = client.get(f"{BASE}/needs", {"status": "open"}).json()["items"]
    assert [n["id"] for n in queue] == [str(need.public_id)] and queue[0]["unit"]["code"] == "MZJ"
    candidates = client.get(f"{BASE}/needs/{need.public_id}/candidates").json()
    assert w.resource.code in [c["code"] for c in candidates]
    _problem(_post(client, f"{BASE}/needs/{need.public_id}/match", {"resource": "NOPE"}), 422)
    response = _post(client, f"{BASE}/needs/{need.public_id}/match", {"resource": w.resource.code})
    assert response.json()["status"] == "matched" and response.json()["resource"] == w.resource.code
    problem = _problem(
        _post(client, f"{BASE}/needs/{need.public_id}/request", {"system_client_id": "ywsys-nope"}), 422
    )
    assert problem["errors"][0]["field"] == "system"
    response = _post(client, f"{BASE}/needs/{need.public_id}/request", {"frequency": "每日约 100 次"})
    assert response.status_code == 201, response.content
    number = response.json()["share_request"]
    request = ShareRequest.objects.get(number=number)
    assert request.requester == w.d_mzj and request.frequency == "每日约 100 次"
    _problem(_post(client, f"{BASE}/needs/{need.public_id}/unmatched", {"note": "x"}), 409)
    _problem(_post(client, f"{BASE}/needs/{need.public_id}/request", {}), 409)


def test_lists_are_bounded_in_queries(client, w, django_assert_max_num_queries):
    round_ = open_round(w)
    for department, actor in ((w.d_gaj, w.gaj), (w.d_mzj, w.mzj), (w.d_scj, w.scj)):
        row = _ret(round_, department)
        for i in range(3):
            census_line_save(
                actor=actor, census_return=row, kind="systems", values=dict(SYSTEM, name=f"系统{i}")
            )
            census_line_save(actor=actor, census_return=row, kind="data", values=data_values(name=f"数据{i}"))
        census_return_submit(actor=actor, census_return=row)
    _login(client, w.centre_officer)
    client.get(f"{BASE}/rounds/2026/returns")  # warm the session
    with django_assert_max_num_queries(8):
        items = client.get(f"{BASE}/rounds/2026/returns", {"limit": 2}).json()
    assert len(items["items"]) == 2 and items["next_cursor"]
    with django_assert_max_num_queries(8):
        rest = client.get(f"{BASE}/rounds/2026/returns", {"limit": 50, "cursor": items["next_cursor"]}).json()
    assert len(rest["items"]) == 4 and rest["items"][0]["systems"] in (0, 3)
    with django_assert_max_num_queries(10):
        figures = client.get(f"{BASE}/rounds/2026/completeness").json()
    assert figures["total"]["submitted"] == 3 and figures["total"]["systems"] == 9
    with django_assert_max_num_queries(10):
        client.get(f"{BASE}/returns/{_ret(round_, w.d_gaj).public_id}")
    assert AuditEntry.objects.filter(action="datahub.census.submit").count() == 3
    assert not DataResource.objects.filter(status="draft").exists()
