"""The bundles API: public catalogue, apply (multipart), my applications, one application — 401/403/404/422."""

from __future__ import annotations

import json
import uuid

import pytest

from yiwang.cases.models import BundleCase

from .conftest import GOOD, approve, parts_of, pdf, submit

pytestmark = pytest.mark.django_db
BASE = "/api/bundles"


def apply(
    client, body: dict | None = None, files: dict | None = None, key: str | None = None, code="snack-shop"
):
    data = {
        "form_data": json.dumps(body or GOOD, ensure_ascii=False),
        "idempotency_key": key or uuid.uuid4().hex,
    }
    data.update(files if files is not None else {"id_card": pdf(), "plan": pdf(), "sign": pdf()})
    return client.post(f"{BASE}/{code}/apply", data=data)


def test_published_bundles_are_public(client, world):
    response = client.get(BASE)
    assert response.status_code == 200
    [bundle] = response.json()
    assert bundle["code"] == "snack-shop"
    assert [i["code"] for i in bundle["items"]] == ["TST-QR-001", "TST-XK-001", "TST-XK-002"]
    assert bundle["items"][1]["after"] == ["TST-QR-001"]


def test_one_bundle_with_its_combined_form_and_materials(client, world):
    body = client.get(f"{BASE}/snack-shop").json()
    names = [f["name"] for f in body["fields"]]
    assert names.count("applicant_name") == 1
    address = next(f for f in body["fields"] if f["name"] == "business_address")
    assert address["required"] and address["items"] == ["营业执照登记", "食品经营许可"]
    id_card = next(m for m in body["materials"] if m["code"] == "id_card")
    assert id_card["upload"] and len(id_card["items"]) == 3
    assert client.get(f"{BASE}/no-such-bundle").status_code == 404


def test_apply_needs_a_login_and_an_applicant(client, world):
    assert apply(client).status_code == 401
    client.force_login(world.clerk.account)
    response = apply(client)
    assert response.status_code == 403
    assert response["Content-Type"].startswith("application/problem+json")


def test_apply_files_the_bundle(client, world):
    client.force_login(world.citizen)
    key = uuid.uuid4().hex
    response = apply(client, key=key)
    assert response.status_code == 201, response.content.decode()
    body = response.json()
    assert body["number"].startswith("YJS-") and body["state"] == "in_progress"
    states = {p["item_code"]: p["state"] for p in body["parts"]}
    assert states == {"TST-QR-001": "filed", "TST-XK-001": "waiting", "TST-XK-002": "filed"}
    again = apply(client, key=key)  # the same key: the same application
    assert again.status_code == 201 and again.json()["id"] == body["id"]
    assert BundleCase.objects.count() == 1


def test_apply_reports_every_field_error(client, world):
    client.force_login(world.citizen)
    response = apply(client, body={**GOOD, "shop_name": "", "sign_size": "x"}, files={"id_card": pdf()})
    assert response.status_code == 422
    fields = {e["field"] for e in response.json()["errors"]}
    assert {"shop_name", "sign_size", "material_plan", "material_sign"} <= fields
    bad_json = client.post(
        f"{BASE}/snack-shop/apply", data={"form_data": "[1", "idempotency_key": uuid.uuid4().hex}
    )
    assert bad_json.status_code == 422
    assert client.post(f"{BASE}/snack-shop/apply", data={"form_data": "{}"}).status_code == 422  # no key


def test_my_applications_and_one_application(client, world, django_assert_max_num_queries):
    for _ in range(3):
        submit(world)
    theirs = submit(world, account=world.other_citizen)
    client.force_login(world.citizen)
    with django_assert_max_num_queries(8):
        page = client.get(f"{BASE}/cases?limit=2").json()
    assert len(page["items"]) == 2 and page["next_cursor"]
    rest = client.get(f"{BASE}/cases", {"cursor": page["next_cursor"]}).json()
    assert len(rest["items"]) == 1 and rest["next_cursor"] is None
    mine = page["items"][0]
    assert client.get(f"{BASE}/cases/{mine['id']}").status_code == 200
    assert client.get(f"{BASE}/cases/{theirs.public_id}").status_code == 404
    assert client.get(f"{BASE}/cases/{uuid.uuid4()}").status_code == 404


def test_staff_of_a_sub_case_department_may_read_others_may_not(client, world):
    bc = submit(world)
    client.force_login(world.approver_c.account)
    body = client.get(f"{BASE}/cases/{bc.public_id}").json()
    assert body["number"] == bc.number
    client.force_login(world.far_approver.account)
    assert client.get(f"{BASE}/cases/{bc.public_id}").status_code == 404
    client.logout()
    assert client.get(f"{BASE}/cases/{bc.public_id}").status_code == 401


def test_results_are_explained(client, world):
    bc = submit(world)
    approve(world, parts_of(bc)["TST-XK-002"].case)
    client.force_login(world.citizen)
    body = client.get(f"{BASE}/cases/{bc.public_id}").json()
    sign = next(p for p in body["parts"] if p["item_code"] == "TST-XK-002")
    assert sign["case_state"] == "approved" and sign["result"] == "办结（准予）"
