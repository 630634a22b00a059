"""API /api/collab/tasks: issue, list and detail, 签收, 进展报送 with evidence (multipart), milestones, 申请办结, 审核,
撤销, 批示; problem+json on bad input (422, nothing written), 409 on a step the state refuses, 404 for a task
outside the caller's units or a guessed id, 403 for a co-handler acting for the lead or a unit reviewing its own
task; bounded queries on the list; the workbench source."""

from __future__ import annotations

import json
import uuid
from datetime import date

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.test.utils import override_settings

from tests.collab.world import build_collab_world, principal
from yiwang.collab.models import Task, TaskEvidence, TaskReport
from yiwang.collab.services.tasks import task_accept, task_issue, task_submit
from yiwang.collab.workbench_tasks import SOURCE, TasksSource
from yiwang.core.workbench import Cursor, TodoQuery

pytestmark = pytest.mark.django_db
BASE = "/api/collab/tasks"
PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
    b"\x00\x00\x00\rIDATx\x9cc\xf8\xcf\xc0\xf0\x1f\x00\x05\x00\x01\xff\x89\x99=\x1d\x00\x00\x00\x00IEND\xaeB`\x82"
)


@pytest.fixture(scope="module")
def _world(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock(), transaction.atomic():
        with override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]):
            world = build_collab_world()
        yield world
        transaction.set_rollback(True)


@pytest.fixture
def w(db, clock, _world):
    return _world


def _login(client, staff):
    client.force_login(staff.account)
    return client


def _post(client, url, body=None, **extra):
    return client.post(url, data=json.dumps(body or {}), content_type="application/json", **extra)


def _problem(response, status):
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/problem+json")
    return response.json()


def _issue(w, **kw) -> Task:
    args = dict(
        actor=principal(w.leader),
        title="优化营商环境",
        lead_department=w.d_scj,
        co_departments=[w.d_mzj],
        due_on=date(2026, 3, 31),
        milestones=[("制定方案", date(2026, 3, 10))],
    )
    args.update(kw)
    return task_issue(**args)


def test_issue_by_api(client, w):
    _login(client, w.office)
    body = {
        "title": "一网协同推广",
        "description": "各单位完成账号激活",
        "lead_department": "SCJ",
        "co_departments": ["MZJ", "SFJD"],
        "due_on": "2026-03-31",
        "milestones": [{"title": "摸底", "due_on": "2026-03-06"}],
        "report_every_workdays": 5,
    }
    response = _post(client, BASE, body)
    assert response.status_code == 201, response.content
    data = response.json()
    assert data["code"] == "DB202603020001" and data["status"] == "issued"
    assert [u["department"]["code"] for u in data["units"]] == ["MZJ", "SFJD", "SCJ"] or len(
        data["units"]
    ) == 3
    assert data["milestones"][0]["title"] == "摸底"
    assert data["history"][0]["kind"] == "issued"
    assert data["next_report_due"] == "2026-03-09"


@pytest.mark.parametrize(
    "change, field",
    [
        ({"title": ""}, "title"),
        ({"due_on": "2026-03-01"}, "due_on"),
        ({"lead_department": "NOPE"}, "lead_department"),
        ({"co_departments": ["SCJ"]}, "co_departments"),
        ({"milestones": [{"title": "晚", "due_on": "2026-05-01"}]}, "milestones"),
        ({"report_every_workdays": 99}, "report_every_workdays"),
    ],
)
def test_issue_refuses_bad_input(client, w, change, field):
    _login(client, w.office)
    body = {"title": "任务", "lead_department": "SCJ", "due_on": "2026-03-31", **change}
    problem = _problem(_post(client, BASE, body), 422)
    assert any(field in e["field"] for e in problem["errors"]), problem
    assert not Task.objects.exists()


def test_issue_in_english(client, w):
    _login(client, w.office)
    body = {"title": "x", "lead_department": "SCJ", "due_on": "2026-03-01"}
    problem = _problem(_post(client, BASE, body, HTTP_ACCEPT_LANGUAGE="en"), 422)
    assert any("today" in e["message"] for e in problem["errors"]), problem


def test_issue_forbidden_without_task_issue(client, w):
    _login(client, w.scj_approver)
    _problem(_post(client, BASE, {"title": "x", "lead_department": "SCJ", "due_on": "2026-03-31"}), 403)
    _login(client, w.scj_head)  # MEETING_CONVENE only: a manual task is refused
    _problem(_post(client, BASE, {"title": "x", "lead_department": "MZJ", "due_on": "2026-03-31"}), 403)
    client.logout()
    _problem(_post(client, BASE, {"title": "x", "lead_department": "SCJ", "due_on": "2026-03-31"}), 401)


def test_list_scopes(client, w):
    _issue(w)
    _issue(w, lead_department=w.d_mzj, co_departments=[])
    _login(client, w.scj_head)
    assert [t["lead_department"]["code"] for t in client.get(BASE).json()["items"]] == ["SCJ"]
    _login(client, w.mzj_head)
    assert len(client.get(BASE).json()["items"]) == 2  # lead of one, co of the other
    _login(client, w.village_clerks[0])
    assert client.get(BASE).json()["items"] == []
    _login(client, w.office)
    assert len(client.get(BASE).json()["items"]) == 2
    assert len(client.get(BASE, {"department": "SCJ"}).json()["items"]) == 1
    assert client.get(BASE, {"department": "NOPE"}).json()["items"] == []
    assert len(client.get(BASE, {"q": "营商"}).json()["items"]) == 2
    assert client.get(BASE, {"status": "done"}).json()["items"] == []
    _problem(client.get(BASE, {"status": "bogus"}), 422)
    _problem(client.get(BASE, {"cursor": "!!!"}), 422)


def test_list_pages_with_bounded_queries(client, w, django_assert_max_num_queries):
    for i in range(7):
        _issue(w, title=f"任务{i}", due_on=date(2026, 3, 10 + i), milestones=[])
    _login(client, w.office)
    seen = []
    cursor = None
    while True:
        params = {"limit": 3, **({"cursor": cursor} if cursor else {})}
        with django_assert_max_num_queries(8):
            data = client.get(BASE, params).json()
        seen += [t["title"] for t in data["items"]]
        cursor = data["next_cursor"]
        if not cursor:
            break
    assert seen == [f"任务{i}" for i in range(7)]


def test_detail_queries_are_bounded(client, w, django_assert_max_num_queries):
    task = _issue(w)
    task_accept(actor=principal(w.scj_head), task=task)
    _login(client, w.scj_head)
    for i in range(3):
        upload = SimpleUploadedFile(f"p{i}.png", PNG, content_type="image/png")
        client.post(
            f"{BASE}/{task.public_id}/reports", {"body": f"第{i}次", "progress": 10 * i, "files": [upload]}
        )
    with django_assert_max_num_queries(16):
        data = client.get(f"{BASE}/{task.public_id}").json()
    assert len(data["reports"]) == 3 and all(len(r["evidence"]) == 1 for r in data["reports"])


def test_outsiders_get_404(client, w):
    task = _issue(w)
    _login(client, w.town_heads[0])
    for method, url in [
        ("get", f"{BASE}/{task.public_id}"),
        ("post", f"{BASE}/{task.public_id}/accept"),
        ("post", f"{BASE}/{task.public_id}/submit"),
        ("get", f"{BASE}/{uuid.uuid4()}"),
    ]:
        response = getattr(client, method)(
            url, **({"content_type": "application/json"} if method == "post" else {})
        )
        _problem(response, 404)
    _problem(client.get(f"{BASE}/not-a-uuid"), 404)


def test_unit_flow_with_evidence(client, w):
    task = _issue(w)
    _login(client, w.scj_head)
    data = _post(client, f"{BASE}/{task.public_id}/accept").json()
    assert data["status"] == "in_progress"
    assert data["actions"] == ["report", "milestone", "submit"]
    _problem(_post(client, f"{BASE}/{task.public_id}/accept"), 409)
    upload = SimpleUploadedFile("现场.png", PNG, content_type="image/png")
    response = client.post(
        f"{BASE}/{task.public_id}/reports",
        {"body": "方案已印发", "progress": "60", "milestone": "1", "files": [upload]},
    )
    assert response.status_code == 200, response.content
    data = response.json()
    assert data["progress"] == 60
    evidence = data["reports"][0]["evidence"][0]
    assert evidence["name"] == "现场.png"
    download = client.get(evidence["url"])
    assert download.status_code == 200 and b"".join(download.streaming_content) == PNG
    _login(client, w.town_heads[0])
    _problem(client.get(evidence["url"]), 404)
    _login(client, w.scj_head)
    data = _post(client, f"{BASE}/{task.public_id}/milestones/1/done").json()
    assert data["milestones"][0]["done_at"]
    _problem(_post(client, f"{BASE}/{task.public_id}/milestones/9/done"), 422)
    data = _post(client, f"{BASE}/{task.public_id}/submit", {"note": "完成"}).json()
    assert data["status"] == "submitted"
    _login(client, w.leader)
    _problem(_post(client, f"{BASE}/{task.public_id}/review", {"decision": "return"}), 422)
    data = _post(client, f"{BASE}/{task.public_id}/review", {"decision": "return", "note": "补充材料"}).json()
    assert data["status"] == "in_progress" and data["review_note"] == "补充材料"
    _login(client, w.scj_head)
    _post(client, f"{BASE}/{task.public_id}/submit")
    _login(client, w.office)
    data = _post(client, f"{BASE}/{task.public_id}/review", {"decision": "done"}).json()
    assert data["status"] == "done"
    assert [h["kind"] for h in data["history"]] == [
        "issued",
        "accepted",
        "reported",
        "milestone",
        "submitted",
        "returned",
        "submitted",
        "done",
    ]
    stats = client.get(f"{BASE}/stats").json()
    assert stats["by_status"]["done"] == 1
    assert stats["departments"] == [
        {"code": "SCJ", "name": w.d_scj.name, "closed": 1, "on_time": 1, "rate": 1.0}
    ]


@pytest.mark.parametrize(
    "name, content",
    [("a.pdf", b"MZ\x90\x00not a pdf at all"), ("b.png", b""), ("c.png", PNG[:20])],
)
def test_evidence_refused(client, w, name, content):
    task = _issue(w)
    task_accept(actor=principal(w.scj_head), task=task)
    _login(client, w.scj_head)
    upload = SimpleUploadedFile(name, content, content_type="image/png")
    problem = _problem(
        client.post(
            f"{BASE}/{task.public_id}/reports", {"body": "进展", "progress": "10", "files": [upload]}
        ),
        422,
    )
    assert any(e["field"] == "files" for e in problem["errors"])
    assert not TaskReport.objects.exists() and not TaskEvidence.objects.exists()


def test_report_field_errors(client, w):
    task = _issue(w)
    task_accept(actor=principal(w.scj_head), task=task)
    _login(client, w.scj_head)
    problem = _problem(client.post(f"{BASE}/{task.public_id}/reports", {"body": "", "progress": "150"}), 422)
    assert {e["field"] for e in problem["errors"]} >= {"body"}


def test_co_handler_cannot_submit_and_unit_cannot_review_its_own(client, w):
    task = _issue(w)
    task_accept(actor=principal(w.scj_head), task=task)
    _login(client, w.mzj_head)
    _post(client, f"{BASE}/{task.public_id}/accept")
    _problem(_post(client, f"{BASE}/{task.public_id}/submit"), 403)
    _problem(_post(client, f"{BASE}/{task.public_id}/milestones/1/done"), 403)
    _problem(_post(client, f"{BASE}/{task.public_id}/review", {"decision": "done"}), 403)  # no TASK_ISSUE
    own = _issue(w, lead_department=w.d_office, co_departments=[])
    task_accept(actor=principal(w.office), task=own)
    task_submit(actor=principal(w.office), task=own)
    _login(client, w.leader)
    _problem(_post(client, f"{BASE}/{own.public_id}/review", {"decision": "done"}), 403)


def test_cancel_and_note(client, w):
    task = _issue(w)
    _login(client, w.leader)
    data = _post(client, f"{BASE}/{task.public_id}/notes", {"note": "抓紧推进"}).json()
    assert data["history"][-1]["kind"] == "note"
    _problem(_post(client, f"{BASE}/{task.public_id}/cancel", {"reason": " "}), 422)
    assert (
        _post(client, f"{BASE}/{task.public_id}/cancel", {"reason": "调整"}).json()["status"] == "cancelled"
    )
    _problem(_post(client, f"{BASE}/{task.public_id}/cancel", {"reason": "再撤"}), 409)
    _login(client, w.scj_head)
    _problem(_post(client, f"{BASE}/{task.public_id}/notes", {"note": "x"}), 403)


# --- the workbench source ---------------------------------------------------------------------------------------
def test_workbench_source(w, clock):
    source = TasksSource()
    first = _issue(w, due_on=date(2026, 3, 20), milestones=[])
    second = _issue(w, due_on=date(2026, 3, 25), milestones=[])
    scj = principal(w.scj_head)
    items = source.items(scj, TodoQuery(limit=10))
    assert [(i.key, i.action) for i in items] == [(first.code, "签收"), (second.code, "签收")]
    assert source.count(scj) == 2
    page = source.items(scj, TodoQuery(after=Cursor.of(items[0]), limit=10))
    assert [i.key for i in page] == [second.code]
    task_accept(actor=scj, task=first)
    items = source.items(scj, TodoQuery(limit=10))
    assert (
        items[0].source == SOURCE and items[0].action == "报送进展"
    )  # report due 16 March, before the due date
    assert items[0].deadline.date() == date(2026, 3, 16)
    task_submit(actor=scj, task=first)
    assert [i.key for i in source.items(scj, TodoQuery(limit=10))] == [second.code]
    leader_items = source.items(principal(w.leader), TodoQuery(limit=10))
    assert [(i.key, i.action) for i in leader_items] == [(first.code, "审核办结")]
    assert source.items(principal(w.village_clerks[0]), TodoQuery(limit=10)) == []
    assert source.applies(principal(w.village_clerks[0]))
