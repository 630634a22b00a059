"""督办 pages: the list with filters and level lights, the new-task form (errors shown, nothing written), the detail
with the caller's actions, the HTMX action forms (errors swapped in place, success redirects), evidence refused,
404 for outsiders, 403 for the form without TASK_ISSUE, bounded queries on the list."""

from __future__ import annotations

from datetime import date

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.test.utils import override_settings
from django.urls import reverse

from tests.collab.world import build_collab_world, principal
from yiwang.collab.models import Task, TaskReport
from yiwang.collab.services.tasks import task_accept, task_issue, task_submit

pytestmark = pytest.mark.django_db
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


def _act(task, action):
    return reverse("collab:task_act", args=[task.public_id, action])


def test_list_shows_my_units_tasks_with_lights(client, w):
    mine = _issue(w)
    Task.objects.filter(pk=mine.pk).update(level=Task.Level.SUPERVISED)
    other = _issue(w, title="民政专项", lead_department=w.d_mzj, co_departments=[])
    _login(client, w.scj_head)
    response = client.get(reverse("collab:tasks"))
    assert response.status_code == 200
    html = response.content.decode()
    assert mine.code in html and other.code not in html
    assert 'data-level="3"' in html and "badge-danger" in html
    assert 'data-testid="task-new"' not in html
    _login(client, w.office)
    html = client.get(reverse("collab:tasks"), {"level": "3"}).content.decode()
    assert mine.code in html and other.code not in html and 'data-testid="task-new"' in html
    html = client.get(reverse("collab:tasks"), {"department": "MZJ", "q": "民政"}).content.decode()
    assert other.code in html and mine.code not in html
    assert client.get(reverse("collab:tasks"), {"cursor": "@@@"}).status_code == 302


def test_list_queries_are_bounded(client, w, django_assert_max_num_queries):
    for i in range(12):
        _issue(w, title=f"任务{i}", milestones=[])
    _login(client, w.office)
    client.get(reverse("collab:tasks"))
    with django_assert_max_num_queries(20):
        response = client.get(reverse("collab:tasks"))
    assert response.content.decode().count("data-task=") == 12


def test_new_task_form(client, w):
    _login(client, w.office)
    assert client.get(reverse("collab:task_new")).status_code == 200
    response = client.post(
        reverse("collab:task_new"),
        {
            "title": "背街小巷整治",
            "lead_department": "SCJ",
            "co_departments": ["MZJ"],
            "due_on": "2026-03-01",
            "milestones": "摸底",
            "report_every_workdays": "10",
        },
    )
    assert response.status_code == 422
    assert "节点名称 | YYYY-MM-DD" in response.content.decode()
    response = client.post(
        reverse("collab:task_new"),
        {
            "title": "背街小巷整治",
            "lead_department": "SCJ",
            "co_departments": ["MZJ"],
            "due_on": "2026-03-01",
            "milestones": "",
            "report_every_workdays": "10",
        },
    )
    assert response.status_code == 422 and "办结时限不能早于今天" in response.content.decode()
    assert not Task.objects.exists()
    response = client.post(
        reverse("collab:task_new"),
        {
            "title": "背街小巷整治",
            "lead_department": "SCJ",
            "co_departments": ["MZJ"],
            "due_on": "2026-03-31",
            "milestones": "摸底 | 2026-03-06\n整治 | 2026-03-27",
            "report_every_workdays": "10",
        },
    )
    task = Task.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse(
        "collab:task_detail", args=[task.public_id]
    )
    assert task.milestones.count() == 2


def test_new_task_needs_task_issue(client, w):
    _login(client, w.scj_head)
    assert client.get(reverse("collab:task_new")).status_code == 403


def test_detail_and_actions_per_role(client, w):
    task = _issue(w)
    url = reverse("collab:task_detail", args=[task.public_id])
    _login(client, w.scj_head)
    html = client.get(url).content.decode()
    assert 'data-testid="task-accept"' in html and 'data-testid="review-form"' not in html
    _login(client, w.leader)
    html = client.get(url).content.decode()
    assert 'data-testid="task-cancel"' in html and 'data-testid="task-accept"' not in html
    _login(client, w.town_heads[0])
    assert client.get(url).status_code == 404
    assert client.post(_act(task, "accept")).status_code == 404
    assert (
        client.get(reverse("collab:task_detail", args=["00000000-0000-0000-0000-000000000000"])).status_code
        == 404
    )


def test_htmx_accept_report_submit_review(client, w):
    task = _issue(w)
    _login(client, w.scj_head)
    response = client.post(_act(task, "accept"), HTTP_HX_REQUEST="true")
    assert response.status_code == 204 and response["HX-Redirect"].endswith(f"/tasks/{task.public_id}/")
    # a refused report comes back as the actions panel with its errors, nothing written
    bad = SimpleUploadedFile("x.pdf", b"MZ not a pdf", content_type="application/pdf")
    response = client.post(
        _act(task, "report"), {"body": "进展", "progress": "30", "files": [bad]}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200 and "格式不受支持" in response.content.decode()
    assert 'id="task-actions"' in response.content.decode()
    response = client.post(_act(task, "report"), {"body": "", "progress": "300"})
    assert response.status_code == 422
    assert not TaskReport.objects.exists()
    good = SimpleUploadedFile("p.png", PNG, content_type="image/png")
    response = client.post(
        _act(task, "report"), {"body": "进展顺利", "progress": "80", "milestone": "1", "files": [good]}
    )
    assert response.status_code == 302
    html = client.get(reverse("collab:task_detail", args=[task.public_id])).content.decode()
    assert "进展顺利" in html and "p.png" in html and "80%" in html
    evidence = TaskReport.objects.get().evidence.get()
    download = client.get(reverse("collab:task_evidence", args=[task.public_id, evidence.public_id]))
    assert download.status_code == 200
    assert client.post(_act(task, "milestone"), {"position": "1"}).status_code == 302
    assert client.post(_act(task, "submit"), {"note": "已完成"}).status_code == 302
    assert client.post(_act(task, "submit")).status_code == 409  # already submitted
    _login(client, w.office)
    response = client.post(_act(task, "review"), {"decision": "return", "note": ""}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and "请填写退回理由" in response.content.decode()
    assert client.post(_act(task, "review"), {"decision": "done", "note": "同意"}).status_code == 302
    task.refresh_from_db()
    assert task.status == Task.Status.DONE


def test_co_handler_cannot_submit_page(client, w):
    task = _issue(w)
    task_accept(actor=principal(w.scj_head), task=task)
    _login(client, w.mzj_head)
    assert client.post(_act(task, "submit")).status_code == 403
    assert client.post(_act(task, "bogus")).status_code == 404


def test_unit_cannot_review_its_own_page(client, w):
    task = _issue(w, lead_department=w.d_office, co_departments=[])
    task_accept(actor=principal(w.office), task=task)
    task_submit(actor=principal(w.office), task=task)
    _login(client, w.leader)
    html = client.get(reverse("collab:task_detail", args=[task.public_id])).content.decode()
    assert 'data-testid="review-form"' not in html
    assert client.post(_act(task, "review"), {"decision": "done"}).status_code == 403


def test_pages_in_english(client, w):
    _issue(w)
    _login(client, w.office)
    html = client.get(reverse("collab:tasks"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Supervised tasks" in html


def test_admin_read_only_with_the_sweep_action(client, w, clock):
    task = _issue(w, due_on=date(2026, 3, 3), milestones=[])
    task_accept(actor=principal(w.scj_head), task=task)
    for staff in (w.office, w.scj_head):
        staff.account.is_staff = True
        staff.account.save(update_fields=["is_staff"])
    clock.set(2026, 3, 10)  # 5 working days over (signed in after: the idle logout follows the clock)
    client.force_login(w.office.account)
    listing = client.get(reverse("admin:collab_task_changelist"))
    assert listing.status_code == 200 and task.code in listing.content.decode()
    change = client.get(reverse("admin:collab_task_change", args=[task.pk]))
    assert change.status_code == 200 and 'name="_save"' not in change.content.decode()
    response = client.post(
        reverse("admin:collab_task_changelist"),
        {"action": "escalate_now", "index": "0", "_selected_action": [task.pk]},
    )
    assert response.status_code == 302 and response["Location"] == reverse("admin:collab_task_changelist")
    task.refresh_from_db()
    assert task.level == Task.Level.SUPERVISED
    client.force_login(w.scj_head.account)
    assert client.get(reverse("admin:collab_task_changelist")).status_code == 403
