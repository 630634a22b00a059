"""API /api/datahub/elements: list (keyset, query count), detail, create/update drafts, batches and publication,
code lists, value checks, conformance and the bindings sync — and the forbidden and invalid paths: anonymous 401,
citizen and window clerk 403, another department's officer 403, a data officer publishing 403, bad input 400/422
with problem+json, nothing written."""

from __future__ import annotations

import pytest

from tests.datahub.factories import DataElementFactory
from yiwang.core.models import AuditEntry
from yiwang.datahub.models import DataElement, ElementBatch, ElementRevision

from .world_elements import EW, api, build_ew, element_payload

pytestmark = pytest.mark.django_db


@pytest.fixture
def ew(db, media_and_fast_passwords) -> EW:
    return build_ew()


BASE = "/api/datahub/elements"
PROBLEM = "application/problem+json"


def _problem(response, status: int) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith(PROBLEM)
    return response.json()


def test_list_pages_by_identifier_with_bounded_queries(client, ew: EW, django_assert_max_num_queries):
    for n in range(12):
        DataElementFactory(identifier=f"DE0{n + 500:04d}", source_department=ew.mzj)
    client.force_login(ew.steward_gaj.account)
    with django_assert_max_num_queries(12):
        first = client.get(f"{BASE}/?limit=10")
    assert first.status_code == 200, first.content
    body = first.json()
    assert [e["identifier"] for e in body["items"][:4]] == ["DE00001", "DE00002", "DE00003", "DE00301"]
    assert len(body["items"]) == 10 and body["next_cursor"]
    with django_assert_max_num_queries(12):
        second = client.get(f"{BASE}/?limit=10&cursor={body['next_cursor']}")
    assert len(second.json()["items"]) == 6 and second.json()["next_cursor"] is None
    filtered = client.get(f"{BASE}/?status=draft").json()["items"]
    assert [e["identifier"] for e in filtered] == ["DE00301"]
    by_department = client.get(f"{BASE}/?department=GAJ").json()["items"]
    assert {e["identifier"] for e in by_department} == {"DE00001", "DE00002", "DE00003"}
    assert client.get(f"{BASE}/?q=DE00003").json()["items"][0]["name"] == "性别"
    _problem(client.get(f"{BASE}/?cursor=not-a-cursor"), 422)


def test_detail_has_code_values_revisions_and_bindings(client, ew: EW):
    client.force_login(ew.centre.account)
    body = client.get(f"{BASE}/de00003").json()
    assert body["identifier"] == "DE00003" and body["code_list"] == "CL_GENDER"
    assert [v["value"] for v in body["code_values"]] == ["0", "1", "2", "9"]
    assert body["source_department"] == "GAJ"
    _problem(client.get(f"{BASE}/DE99999"), 404)


def test_create_update_publish_round_trip(client, ew: EW):
    client.force_login(ew.steward_mzj.account)
    created = api(client, "post", f"{BASE}/", element_payload(batch="2026-09"))
    assert created.status_code == 201, created.content
    assert created.json()["status"] == "draft" and created.json()["batch"] == "2026-09"
    patched = api(client, "patch", f"{BASE}/DE00401", {"definition": "按年龄段核定的每月高龄津贴标准。"})
    assert patched.status_code == 200 and patched.json()["definition"].endswith("标准。")
    # The data officer may not publish.
    _problem(api(client, "post", f"{BASE}/batches/2026-09/publish", {"change_note": "发布"}), 403)
    client.force_login(ew.centre.account)
    published = api(client, "post", f"{BASE}/batches/2026-09/publish", {"change_note": "新增高龄津贴标准。"})
    assert published.status_code == 200, published.content
    assert published.json()["status"] == "published"
    assert sorted(published.json()["elements"]) == ["DE00301@1", "DE00401@1"]
    detail = client.get(f"{BASE}/DE00401").json()
    assert detail["status"] == "published" and detail["revisions"][0]["change_note"] == "新增高龄津贴标准。"
    # A change of a published element is pending in a new draft batch, then version 2.
    batch = api(client, "post", f"{BASE}/batches", {"number": "2026-10", "title": "第十批"})
    assert batch.status_code == 201
    pending = api(client, "patch", f"{BASE}/DE00401", {"unit": "元/月", "batch": "2026-10"})
    assert pending.json()["pending"] == {"unit": "元/月"} and pending.json()["unit"] == "元"
    api(client, "post", f"{BASE}/batches/2026-10/publish", {"change_note": "单位改为元/月。"})
    assert DataElement.objects.get(identifier="DE00401").version == 2
    assert ElementRevision.objects.filter(element__identifier="DE00401").count() == 2
    listing = client.get(f"{BASE}/batches").json()["items"]
    assert [b["number"] for b in listing] == ["2026-10", "2026-09"]


@pytest.mark.parametrize(
    ("who", "status"),
    [(None, 401), ("citizen", 403), ("clerk", 403)],
    ids=["anonymous", "citizen", "window-clerk"],
)
def test_outsiders_are_refused_everywhere(client, ew: EW, who, status):
    if who:
        account = getattr(ew, who)
        client.force_login(getattr(account, "account", account))
    for method, url, body in [
        ("get", f"{BASE}/", None),
        ("get", f"{BASE}/DE00001", None),
        ("post", f"{BASE}/", element_payload()),
        ("patch", f"{BASE}/DE00301", {"name": "x"}),
        ("get", f"{BASE}/conformance", None),
        ("get", f"{BASE}/code-lists", None),
        ("post", f"{BASE}/batches/2026-09/publish", {"change_note": "x"}),
    ]:
        _problem(api(client, method, url, body), status)
    assert not DataElement.objects.filter(identifier="DE00401").exists()
    assert DataElement.objects.get(identifier="DE00301").name == "低保类别"


def test_another_departments_officer_cannot_create_or_edit(client, ew: EW):
    client.force_login(ew.steward_gaj.account)
    problem = _problem(api(client, "post", f"{BASE}/", element_payload(source_department="MZJ")), 403)
    assert "数源部门" in problem["detail"]
    _problem(api(client, "patch", f"{BASE}/DE00301", {"name": "改名"}), 403)
    _problem(api(client, "post", f"{BASE}/DE00301/retire", {"note": "x"}), 403)
    _problem(api(client, "post", f"{BASE}/code-lists", {"code": "CL_X", "name": "x", "values": []}), 403)
    _problem(api(client, "post", f"{BASE}/bindings/sync"), 403)
    _problem(api(client, "post", f"{BASE}/batches", {"number": "2026-11", "title": "x"}), 403)
    assert not DataElement.objects.filter(identifier="DE00401").exists()
    assert DataElement.objects.get(identifier="DE00301").name == "低保类别"
    assert not ElementBatch.objects.filter(number="2026-11").exists()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (element_payload(identifier="X1"), "identifier"),
        (element_payload(data_type="code"), "code_list"),
        (element_payload(validator="gb11643"), "validator"),
        (element_payload(name=""), "name"),
        (element_payload(source_department="NOPE"), "source_department"),
        (element_payload(max_length="ten"), "max_length"),
        (element_payload(is_collected="maybe"), "is_collected"),
        ({"name": "缺标识"}, "identifier"),
    ],
)
def test_invalid_input_is_422_with_field_errors_and_nothing_written(client, ew: EW, body, field):
    client.force_login(ew.centre.account)
    before = AuditEntry.objects.count()
    problem = _problem(api(client, "post", f"{BASE}/", body), 422)
    assert field in {e["field"] for e in problem["errors"]}
    assert DataElement.objects.count() == 4 and AuditEntry.objects.count() == before


def test_malformed_json_is_400(client, ew: EW):
    client.force_login(ew.centre.account)
    response = client.post(f"{BASE}/", data="{not json", content_type="application/json")
    _problem(response, 400)
    assert DataElement.objects.count() == 4


def test_value_check_and_code_lists(client, ew: EW):
    client.force_login(ew.steward_mzj.account)
    checked = api(client, "post", f"{BASE}/DE00003/check", {"values": ["1", "M", None]}).json()["results"]
    assert [r["valid"] for r in checked] == [True, False, True] and "代码表" in checked[1]["problem"]
    lists = client.get(f"{BASE}/code-lists").json()
    assert [c["code"] for c in lists] == ["CL_GENDER"]
    client.force_login(ew.centre.account)
    created = api(
        client,
        "post",
        f"{BASE}/code-lists",
        {"code": "CL_HUKOU", "name": "户口类别", "values": [{"value": "1", "label": "家庭户"}]},
    )
    assert created.status_code == 201 and created.json()["values"][0]["label"] == "家庭户"
    bad = api(client, "post", f"{BASE}/code-lists", {"code": "hukou", "name": "户口", "values": []})
    assert {e["field"] for e in _problem(bad, 422)["errors"]} >= {"code"}
    put = api(
        client,
        "put",
        f"{BASE}/code-lists/CL_HUKOU",
        {"name": "户口类别代码", "values": [{"value": "2", "label": "集体户"}]},
    )
    assert {(v["value"], v["is_active"]) for v in put.json()["values"]} == {("1", False), ("2", True)}


def test_retire_and_conformance_and_sync(client, ew: EW):
    client.force_login(ew.centre.account)
    retired = api(client, "post", f"{BASE}/DE00301/retire", {"note": "与 DE00302 重复"})
    assert retired.status_code == 200 and retired.json()["status"] == "retired"
    _problem(api(client, "post", f"{BASE}/DE00301/retire", {"note": "再次"}), 422)
    synced = api(client, "post", f"{BASE}/bindings/sync")
    assert synced.status_code == 200 and set(synced.json()) == {"created", "updated", "deleted", "unbound"}
    report = client.get(f"{BASE}/conformance?section=asks_twice")
    assert report.status_code == 200 and report.json()["section"] == "asks_twice"
    assert set(report.json()["summary"]) >= {"mismatches", "asks_twice", "unbound_form_fields"}
    _problem(client.get(f"{BASE}/conformance?section=nonsense"), 422)
