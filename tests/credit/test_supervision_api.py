"""API /api/supervision: rosters, draws (create, execute once, public verification), an inspector's tasks (404 for
anyone else's), results with photos, publication and the public results; problem+json 401/403/404/422 with field
errors and nothing written; bounded queries on lists."""

from __future__ import annotations

import json
import uuid

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tests.credit.test_draws_services import build_world, png_bytes
from tests.factories import OrganisationFactory, staff_with_roles
from yiwang.core.models import AuditEntry
from yiwang.core.permissions import Role
from yiwang.credit.models import Conflict, CreditRecord, Draw, InspectionTask, Inspector

pytestmark = pytest.mark.django_db
BASE = "/api/supervision"


@pytest.fixture
def w(db, clock, media_and_fast_passwords):
    return build_world()


def _post(client, url, body=None):
    return client.post(url, data=json.dumps(body or {}), content_type="application/json")


def _problem(response, status):
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/problem+json")
    return response.json()


def _fields(body) -> set[str]:
    return {e["field"] for e in body.get("errors", [])}


def _draw_body(w, **params):
    return {
        "title": "2026年第一季度食品经营抽查",
        "matter": w.matter.code,
        "parameters": {
            "towns": [t.code for t in w.towns],
            "kinds": ["enterprise"],
            "count": 4,
            "inspectors_per_object": 2,
            **params,
        },
        "due_date": "2026-03-31",
    }


def _drawn(client, w):
    client.force_login(w.planner.account)
    created = _post(client, f"{BASE}/draws", _draw_body(w))
    assert created.status_code == 201, created.content
    draw_id = created.json()["id"]
    executed = _post(client, f"{BASE}/draws/{draw_id}/execute")
    assert executed.status_code == 200, executed.content
    return executed.json()


def test_draw_flow_commit_execute_verify(client, w):
    client.force_login(w.planner.account)
    created = _post(client, f"{BASE}/draws", _draw_body(w))
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["status"] == "committed" and body["seed"] == "" and len(body["seed_commitment"]) == 64
    assert body["tasks"] == [] and body["commitment_entry"]
    executed = _post(client, f"{BASE}/draws/{body['id']}/execute")
    drawn = executed.json()
    assert drawn["status"] == "revealed" and len(drawn["seed"]) == 64
    assert len(drawn["tasks"]) == 4 and all(len(t["inspectors"]) == 2 for t in drawn["tasks"])
    again = _problem(_post(client, f"{BASE}/draws/{body['id']}/execute"), 422)
    assert "draw" in _fields(again)
    client.logout()
    verify = client.get(f"{BASE}/public/draws/{drawn['number']}/verify")
    assert verify.status_code == 200
    report = verify.json()
    assert report["match"] is True and report["seed"] == drawn["seed"]
    assert [t["position"] for t in report["tasks"]] == [1, 2, 3, 4]
    _problem(client.get(f"{BASE}/public/draws/CC19990101001/verify"), 404)


def test_commitment_not_revealed_before_draw(client, w):
    client.force_login(w.planner.account)
    body = _post(client, f"{BASE}/draws", _draw_body(w)).json()
    draw = Draw.objects.get(public_id=body["id"])
    client.logout()
    report = client.get(f"{BASE}/public/draws/{draw.number}/verify").json()
    assert report["revealed"] is False and report["seed"] == "" and report["match"] is None
    assert draw.seed not in json.dumps(report)


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"count": 0}, "count"),
        ({"count": 50}, "count"),
        ({"inspectors_per_object": 1}, "inspectors_per_object"),
        ({"towns": ["440199999"]}, "towns"),
    ],
)
def test_invalid_draw_is_422_and_writes_nothing(client, w, params, field):
    client.force_login(w.planner.account)
    before = AuditEntry.objects.count()
    body = _problem(_post(client, f"{BASE}/draws", _draw_body(w, **params)), 422)
    assert field in _fields(body)
    assert all(e["message"] for e in body["errors"])
    assert not Draw.objects.exists() and AuditEntry.objects.count() == before


def test_draw_field_messages_in_english(client, w):
    client.force_login(w.planner.account)
    body = _problem(
        client.post(
            f"{BASE}/draws",
            data=json.dumps(_draw_body(w, count=0)),
            content_type="application/json",
            HTTP_ACCEPT_LANGUAGE="en",
        ),
        422,
    )
    assert {"field": "count", "message": "Draw at least 1 object.", "code": "invalid"} in body["errors"]


def test_draw_permissions(client, w):
    _problem(_post(client, f"{BASE}/draws", _draw_body(w)), 401)
    inspector = w.inspector_staff[0]
    client.force_login(inspector.account)
    _problem(_post(client, f"{BASE}/draws", _draw_body(w)), 403)
    _problem(client.get(f"{BASE}/draws"), 403)
    # another department's planner: the matter is not theirs, the draw is 404
    client.force_login(w.planner.account)
    draw_id = _post(client, f"{BASE}/draws", _draw_body(w)).json()["id"]
    client.force_login(w.other_planner.account)
    assert "matter" in _fields(_problem(_post(client, f"{BASE}/draws", _draw_body(w)), 422))
    _problem(client.get(f"{BASE}/draws/{draw_id}"), 404)
    _problem(_post(client, f"{BASE}/draws/{draw_id}/execute"), 404)
    _problem(client.get(f"{BASE}/draws/{uuid.uuid4()}"), 404)
    assert client.get(f"{BASE}/draws").json()["items"] == []


def test_inspector_sees_only_own_tasks(client, w):
    drawn = _drawn(client, w)
    task = InspectionTask.objects.get(public_id=drawn["tasks"][0]["id"])
    assigned = {i.staff_id for i in task.inspectors.all()}
    mine = next(s for s in w.inspector_staff if s.pk in assigned)
    outsider = next(s for s in w.inspector_staff if s.pk not in assigned)
    client.force_login(mine.account)
    listed = client.get(f"{BASE}/tasks").json()["items"]
    assert str(task.public_id) in {t["id"] for t in listed}
    expected = InspectionTask.objects.filter(inspectors__staff=mine).count()
    assert len(listed) == expected
    assert client.get(f"{BASE}/tasks/{task.public_id}").status_code == 200
    client.force_login(outsider.account)
    assert str(task.public_id) not in {t["id"] for t in client.get(f"{BASE}/tasks").json()["items"]}
    _problem(client.get(f"{BASE}/tasks/{task.public_id}"), 404)
    _problem(
        client.post(f"{BASE}/tasks/{task.public_id}/result", {"result": "compliant", "findings": "x"}), 404
    )
    _problem(client.get(f"{BASE}/tasks/{uuid.uuid4()}"), 404)
    client.force_login(w.planner.account)  # a planner is no inspector
    _problem(client.get(f"{BASE}/tasks/{task.public_id}"), 403)


def test_result_with_photo_publish_and_public_list(client, w):
    drawn = _drawn(client, w)
    task = InspectionTask.objects.get(public_id=drawn["tasks"][0]["id"])
    mine = task.inspectors.select_related("staff").first().staff
    client.force_login(mine.account)
    bad = _problem(
        client.post(f"{BASE}/tasks/{task.public_id}/result", {"result": "penalty", "findings": "未亮证经营"}),
        422,
    )
    assert "penalty_amount" in _fields(bad)
    bad = _problem(
        client.post(
            f"{BASE}/tasks/{task.public_id}/result",
            {"result": "compliant", "findings": "x", "photos": [SimpleUploadedFile("a.png", b"GIF89a....")]},
        ),
        422,
    )
    assert "photos" in _fields(bad)
    task.refresh_from_db()
    assert task.status == "assigned" and not task.photos.exists()
    response = client.post(
        f"{BASE}/tasks/{task.public_id}/result",
        {
            "result": "penalty",
            "findings": "未亮证经营，责令改正并处罚款。",
            "penalty_amount": "3000",
            "photos": [SimpleUploadedFile("现场.png", png_bytes(), content_type="image/png")],
        },
    )
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "done" and response.json()["publish_by"] == "2026-03-30"
    assert CreditRecord.objects.filter(ref_id=str(task.public_id), kind="penalty").exists()
    # public: nothing yet
    client.logout()
    assert client.get(f"{BASE}/public/results").json()["items"] == []
    # another department cannot publish (404), the department can
    client.force_login(w.other_planner.account)
    _problem(_post(client, f"{BASE}/tasks/{task.public_id}/publish"), 404)
    client.force_login(w.planner.account)
    waiting = client.get(f"{BASE}/results").json()["items"]
    assert [t["id"] for t in waiting] == [str(task.public_id)]
    published = _post(client, f"{BASE}/tasks/{task.public_id}/publish")
    assert published.status_code == 200 and published.json()["status"] == "published"
    _problem(_post(client, f"{BASE}/tasks/{task.public_id}/publish"), 422)
    client.logout()
    public = client.get(f"{BASE}/public/results").json()["items"]
    assert len(public) == 1 and public[0]["organisation"] == task.organisation.uscc
    assert public[0]["result"] == "penalty" and public[0]["penalty_amount"] == "3000.00"


def test_rosters(client, w):
    client.force_login(w.planner.account)
    newcomer = staff_with_roles(Role.INSPECTOR, department=w.dept)
    outsider = staff_with_roles(Role.INSPECTOR, department=w.other_dept)
    ok = _post(
        client,
        f"{BASE}/inspectors",
        {"staff": str(newcomer.public_id), "certificate_no": "44010099", "qualifications": [w.matter.code]},
    )
    assert ok.status_code == 201, ok.content
    dup = _problem(
        _post(client, f"{BASE}/inspectors", {"staff": str(outsider.public_id), "certificate_no": "44010099"}),
        422,
    )
    assert "staff" in _fields(dup)
    dup = _problem(
        _post(client, f"{BASE}/inspectors", {"staff": str(newcomer.public_id), "certificate_no": "X1"}), 422
    )
    assert "staff" in _fields(dup)
    assert Inspector.objects.filter(staff=outsider).count() == 0
    org = OrganisationFactory()
    made = _post(
        client, f"{BASE}/conflicts", {"inspector": "44010099", "organisation": org.uscc, "reason": "亲属"}
    )
    assert made.status_code == 201, made.content
    again = _problem(
        _post(
            client, f"{BASE}/conflicts", {"inspector": "44010099", "organisation": org.uscc, "reason": "亲属"}
        ),
        422,
    )
    assert "organisation" in _fields(again)
    assert Conflict.objects.count() == 1
    assert [c["organisation"] for c in client.get(f"{BASE}/conflicts").json()["items"]] == [org.uscc]
    assert {m["code"] for m in client.get(f"{BASE}/matters").json()} == {w.matter.code}
    matter = _post(
        client,
        f"{BASE}/matters",
        {"code": "SCJ-002", "name": "特种设备检查", "legal_basis": "《特种设备安全法》", "publish_days": 0},
    )
    assert "publish_days" in _fields(_problem(matter, 422))
    client.force_login(w.other_planner.account)
    assert client.get(f"{BASE}/inspectors").json()["items"] == []
    assert client.get(f"{BASE}/conflicts").json()["items"] == []


def test_list_query_counts(client, w, django_assert_max_num_queries):
    for _n in range(3):
        _drawn(client, w)
    client.force_login(w.planner.account)
    with django_assert_max_num_queries(12):
        assert len(client.get(f"{BASE}/draws").json()["items"]) == 3
    with django_assert_max_num_queries(12):
        assert len(client.get(f"{BASE}/inspectors").json()["items"]) == 4
    mine = InspectionTask.objects.order_by("id").first().inspectors.select_related("staff").first().staff
    client.force_login(mine.account)
    with django_assert_max_num_queries(12):
        assert client.get(f"{BASE}/tasks").json()["items"]
    for task in InspectionTask.objects.all():
        who = task.inspectors.select_related("staff").first().staff
        task.status, task.result, task.findings = "published", "compliant", "未发现问题"
        task.published_at = task.draw.created_at
        task.save()
        assert who
    client.logout()
    with django_assert_max_num_queries(6):
        assert len(client.get(f"{BASE}/public/results").json()["items"]) == 12


def test_object_roster_filtered(client, w, django_assert_max_num_queries):
    from yiwang.credit.models import CreditFile

    CreditFile.objects.create(subject="organisation", organisation=w.orgs[1], grade="C")
    client.force_login(w.planner.account)
    with django_assert_max_num_queries(10):  # session, account, roles… and one query for the page
        items = client.get(f"{BASE}/objects", {"town": w.towns[0].code}).json()["items"]
    expected = {o.uscc for o in w.orgs if o.division.code.startswith(w.towns[0].code)}
    assert {i["uscc"] for i in items} == expected and expected
    grades = {i["uscc"]: i["grade"] for i in client.get(f"{BASE}/objects").json()["items"]}
    assert grades[w.orgs[1].uscc] == "C" and grades[w.orgs[0].uscc] == "A"
    assert client.get(f"{BASE}/objects", {"kind": "public_institution"}).json()["items"] == []
    client.force_login(w.inspector_staff[0].account)
    _problem(client.get(f"{BASE}/objects"), 403)
