# ruff: noqa: F811  (the shared world fixture is imported, then named as a test argument)
"""API /api/datahub/objections: filing by a department and a window clerk, the queue (scoped, filtered, keyset,
bounded queries), the 数源部门's steps with 409 on stale versions, pushes and their acknowledgement, receipts,
我的纠错 for citizens and enterprises; forbidden for other departments, citizens and anonymous callers; field
errors in Chinese and in English."""

from __future__ import annotations

import json

import pytest

from tests.datahub.world_objections import ow  # noqa: F401  (fixture)
from yiwang.core.evidence.sequencer import sequencer_run_once, tree_head_sign
from yiwang.datahub.models.objections import CorrectionPush, Objection
from yiwang.datahub.services import objections as svc

pytestmark = pytest.mark.django_db
BASE = "/api/datahub/objections"


def _login(client, who):
    client.force_login(getattr(who, "account", who))
    return client


def _post(client, url, body, **extra):
    return client.post(url, data=json.dumps(body), content_type="application/json", **extra)


def _problem(response, status):
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/problem+json")
    return response.json()


def _body(ow, **kw) -> dict:
    base = {
        "channel": "department",
        "resource_id": str(ow.person_resource.public_id),
        "field_name": "address",
        "record_key": ow.citizen.person.id_number,
        "proposed_value": "示范社区2号",
        "reason": "实地核查地址不符",
    }
    base.update(kw)
    return base


def _filed(ow) -> Objection:
    return svc.objection_file(
        principal=ow.mzj,
        **{k: v for k, v in _body(ow).items() if k != "resource_id"},
        resource=ow.person_resource,
    )


def test_file_verify_correct_and_acknowledge(client, ow):
    response = _post(_login(client, ow.mzj_officer), BASE, _body(ow))
    assert response.status_code == 201, response.content
    data = response.json()
    assert data["number"].startswith("JC20260302") and data["status"] == "submitted"
    assert data["current_value"] == "示范社区1号" and data["actions"] == ["withdraw"]
    assert data["light"] == "green" and not data["overdue"]
    oid = data["id"]
    client.logout()
    _login(client, ow.pcs_officer)
    detail = client.get(f"{BASE}/{oid}").json()
    assert detail["actions"] == ["start", "correct", "reject"]
    started = _post(client, f"{BASE}/{oid}/start", {"expected_version": 1}).json()
    assert started["status"] == "verifying" and started["row_version"] == 2
    _problem(_post(client, f"{BASE}/{oid}/start", {"expected_version": 2}), 409)  # not submitted any more
    _problem(
        _post(
            client,
            f"{BASE}/{oid}/correct",
            {"expected_version": 1, "corrected_value": "x", "correction_basis": "y"},
        ),
        409,
    )
    done = _post(
        client,
        f"{BASE}/{oid}/correct",
        {"expected_version": 2, "corrected_value": "示范社区2号", "correction_basis": "户籍档案"},
    ).json()
    assert done["status"] == "corrected" and done["corrected_value"] == "示范社区2号"
    assert {(p["consumer"]["code"], p["channel"]) for p in done["pushes"]} == {
        ("MZJ", "gateway_notice"),
        ("JD-ZZ", "returnflow"),
    }
    client.logout()
    _login(client, ow.mzj_officer)
    pushes = client.get(f"{BASE}/pushes").json()["items"]
    assert len(pushes) == 1 and pushes[0]["status"] == "sent"
    n = pushes[0]["n"]
    acked = _post(client, f"{BASE}/{oid}/pushes/{n}/acknowledge", {})
    assert acked.status_code == 200 and acked.json()["status"] == "acknowledged"
    _problem(_post(client, f"{BASE}/{oid}/pushes/{n}/acknowledge", {}), 409)
    _problem(_post(client, f"{BASE}/{oid}/pushes/99/acknowledge", {}), 404)
    client.logout()
    _login(client, ow.town_officer)  # the 回流 consumer sees the objection through its push
    assert client.get(f"{BASE}/{oid}").status_code == 200
    other = [p for p in done["pushes"] if p["channel"] == "returnflow"][0]["n"]
    _problem(_post(client, f"{BASE}/{oid}/pushes/{n if n != other else other}/acknowledge", {}), 403)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"field_name": "nope"}, "field_name"),
        ({"record_key": ""}, "record_key"),
        ({"reason": ""}, "reason"),
        ({"channel": "fax"}, "channel"),
        ({"resource_id": "00000000-0000-0000-0000-000000000000"}, "resource"),
        ({"resource_id": "xyz"}, "resource_id"),
        ({"reason": "理" * 2001}, "reason"),
    ],
)
def test_invalid_filing_is_422_and_nothing_written(client, ow, changes, field):
    _login(client, ow.mzj_officer)
    body = _problem(_post(client, BASE, _body(ow, **changes)), 422)
    assert field in {e["field"] for e in body["errors"]}
    assert not Objection.objects.exists()


def test_field_errors_in_english(client, ow):
    _login(client, ow.mzj_officer)
    body = _problem(_post(client, BASE, _body(ow, reason=""), HTTP_ACCEPT_LANGUAGE="en"), 422)
    messages = [e["message"] for e in body["errors"] if e["field"] == "reason"]
    assert messages and all(m.isascii() for m in messages), messages


def test_forbidden_paths(client, ow):
    objection = _filed(ow)
    oid = objection.public_id
    # anonymous
    _problem(client.get(BASE), 401)
    _problem(_post(client, BASE, _body(ow)), 401)
    # a citizen: no staff operations
    _login(client, ow.citizen)
    _problem(client.get(BASE), 403)
    _problem(_post(client, BASE, _body(ow)), 403)
    _problem(_post(client, f"{BASE}/{oid}/correct", {"corrected_value": "x", "correction_basis": "y"}), 403)
    client.logout()
    # another department: sees nothing, cannot answer for the source
    _login(client, ow.scj_officer)
    assert client.get(BASE).json()["items"] == []
    _problem(client.get(f"{BASE}/{oid}"), 404)
    _problem(_post(client, f"{BASE}/{oid}/reject", {"resolution": "无"}), 404)
    _problem(_post(client, BASE, _body(ow)), 403)  # no live grant
    client.logout()
    # the objecting department sees it but cannot answer it
    _login(client, ow.mzj_officer)
    _problem(_post(client, f"{BASE}/{oid}/reject", {"resolution": "无"}), 403)
    objection.refresh_from_db()
    assert objection.status == "submitted" and objection.row_version == 1


def test_window_clerk_files_and_sees_only_their_own(client, ow):
    _filed(ow)
    _login(client, ow.clerk)
    response = _post(client, BASE, _body(ow, channel="window"))
    assert response.status_code == 201, response.content
    items = client.get(BASE).json()["items"]
    assert [i["origin"] for i in items] == ["window"]


def test_queue_filters_keyset_and_query_count(client, ow, clock, django_assert_max_num_queries):
    for _ in range(5):
        _filed(ow)
    clock.set(2026, 3, 20, 10)
    svc.objection_open(principal=None, origin="quality", source_department=ow.d_pcs, reason="新检查失败")
    _login(client, ow.pcs_officer)
    with django_assert_max_num_queries(10):
        page = client.get(f"{BASE}?tab=source&limit=2").json()
    assert len(page["items"]) == 2 and page["next_cursor"]
    seen = [i["id"] for i in page["items"]]
    while page["next_cursor"]:
        page = client.get(f"{BASE}?tab=source&limit=2&cursor={page['next_cursor']}").json()
        seen += [i["id"] for i in page["items"]]
    assert len(seen) == len(set(seen)) == 6
    overdue = client.get(f"{BASE}?overdue=true").json()["items"]
    assert len(overdue) == 5 and all(i["overdue"] and i["light"] == "red" for i in overdue)
    assert [i["origin"] for i in client.get(f"{BASE}?origin=quality").json()["items"]] == ["quality"]
    assert client.get(f"{BASE}?status=corrected").json()["items"] == []
    body = _problem(client.get(f"{BASE}?status=bogus&origin=x&tab=y"), 422)
    assert {e["field"] for e in body["errors"]} == {"status", "origin", "tab"}


def test_receipts_for_each_step(client, ow):
    objection = _filed(ow)
    svc.objection_reject(principal=ow.pcs, objection=objection, resolution="一致")
    _login(client, ow.mzj_officer)
    rows = client.get(f"{BASE}/{objection.public_id}/receipts").json()
    assert [r["action"] for r in rows] == ["objection.open", "objection.reject"]
    assert not rows[0]["ready"]
    _problem(client.get(rows[0]["download_url"]), 409)
    sequencer_run_once()
    tree_head_sign()
    rows = client.get(f"{BASE}/{objection.public_id}/receipts").json()
    assert all(r["ready"] for r in rows)
    response = client.get(rows[1]["download_url"])
    assert response.status_code == 200 and "attachment" in response["Content-Disposition"]
    _problem(client.get(f"{BASE}/{objection.public_id}/receipts/00000000-0000-0000-0000-000000000000"), 404)


def test_mine_for_citizens_and_enterprises(client, ow):
    _login(client, ow.citizen)
    fields = {f["name"] for f in client.get(f"{BASE}/mine/fields").json()}
    assert {"name", "address", "phone"} <= fields and "id_number" not in fields
    response = _post(
        client, f"{BASE}/mine", {"field_name": "address", "proposed_value": "新址", "reason": "搬家"}
    )
    assert response.status_code == 201, response.content
    data = response.json()
    assert data["origin"] == "person" and data["current_value"] == "示范社区1号" and data["record_key"] == ""
    assert data["actions"] == ["withdraw"] and data["pushes"] == []
    body = _problem(
        _post(
            client,
            f"{BASE}/mine",
            {
                "field_name": "address",
                "proposed_value": "x",
                "reason": "y",
                "record_key": ow.other_citizen.person.id_number,
            },
        ),
        403,
    )
    assert body["status"] == 403
    assert [i["id"] for i in client.get(f"{BASE}/mine").json()["items"]] == [data["id"]]
    assert client.get(f"{BASE}/mine/{data['id']}/receipts").status_code == 200
    withdrawn = _post(client, f"{BASE}/mine/{data['id']}/withdraw", {"expected_version": 1}).json()
    assert withdrawn["status"] == "withdrawn"
    _problem(_post(client, f"{BASE}/mine/{data['id']}/withdraw", {}), 409)
    client.logout()
    _login(client, ow.other_citizen)
    _problem(client.get(f"{BASE}/mine/{data['id']}"), 404)
    assert client.get(f"{BASE}/mine").json()["items"] == []
    client.logout()
    _login(client, ow.enterprise)
    response = _post(
        client, f"{BASE}/mine", {"field_name": "business_scope", "proposed_value": "餐饮", "reason": "已变更"}
    )
    assert response.status_code == 201 and response.json()["origin"] == "organisation"
    assert CorrectionPush.objects.count() == 0
