"""Pages of 双随机、一公开: the roster, planning a draw (field errors in Chinese, nothing written), the draw page
(commitment, execute once, revealed seed, verification), the public verification page, the inspector's pages
(only my tasks; others 404), the results page (publish) and the public results page; bounded queries on lists."""

from __future__ import annotations

import uuid

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tests.credit.test_draws_services import build_world, png_bytes
from tests.factories import staff_with_roles
from yiwang.core.models import AuditEntry
from yiwang.core.permissions import Role
from yiwang.credit.models import Conflict, CreditRecord, Draw, InspectionTask, Inspector

pytestmark = pytest.mark.django_db


@pytest.fixture
def w(db, clock, media_and_fast_passwords):
    return build_world()


def _draw_form(w, **changes):
    data = {
        "title": "2026年第一季度食品经营抽查",
        "matter": w.matter.code,
        "towns": [t.code for t in w.towns],
        "kinds": ["enterprise"],
        "count": "3",
        "inspectors_per_object": "2",
        "weight_A": "1",
        "weight_B": "2",
        "weight_C": "3",
        "weight_D": "4",
        "weight_priority": "2",
        "due_date": "2026-03-31",
    }
    data.update(changes)
    return data


def _planned(client, w) -> Draw:
    client.force_login(w.planner.account)
    response = client.post("/credit/supervision/draws/new/", _draw_form(w))
    assert response.status_code == 302, response.content.decode()[:2000]
    return Draw.objects.get()


def test_roster_page_and_registration(client, w):
    client.force_login(w.planner.account)
    page = client.get("/credit/supervision/")
    assert page.status_code == 200
    text = page.content.decode()
    assert w.matter.name in text and w.inspectors[0].certificate_no in text
    newcomer = staff_with_roles(Role.INSPECTOR, department=w.dept)
    bad = client.post(
        "/credit/supervision/",
        {
            "action": "inspector",
            "staff": str(newcomer.public_id),
            "certificate_no": w.inspectors[0].certificate_no,
        },
    )
    assert bad.status_code == 422 and "该执法证号已登记。" in bad.content.decode()
    ok = client.post(
        "/credit/supervision/",
        {"action": "inspector", "staff": str(newcomer.public_id), "certificate_no": "44019988"},
    )
    assert ok.status_code == 302 and Inspector.objects.filter(staff=newcomer).exists()
    org = w.orgs[0]
    ok = client.post(
        "/credit/supervision/",
        {"action": "conflict", "inspector": "44019988", "organisation": org.uscc, "reason": "配偶任职"},
    )
    assert ok.status_code == 302 and Conflict.objects.filter(organisation=org).exists()
    bad = client.post(
        "/credit/supervision/",
        {"action": "conflict", "inspector": "44019988", "organisation": "9" * 18, "reason": "配偶任职"},
    )
    assert bad.status_code == 422 and "法人库中没有这个统一社会信用代码。" in bad.content.decode()


def test_roster_forbidden_to_inspectors_and_anonymous(client, w):
    assert client.get("/credit/supervision/").status_code == 302  # to the login page
    client.force_login(w.inspector_staff[0].account)
    assert client.get("/credit/supervision/").status_code == 403
    assert client.get("/credit/supervision/draws/new/").status_code == 403


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"count": "0"}, "确保该值大于或等于1"),
        ({"count": "13"}, "超过符合条件的检查对象数"),
        ({"inspectors_per_object": "1"}, "确保该值大于或等于2"),
        ({"count": "abc"}, "输入整数"),
        ({"due_date": "2026-02-01"}, "检查完成期限不能早于今天。"),
    ],
)
def test_plan_invalid_shows_field_errors(client, w, changes, message):
    client.force_login(w.planner.account)
    before = AuditEntry.objects.count()
    response = client.post("/credit/supervision/draws/new/", _draw_form(w, **changes))
    assert response.status_code == 422
    assert message in response.content.decode()
    assert not Draw.objects.exists() and AuditEntry.objects.count() == before


def test_plan_execute_and_verify_pages(client, w):
    draw = _planned(client, w)
    page = client.get(f"/credit/supervision/draws/{draw.public_id}/").content.decode()
    assert draw.seed_commitment in page and draw.seed not in page and 'data-testid="draw-execute"' in page
    public = client.get(f"/credit/public/draws/{draw.number}/")
    assert draw.seed not in public.content.decode()
    response = client.post(f"/credit/supervision/draws/{draw.public_id}/execute/")
    assert response.status_code == 302
    draw.refresh_from_db()
    assert draw.status == "revealed" and draw.tasks.count() == 3
    page = client.get(f"/credit/supervision/draws/{draw.public_id}/").content.decode()
    assert draw.seed in page and 'data-testid="verify-ok"' in page
    again = client.post(f"/credit/supervision/draws/{draw.public_id}/execute/", follow=True)
    assert "不能重新抽取" in again.content.decode()
    assert draw.tasks.count() == 3
    client.logout()
    public = client.get(f"/credit/public/draws/{draw.number}/")
    assert public.status_code == 200
    text = public.content.decode()
    assert draw.seed in text and 'data-testid="verify-ok"' in text
    assert client.get("/credit/public/draws/CC20000101001/").status_code == 404


def test_other_department_draw_is_404(client, w):
    draw = _planned(client, w)
    client.force_login(w.other_planner.account)
    assert client.get(f"/credit/supervision/draws/{draw.public_id}/").status_code == 404
    assert client.post(f"/credit/supervision/draws/{draw.public_id}/execute/").status_code == 404
    draw.refresh_from_db()
    assert draw.status == "committed"


def test_inspector_records_and_department_publishes(client, w):
    draw = _planned(client, w)
    client.post(f"/credit/supervision/draws/{draw.public_id}/execute/")
    task = draw.tasks.order_by("position").first()
    assigned = {i.staff_id for i in task.inspectors.all()}
    mine = next(s for s in w.inspector_staff if s.pk in assigned)
    outsider = next(s for s in w.inspector_staff if s.pk not in assigned)
    client.force_login(outsider.account)
    assert client.get(f"/credit/inspections/{task.public_id}/").status_code == 404
    assert str(task.public_id) not in client.get("/credit/inspections/").content.decode()
    assert client.get(f"/credit/inspections/{uuid.uuid4()}/").status_code == 404
    client.force_login(mine.account)
    listing = client.get("/credit/inspections/").content.decode()
    assert str(task.public_id) in listing
    url = f"/credit/inspections/{task.public_id}/"
    bad = client.post(url, {"result": "penalty", "findings": "未亮证经营"})
    assert bad.status_code == 422 and "依法处罚的，请填写大于 0 的罚款金额。" in bad.content.decode()
    bad = client.post(
        url,
        {"result": "compliant", "findings": "x", "photos": [SimpleUploadedFile("a.png", b"%PDF-1.4 fake")]},
    )
    assert bad.status_code == 422 and "photo-errors" in bad.content.decode()
    task.refresh_from_db()
    assert task.status == "assigned"
    ok = client.post(
        url,
        {
            "result": "rectified",
            "findings": "进货查验记录不全，已责令整改。",
            "photos": [SimpleUploadedFile("现场.png", png_bytes(), content_type="image/png")],
        },
    )
    assert ok.status_code == 302
    task.refresh_from_db()
    assert task.status == "done" and task.photos.count() == 1
    assert CreditRecord.objects.filter(ref_id=str(task.public_id), kind="inspection").exists()
    # the department publishes
    client.force_login(w.other_planner.account)
    assert client.post(f"/credit/supervision/results/{task.public_id}/publish/").status_code == 404
    client.force_login(w.planner.account)
    results = client.get("/credit/supervision/results/").content.decode()
    assert str(task.public_id) in results
    assert client.post(f"/credit/supervision/results/{task.public_id}/publish/").status_code == 302
    task.refresh_from_db()
    assert task.status == "published"
    client.logout()
    public = client.get("/credit/public/inspections/")
    assert public.status_code == 200 and task.organisation.uscc in public.content.decode()
    assert "进货查验记录不全" in public.content.decode()


def test_list_pages_query_counts(client, w, django_assert_max_num_queries):
    for _n in range(2):
        draw = _planned(client, w) if not Draw.objects.exists() else None
        if draw is None:
            client.post("/credit/supervision/draws/new/", _draw_form(w, title="第二批"))
    for draw in Draw.objects.all():
        client.post(f"/credit/supervision/draws/{draw.public_id}/execute/")
    assert InspectionTask.objects.count() == 6
    with django_assert_max_num_queries(25):
        assert client.get("/credit/supervision/").status_code == 200
    with django_assert_max_num_queries(20):
        assert client.get("/credit/supervision/results/?status=assigned").status_code == 200
    mine = InspectionTask.objects.order_by("id").first().inspectors.select_related("staff").first().staff
    client.force_login(mine.account)
    with django_assert_max_num_queries(20):
        response = client.get("/credit/inspections/")
    assert response.status_code == 200 and "data-task=" in response.content.decode()
    InspectionTask.objects.update(status="published", result="compliant", findings="未发现问题")
    for task in InspectionTask.objects.all():
        task.published_at = task.draw.created_at
        task.save(update_fields=["published_at"])
    client.logout()
    with django_assert_max_num_queries(10):
        response = client.get("/credit/public/inspections/")
    assert response.status_code == 200 and response.content.decode().count("data-uscc=") == 6


def test_admin_scoped_to_department(client, w):
    draw = _planned(client, w)
    client.post(f"/credit/supervision/draws/{draw.public_id}/execute/")
    for staff in (w.planner, w.other_planner):
        staff.account.is_staff = True
        staff.account.save(update_fields=["is_staff"])
    client.force_login(w.planner.account)
    for model in ("inspectionmatter", "inspector", "conflict", "draw", "inspectiontask"):
        assert client.get(f"/admin/credit/{model}/").status_code == 200, model
    page = client.get(f"/admin/credit/draw/{draw.pk}/change/")
    assert page.status_code == 200 and draw.seed not in page.content.decode()
    assert client.get(f"/admin/credit/inspectionmatter/{w.matter.pk}/change/").status_code == 200
    client.force_login(w.other_planner.account)
    assert draw.number not in client.get("/admin/credit/draw/").content.decode()
    assert client.get(f"/admin/credit/draw/{draw.pk}/change/").status_code in (302, 404)
    client.force_login(w.inspector_staff[0].account)
    w.inspector_staff[0].account.is_staff = True
    w.inspector_staff[0].account.save(update_fields=["is_staff"])
    assert client.get("/admin/credit/draw/").status_code == 403


def test_object_roster_page(client, w, django_assert_max_num_queries):
    client.force_login(w.planner.account)
    with django_assert_max_num_queries(15):
        page = client.get("/credit/supervision/objects/", {"town": w.towns[1].code})
    assert page.status_code == 200
    text = page.content.decode()
    inside = [o for o in w.orgs if o.division.code.startswith(w.towns[1].code)]
    outside = [o for o in w.orgs if not o.division.code.startswith(w.towns[1].code)]
    assert all(o.uscc in text for o in inside) and not any(o.uscc in text for o in outside)
    assert client.get("/credit/supervision/objects/?cursor=%%%").status_code == 200
