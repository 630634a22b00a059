"""API /api/credit/objections: 我的信用 (my file, my objections and repairs), filing an objection (multipart, evidence
checked), the department's queue and decision, repair application and review, receipts; problem+json 401/403/404/
422 — another subject's record, another department's objection and guessed ids are 404; invalid input writes
nothing; lists answer in a bounded number of queries."""

from __future__ import annotations

import json
import uuid

import pytest

from tests.credit.test_objections_services import big_upload, build_world, png_upload, text_upload
from yiwang.core.evidence.sequencer import sequencer_run_once, tree_head_sign
from yiwang.credit.models import CreditObjection, CreditRecord, CreditRepair

pytestmark = pytest.mark.django_db
BASE = "/api/credit/objections"


@pytest.fixture(autouse=True)
def _media(media_and_fast_passwords):
    return None


@pytest.fixture
def w(db, clock):
    return build_world()


def _login(client, who):
    client.force_login(getattr(who, "account", who))
    return client


def _post(client, url, body):
    return client.post(url, data=json.dumps(body), content_type="application/json")


def _problem(response, status):
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/problem+json")
    return response.json()


def _file(client, w, record=None, headers=None, **data):
    return client.post(
        BASE,
        {"record": str((record or w.penalty).public_id), "reason": "处罚已撤销", **data},
        headers=headers,
    )


def test_objection_flow(client, w):
    _login(client, w.company)
    mine = client.get(f"{BASE}/mine/file").json()
    assert mine["has_file"] and mine["grade"] == "D"
    by_id = {r["id"]: r for r in mine["records"]}
    assert by_id[str(w.penalty.public_id)]["repairable"]
    assert (
        not by_id[str(w.court.public_id)]["repairable"]
        and "法院" in by_id[str(w.court.public_id)]["repair_note"]
    )
    assert mine["entries"][0]["list_type"] == "black" and mine["entries"][0]["repairable"]
    response = _file(client, w, evidence=png_upload())
    assert response.status_code == 201, response.content
    created = response.json()
    oid = created["id"]
    assert created["status"] == "pending" and created["has_evidence"] and created["due_date"] == "2026-03-09"
    assert [o["id"] for o in client.get(f"{BASE}/mine").json()["items"]] == [oid]

    _login(client, w.handler)
    queue = client.get(BASE).json()["items"]
    assert [o["id"] for o in queue] == [oid]
    body = _problem(_post(client, f"{BASE}/{oid}/decide", {"corrected": True, "decision": ""}), 422)
    assert body["errors"][0]["field"] == "decision"
    response = _post(client, f"{BASE}/{oid}/decide", {"corrected": True, "decision": "经核实，处罚已撤销。"})
    assert response.status_code == 200, response.content
    decided = response.json()
    assert decided["status"] == "corrected" and decided["record"]["status"] == "corrected"
    assert decided["receipt_url"] == f"{BASE}/{oid}/receipt"

    _login(client, w.company)
    detail = client.get(f"{BASE}/{oid}").json()
    assert detail["decision"] == "经核实，处罚已撤销。"
    _problem(client.get(detail["receipt_url"]), 409)
    sequencer_run_once()
    tree_head_sign()
    response = client.get(detail["receipt_url"])
    assert response.status_code == 200 and "attachment" in response["Content-Disposition"]
    assert client.get(f"{BASE}/mine/file").json()["grade"] == "C"


def test_forbidden_paths(client, w):
    _problem(client.get(f"{BASE}/mine/file"), 401)
    _problem(_file(client, w), 401)
    _login(client, w.stranger)
    _problem(_file(client, w), 404)  # another subject's record
    _problem(_file(client, w, record=w.person_record), 404)  # another person's record
    _problem(client.post(BASE, {"record": str(uuid.uuid4()), "reason": "猜"}), 404)
    _problem(client.post(BASE, {"record": "not-a-uuid", "reason": "猜"}), 404)
    _problem(client.get(BASE), 403)  # the queue is staff's
    assert CreditObjection.objects.count() == 0

    _login(client, w.company)
    oid = _file(client, w).json()["id"]
    _login(client, w.stranger)
    _problem(client.get(f"{BASE}/{oid}"), 404)
    _problem(client.get(f"{BASE}/{oid}/receipt"), 404)
    _login(client, w.other_handler)
    assert client.get(BASE).json()["items"] == []
    _problem(client.get(f"{BASE}/{oid}"), 404)
    _problem(_post(client, f"{BASE}/{oid}/decide", {"corrected": False, "decision": "驳回"}), 404)
    _login(client, w.unit_handler)  # a unit below the record's department does not verify it
    _problem(client.get(f"{BASE}/{oid}"), 404)
    _problem(client.get(f"{BASE}/{uuid.uuid4()}"), 404)
    assert CreditObjection.objects.get().status == "pending"


@pytest.mark.parametrize(
    ("data", "field"),
    [({"reason": ""}, "reason"), ({"evidence": "text"}, "evidence"), ({"evidence": "big"}, "evidence")],
)
def test_invalid_input_writes_nothing(client, w, data, field):
    uploads = {"text": text_upload, "big": big_upload}
    if "evidence" in data:
        data = {"evidence": uploads[data["evidence"]]()}
    _login(client, w.company)
    body = _problem(_file(client, w, **data), 422)
    assert [e["field"] for e in body["errors"]] == [field]
    assert body["errors"][0]["message"]
    assert CreditObjection.objects.count() == 0


def test_english_messages(client, w):
    _login(client, w.company)
    body = _problem(_file(client, w, reason="", headers={"accept-language": "en"}), 422)
    assert body["errors"] == [
        {"field": "reason", "message": "Give the reason for the objection.", "code": "invalid"}
    ]


def test_repair_flow(client, w):
    _login(client, w.company)
    body = _problem(
        client.post(f"{BASE}/repairs", {"record": str(w.court.public_id), "statement": "已履行"}), 422
    )
    assert body["errors"][0]["field"] == "record" and "法院" in body["errors"][0]["message"]
    _problem(client.post(f"{BASE}/repairs", {"statement": "两者都没有"}), 422)
    _problem(
        client.post(f"{BASE}/repairs", {"record": str(w.person_record.public_id), "statement": "x"}), 404
    )
    response = client.post(
        f"{BASE}/repairs",
        {"record": str(w.penalty.public_id), "statement": "已整改", "evidence": png_upload()},
    )
    assert response.status_code == 201, response.content
    rid = response.json()["id"]
    assert [r["id"] for r in client.get(f"{BASE}/repairs/mine").json()["items"]] == [rid]
    _problem(client.get(f"{BASE}/repairs"), 403)
    _problem(_post(client, f"{BASE}/repairs/{rid}/decide", {"approved": True, "decision": "自己批"}), 403)

    _login(client, w.handler)  # CREDIT_HANDLE but not CREDIT_MANAGE
    _problem(client.get(f"{BASE}/repairs"), 403)
    _problem(client.get(f"{BASE}/repairs/{rid}"), 404)

    _login(client, w.officer)
    assert [r["id"] for r in client.get(f"{BASE}/repairs").json()["items"]] == [rid]
    response = _post(client, f"{BASE}/repairs/{rid}/decide", {"approved": True, "decision": "准予修复"})
    assert response.status_code == 200, response.content
    out = response.json()
    assert out["status"] == "approved" and out["record"]["status"] == "repaired" and out["receipt_url"]
    assert CreditRecord.objects.get(pk=w.penalty.pk).status == "repaired"

    _login(client, w.stranger)
    _problem(client.get(f"{BASE}/repairs/{rid}"), 404)
    _problem(client.get(f"{BASE}/repairs/{rid}/receipt"), 404)
    assert CreditRepair.objects.count() == 1


def test_citizen_sees_own_person_file(client, w):
    _login(client, w.citizen)
    mine = client.get(f"{BASE}/mine/file").json()
    assert mine["has_file"] and [r["id"] for r in mine["records"]] == [str(w.person_record.public_id)]
    assert not mine["records"][0]["repairable"] and "2026-04-05" in mine["records"][0]["repair_note"]
    _login(client, w.stranger)
    assert client.get(f"{BASE}/mine/file").json() == {
        "has_file": False,
        "grade": None,
        "grade_label": "",
        "score": None,
        "model_version": None,
        "reasons": [],
        "records": [],
        "next_cursor": None,
        "entries": [],
        "checks": [],
    }


def test_lists_are_bounded(client, w, django_assert_max_num_queries):
    from tests.credit.test_objections_services import add, principal
    from yiwang.credit.services.objections import objection_file

    org = w.company.organisation
    for n in range(6):
        record = add(CreditRecord.Kind.INSPECTION, w.scj, f"检查{n}", w.penalty.occurred_on, organisation=org)
        objection_file(actor=principal(w.company), record=record, reason="有误")
    _login(client, w.handler)
    client.get(BASE)
    with django_assert_max_num_queries(12):
        items = client.get(f"{BASE}?limit=3").json()
    assert len(items["items"]) == 3 and items["next_cursor"]
    rest = client.get(f"{BASE}?limit=3&cursor={items['next_cursor']}").json()
    assert len(rest["items"]) == 3 and not rest["next_cursor"]
    _login(client, w.company)
    client.get(f"{BASE}/mine")
    with django_assert_max_num_queries(10):
        assert len(client.get(f"{BASE}/mine").json()["items"]) == 6
    with django_assert_max_num_queries(12):
        assert len(client.get(f"{BASE}/mine/file").json()["records"]) == 8
