"""Adoption figures and the activity they count: the middleware records one StaffActivity per staff member and local
day (once per process, never failing a request); the figures per department and town (accounts, activated, daily
and weekly active, overdue to-dos) in a fixed number of queries; the page and who may open it."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from django.core.exceptions import PermissionDenied
from django.db import DatabaseError

from tests.collab.workbench_rows import (  # noqa: F401  (the autouse fixture)
    _fresh_activity_memo,
    case_at,
    incident,
    objection,
    resource,
    review_item,
)
from tests.collab.world import build_collab_world, principal
from tests.factories import AccountFactory, DepartmentFactory, staff_with_roles
from yiwang.collab import middleware
from yiwang.collab.models import StaffActivity
from yiwang.collab.selectors.adoption import adoption_figures
from yiwang.core.models import Account
from yiwang.core.permissions import Role
from yiwang.core.workbench import LOCAL

pytestmark = pytest.mark.django_db


@pytest.fixture
def w(db, clock):
    return build_collab_world()


MIDDLEWARE = "yiwang.collab.middleware.StaffActivityMiddleware"


@pytest.fixture
def recording(settings):
    """The middleware in the stack (until the lead wires it in settings: then this changes nothing)."""
    if MIDDLEWARE not in settings.MIDDLEWARE:
        settings.MIDDLEWARE = [*settings.MIDDLEWARE, MIDDLEWARE]


def _seen(staff, day: date):
    StaffActivity.objects.create(
        staff=staff,
        department=staff.department,
        day=day,
        first_seen_at=datetime.combine(day, datetime.min.time(), tzinfo=LOCAL),
    )


# --- the middleware -------------------------------------------------------------------------------------------
def test_a_staff_request_records_the_day_once(client, w, recording):
    client.force_login(w.scj_approver.account)
    client.get("/collab/")
    client.get("/collab/")
    client.get("/api/collab/workbench")
    rows = list(StaffActivity.objects.filter(staff=w.scj_approver))
    assert [(r.day, r.department_id) for r in rows] == [(date(2026, 3, 2), w.d_scj.pk)]


def test_a_new_local_day_is_a_new_row(client, w, clock, recording):
    clock.set(2026, 3, 2, 23, 59)
    client.force_login(w.scj_approver.account)  # (the session's idle timeout follows the clock)
    client.get("/collab/")
    clock.set(2026, 3, 3, 0, 1)  # Shanghai's new day (UTC is still on the 2nd)
    client.get("/collab/")
    days = sorted(StaffActivity.objects.filter(staff=w.scj_approver).values_list("day", flat=True))
    assert days == [date(2026, 3, 2), date(2026, 3, 3)]


def test_the_memo_means_one_write_per_process_and_day(w):
    assert middleware.staff_activity_record(w.office.account_id) is True
    assert middleware.staff_activity_record(w.office.account_id) is False
    middleware.activity_memo_reset()
    assert middleware.staff_activity_record(w.office.account_id) is True  # conflict ignored, still one row
    assert StaffActivity.objects.filter(staff=w.office).count() == 1


def test_citizens_anonymous_and_inactive_staff_are_not_recorded(client, w, recording):
    client.get("/collab/")
    client.force_login(AccountFactory(citizen=True))
    client.get("/")
    w.mzj_head.is_active = False
    w.mzj_head.save(update_fields=["is_active"])
    client.force_login(w.mzj_head.account)
    client.get("/")
    assert StaffActivity.objects.count() == 0


def test_a_failing_write_never_fails_the_request(client, w, monkeypatch):
    def broken(account_id):
        raise DatabaseError("disk full")

    monkeypatch.setattr(middleware, "staff_activity_record", broken)
    handler = middleware.StaffActivityMiddleware(lambda request: "response")

    class Request:
        pass

    request = Request()
    request.__dict__["_cached_user"] = w.scj_approver.account
    assert handler(request) == "response"
    monkeypatch.setattr(middleware, "staff_activity_record", lambda account_id: 1 / 0)
    assert handler(request) == "response"


# --- the figures ----------------------------------------------------------------------------------------------
def test_figures_per_department_and_town(w, clock):
    today = date(2026, 3, 2)
    Account.objects.filter(pk__in=[w.scj_approver.account_id, w.scj_head.account_id]).update(
        last_login=datetime(2026, 2, 1, 9, tzinfo=LOCAL)
    )
    _seen(w.scj_approver, today)
    _seen(w.scj_approver, today - timedelta(days=1))
    _seen(w.scj_head, today - timedelta(days=6))  # inside the week
    _seen(w.dataofficer, today - timedelta(days=7))  # just outside
    _seen(w.village_clerks[0], today)
    _seen(w.grid_workers[0], today - timedelta(days=2))
    item = review_item(w.d_scj)
    case_at(item, due=date(2026, 2, 27))  # overdue
    case_at(item, due=date(2026, 3, 3))  # not yet
    incident(department=w.d_scj, due=datetime(2026, 3, 1, 9, tzinfo=LOCAL))  # overdue
    objection(resource(w.d_mzj), w.d_mzj, due=date(2026, 2, 20))  # overdue at MZJ

    figures = adoption_figures(principal(w.office))
    rows = {r.code: r for r in figures.departments}
    scj = rows["SCJ"]
    assert (scj.accounts, scj.activated, scj.daily, scj.weekly, scj.overdue) == (3, 2, 1, 2, 2)
    assert scj.activated_pct == 66.7 and scj.daily_pct == 33.3
    assert rows["MZJ"].overdue == 1
    towns = {t.code: t for t in figures.towns}
    first = towns["440199001"]  # the town office, its command centre (4 grid workers), 2 villages
    assert first.accounts == 1 + 4 + 2
    assert (first.daily, first.weekly) == (1, 2)
    assert towns["440199002"].weekly == 0
    assert figures.total.accounts == sum(r.accounts for r in figures.departments)


def test_figures_cost_a_fixed_number_of_queries(w, django_assert_max_num_queries):
    p = principal(w.leader)
    with django_assert_max_num_queries(30) as few:
        adoption_figures(p)
    for n in range(12):
        dept = DepartmentFactory(code=f"X{n:02d}", name=f"新部门{n}", division=w.district)
        _seen(staff_with_roles(Role.APPROVER, department=dept, username=f"x{n}"), date(2026, 3, 2))
    with django_assert_max_num_queries(len(few.captured_queries)):
        figures = adoption_figures(p)
    assert len(figures.departments) >= 12


def test_figures_need_the_permission(w):
    with pytest.raises(PermissionDenied):
        adoption_figures(principal(w.scj_head))


def test_adoption_page(client, w):
    _seen(w.scj_approver, date(2026, 3, 2))
    client.force_login(w.scj_approver.account)
    assert client.get("/collab/adoption/").status_code == 403
    client.force_login(w.leader.account)
    response = client.get("/collab/adoption/")
    html = response.content.decode()
    assert response.status_code == 200
    assert 'data-testid="adoption-departments"' in html and 'data-testid="adoption-towns"' in html
    assert 'id="adoption-data"' in html and "collab/adoption" in html
    assert 'data-code="SCJ"' in html
