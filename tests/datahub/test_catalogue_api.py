"""API /api/datahub/catalogue: the lifecycle through HTTP, and the forbidden and invalid paths (problem+json,
nothing written)."""

from __future__ import annotations

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tests.datahub.world_catalogue import FIELDS, META, build_catalogue_world, draft, published
from yiwang.datahub.models import DataResource, ResourceEvent


@pytest.fixture
def cworld(db, media_and_fast_passwords):
    return build_catalogue_world()


BASE = "/api/datahub/catalogue/"


def _call(client, method, url, body=None, **extra):
    if body is not None:
        extra.update(data=json.dumps(body), content_type="application/json")
    return getattr(client, method)(url, **extra)


def _problem(response, status):
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/problem+json")
    return response.json()


def test_lifecycle_through_the_api(client, cworld):
    w = cworld
    client.force_login(w.mzj_officer.account)
    created = _call(client, "post", BASE, META)
    assert created.status_code == 201, created.content
    body = created.json()
    ref = body["id"]
    assert body["status"] == "draft" and body["provider"]["code"] == "MZJ" and body["actions"]
    r = _call(client, "put", f"{BASE}{ref}/fields", {"row_version": body["row_version"], "fields": FIELDS})
    assert r.status_code == 200, r.content
    assert [f["element"] for f in r.json()["fields"]] == ["DE00001", "DE00002", None]
    r = _call(
        client,
        "post",
        f"{BASE}{ref}/mount",
        {"row_version": r.json()["row_version"], "mount_kind": "registry", "mount_target": "core.person"},
    )
    assert r.json()["status"] == "mounted"
    r = _call(client, "patch", f"{BASE}{ref}", {"row_version": r.json()["row_version"], "theme": "救助"})
    assert r.status_code == 200 and r.json()["theme"] == "救助"
    r = _call(client, "post", f"{BASE}{ref}/submit", {"row_version": r.json()["row_version"]})
    assert r.json()["status"] == "in_review"
    # the officer cannot review
    _problem(_call(client, "post", f"{BASE}{ref}/review", {"row_version": 1, "approve": True}), 403)
    client.force_login(w.centre.account)
    queue = client.get(f"{BASE}review-queue").json()
    assert [i["id"] for i in queue["items"]] == [ref]
    r = _call(
        client, "post", f"{BASE}{ref}/review", {"row_version": r.json()["row_version"], "approve": True}
    )
    assert r.json()["status"] == "published"
    client.force_login(w.mzj_officer.account)
    v2 = _call(client, "post", f"{BASE}{ref}/versions", {"row_version": r.json()["row_version"]})
    assert v2.status_code == 201 and v2.json()["version"] == 2 and v2.json()["previous"] == ref
    r = _call(
        client, "post", f"{BASE}{ref}/retire", {"row_version": r.json()["row_version"], "notice": "停用"}
    )
    assert r.json()["status"] == "retired"
    by_code = client.get(f"{BASE}{body['code']}").json()
    assert by_code["version"] == 2  # the code names its newest version


def test_search_with_facets(client, cworld):
    w = cworld
    published(w)
    published(w, w.gaj_officer, name="户籍人口信息", share_type="unconditional")
    client.force_login(w.gaj_officer.account)
    body = client.get(BASE, {"q": "户籍"}).json()
    assert [i["name"] for i in body["items"]] == ["户籍人口信息"]
    assert body["total"] == 1 and body["facets"]["provider"][0]["value"] == "GAJ"
    assert set(body["facets"]) == {
        "provider",
        "resource_class",
        "theme",
        "share_type",
        "open_type",
        "grade",
        "update_cycle",
    }
    body = client.get(BASE, {"share_type": "conditional"}).json()
    assert [i["name"] for i in body["items"]] == ["低保对象信息"]
    problem = _problem(client.get(BASE, {"grade": "secret"}), 422)
    assert problem["errors"][0]["field"] == "grade"
    _problem(client.get(BASE, {"cursor": "!!not-a-cursor"}), 422)


def test_anonymous_citizen_and_other_staff_are_refused(client, cworld):
    w = cworld
    resource = published(w)
    _problem(client.get(BASE), 401)
    _problem(_call(client, "post", BASE, META), 401)
    client.force_login(w.citizen)
    _problem(client.get(BASE), 403)
    _problem(client.get(f"{BASE}{resource.public_id}"), 403)
    client.force_login(w.clerk.account)
    _problem(_call(client, "post", BASE, META), 403)
    assert DataResource.objects.count() == 1


def test_another_department_cannot_change_and_cannot_see_drafts(client, cworld):
    w = cworld
    mine = published(w)
    hidden = draft(w, name="婚姻登记信息")
    client.force_login(w.gaj_officer.account)
    _problem(client.get(f"{BASE}{hidden.public_id}"), 404)
    _problem(_call(client, "patch", f"{BASE}{hidden.public_id}", {"row_version": 1, "name": "x"}), 404)
    assert client.get(f"{BASE}{mine.public_id}").status_code == 200
    _problem(
        _call(
            client, "post", f"{BASE}{mine.public_id}/retire", {"row_version": mine.row_version, "notice": "x"}
        ),
        403,
    )
    _problem(
        _call(client, "post", f"{BASE}{mine.public_id}/versions", {"row_version": mine.row_version}), 403
    )
    _problem(_call(client, "post", BASE, {**META, "provider": "MZJ"}), 403)
    mine.refresh_from_db()
    assert mine.status == "published" and DataResource.objects.count() == 2


def test_invalid_input_and_stale_versions(client, cworld):
    w = cworld
    client.force_login(w.mzj_officer.account)
    problem = _problem(
        _call(client, "post", BASE, {**META, "share_type": "none", "share_condition": ""}), 422
    )
    assert problem["errors"][0]["field"] == "no_share_basis"
    _problem(_call(client, "post", BASE, {"name": "缺字段"}), 422)
    _problem(_call(client, "post", BASE, {**META, "provider": "NOPE"}), 422)
    assert DataResource.objects.count() == 0
    resource = draft(w)
    _problem(_call(client, "patch", f"{BASE}{resource.public_id}", {"row_version": 99, "name": "x"}), 409)
    problem = _problem(_call(client, "post", f"{BASE}{resource.public_id}/submit", {"row_version": 1}), 422)
    assert {e["field"] for e in problem["errors"]} >= {"fields", "mount_kind"}
    bad_fields = [{**FIELDS[0], "element": "DE99999"}]
    problem = _problem(
        _call(client, "put", f"{BASE}{resource.public_id}/fields", {"row_version": 1, "fields": bad_fields}),
        422,
    )
    assert problem["errors"][0]["field"] == "fields.0.element"
    _problem(
        _call(
            client,
            "post",
            f"{BASE}{resource.public_id}/mount",
            {"row_version": 1, "mount_kind": "registry", "mount_target": "x.y"},
        ),
        422,
    )
    _problem(client.get(f"{BASE}00000000-0000-0000-0000-000000000000"), 404)
    resource.refresh_from_db()
    assert resource.status == "draft" and resource.row_version == 1 and not resource.fields.exists()
    assert ResourceEvent.objects.filter(resource=resource).count() == 1


def test_dataset_upload_endpoint(client, cworld):
    w = cworld
    resource = draft(w)
    client.force_login(w.mzj_officer.account)
    upload = SimpleUploadedFile("d.csv", "姓名,age\n张三,81\n".encode(), content_type="text/csv")
    r = client.post(f"{BASE}{resource.public_id}/dataset", {"row_version": 1, "file": upload})
    assert r.status_code == 200, r.content
    assert r.json()["mount_options"]["columns"] == ["姓名", "age"] and "file" not in r.json()["mount_options"]
    bad = SimpleUploadedFile("d.csv", b"%PDF-1.7 nope", content_type="text/csv")
    r = client.post(
        f"{BASE}{resource.public_id}/dataset", {"row_version": r.json()["row_version"], "file": bad}
    )
    assert _problem(r, 422)["errors"][0]["field"] == "file"


@pytest.mark.parametrize("n", [3])
def test_search_and_queue_query_counts(client, cworld, n, django_assert_max_num_queries):
    w = cworld
    for i in range(n):
        published(w, name=f"资源{i}")
    client.force_login(w.centre.account)
    client.get(BASE)
    with django_assert_max_num_queries(8):
        assert len(client.get(BASE, {"q": "资源"}).json()["items"]) == n
    with django_assert_max_num_queries(8):
        client.get(f"{BASE}review-queue")
