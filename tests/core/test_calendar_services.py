"""Calendar services (audited, permission-checked, validated), the cached loader and the CalendarDay admin."""

from __future__ import annotations

from datetime import date

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from tests.factories import AccountFactory, staff_with_roles
from yiwang.core import calendar_data
from yiwang.core.audit import audit_verify
from yiwang.core.models import AuditEntry, CalendarDay
from yiwang.core.principal import Principal
from yiwang.core.services.calendar import calendar_day_delete, calendar_day_set, calendar_load_year
from yiwang.core.workdays import add_working_days, working_calendar, working_calendar_invalidate

D = date
N_2026 = len(calendar_data.schedule(2026))


@pytest.fixture(autouse=True)
def fresh_calendar_cache():
    working_calendar_invalidate()
    yield
    working_calendar_invalidate()


@pytest.fixture
def admin_principal(db):
    return Principal.for_account(staff_with_roles("district_admin").account)


def _audit(action: str) -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(action=action).order_by("seq"))


# --- calendar_day_set / calendar_day_delete -------------------------------------------------------------------


@pytest.mark.django_db
def test_day_set_creates_updates_and_audits(admin_principal):
    day = calendar_day_set(actor=admin_principal, date=D(2026, 3, 14), kind="workday", name="  临时调休 ")
    assert (day.date, day.kind, day.name) == (D(2026, 3, 14), "workday", "临时调休")
    (created,) = _audit("calendar.day_set")
    assert created.before is None
    assert created.after == {"date": "2026-03-14", "kind": "workday", "name": "临时调休"}
    assert created.object_id == "2026-03-14" and created.actor_account == admin_principal.account.username

    calendar_day_set(actor=admin_principal, date=D(2026, 3, 14), kind="holiday", name="临时休息")
    assert CalendarDay.objects.get(date=D(2026, 3, 14)).kind == "holiday"
    changed = _audit("calendar.day_set")[-1]
    assert changed.before["kind"] == "workday" and changed.after["kind"] == "holiday"

    # the same values again: no write, no audit entry
    calendar_day_set(actor=admin_principal, date=D(2026, 3, 14), kind="holiday", name="临时休息")
    assert len(_audit("calendar.day_set")) == 2
    assert CalendarDay.objects.count() == 1
    assert audit_verify().ok


@pytest.mark.django_db
def test_day_delete_audits_and_reports_absence(admin_principal):
    calendar_day_set(actor=None, date=D(2026, 3, 16), kind="holiday", name="地方节日")
    assert calendar_day_delete(actor=admin_principal, date=D(2026, 3, 16)) is True
    assert not CalendarDay.objects.exists()
    (entry,) = _audit("calendar.day_delete")
    assert entry.before == {"date": "2026-03-16", "kind": "holiday", "name": "地方节日"}
    assert calendar_day_delete(actor=admin_principal, date=D(2026, 3, 16)) is False
    assert len(_audit("calendar.day_delete")) == 1


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("kwargs", "field", "message"),
    [
        ({"date": D(2026, 3, 16), "kind": "workday", "name": "调休"}, "kind", "周六或周日"),  # a Monday
        ({"date": D(2026, 3, 14), "kind": "party", "name": "调休"}, "kind", "类型"),
        ({"date": D(2026, 3, 14), "kind": "holiday", "name": "   "}, "name", "名称"),
        ({"date": D(2026, 3, 14), "kind": "holiday", "name": "节" * 51}, "name", "50"),
        ({"date": "2026-03-14", "kind": "holiday", "name": "节"}, "date", "日期"),
    ],
)
def test_day_set_rejects_bad_input_with_field_messages(admin_principal, kwargs, field, message):
    with pytest.raises(ValidationError) as exc:
        calendar_day_set(actor=admin_principal, **kwargs)
    assert field in exc.value.message_dict
    assert message in exc.value.message_dict[field][0]
    assert not CalendarDay.objects.exists() and not AuditEntry.objects.exists()


@pytest.mark.django_db
def test_calendar_writes_need_calendar_manage():
    clerk = Principal.for_account(staff_with_roles("window_clerk").account)
    citizen = AccountFactory(citizen=True)
    for actor in (clerk, citizen, staff_with_roles().account):
        with pytest.raises(PermissionDenied):
            calendar_day_set(actor=actor, date=D(2026, 3, 14), kind="workday", name="调休")
        with pytest.raises(PermissionDenied):
            calendar_load_year(actor=actor, year=2026)
    calendar_day_set(actor=None, date=D(2026, 3, 14), kind="workday", name="调休")
    with pytest.raises(PermissionDenied):
        calendar_day_delete(actor=clerk, date=D(2026, 3, 14))
    assert CalendarDay.objects.count() == 1 and len(_audit("calendar.day_set")) == 1

    # a district admin's account (as the admin site passes request.user) may
    admin_account = staff_with_roles("district_admin").account
    assert calendar_day_delete(actor=admin_account, date=D(2026, 3, 14))


# --- calendar_load_year ------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_load_year_is_idempotent_and_audited(admin_principal):
    assert calendar_load_year(actor=admin_principal, year=2026) == N_2026
    assert CalendarDay.objects.filter(date__year=2026).count() == N_2026
    assert CalendarDay.objects.get(date=D(2026, 2, 14)).kind == "workday"
    assert CalendarDay.objects.get(date=D(2026, 2, 17)).name == "春节"
    (entry,) = _audit("calendar.load_year")
    assert entry.after == {"year": 2026, "provisional": False, "created": N_2026, "changed": 0, "removed": 0}

    assert calendar_load_year(actor=admin_principal, year=2026) == 0  # second run: nothing changes
    assert len(_audit("calendar.load_year")) == 1

    assert calendar_load_year(actor=None, year=2027) == len(calendar_data.schedule(2027))
    assert _audit("calendar.load_year")[-1].after["provisional"] is True
    assert audit_verify().ok


@pytest.mark.django_db
def test_load_year_repairs_edits_and_replace_removes_extras(admin_principal):
    calendar_load_year(actor=None, year=2026)
    calendar_day_set(actor=None, date=D(2026, 2, 14), kind="holiday", name="改错了")
    calendar_day_set(actor=None, date=D(2026, 3, 16), kind="holiday", name="地方节日")
    assert calendar_load_year(actor=None, year=2026) == 1  # the edited row is restored, the extra one kept
    assert CalendarDay.objects.get(date=D(2026, 2, 14)).kind == "workday"
    assert CalendarDay.objects.filter(date=D(2026, 3, 16)).exists()
    assert calendar_load_year(actor=None, year=2026, replace=True) == 1
    assert not CalendarDay.objects.filter(date=D(2026, 3, 16)).exists()
    assert _audit("calendar.load_year")[-1].after["removed"] == 1


@pytest.mark.django_db
def test_load_unknown_year_is_a_field_error():
    with pytest.raises(ValidationError) as exc:
        calendar_load_year(actor=None, year=1999)
    assert "1999" in exc.value.message_dict["year"][0]
    assert not AuditEntry.objects.exists()


# --- the cached loader ---------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_working_calendar_reads_rows_and_is_cached(
    django_assert_num_queries, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        calendar_load_year(actor=None, year=2026)
    with django_assert_num_queries(1):
        cal = working_calendar()
    with django_assert_num_queries(0):
        assert working_calendar() is cal
    assert D(2026, 2, 14) in cal.workdays and D(2026, 10, 1) in cal.holidays
    assert add_working_days(D(2026, 9, 30), 1, working_calendar()) == D(2026, 10, 8)

    # a committed calendar write clears the cache, so the next read sees it
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        calendar_day_set(actor=None, date=D(2026, 10, 8), kind="holiday", name="延长假期")
    assert callbacks
    with django_assert_num_queries(1):
        assert D(2026, 10, 8) in working_calendar().holidays
    assert add_working_days(D(2026, 9, 30), 1, working_calendar()) == D(2026, 10, 9)

    with django_capture_on_commit_callbacks(execute=True):
        calendar_day_delete(actor=None, date=D(2026, 10, 8))
    assert D(2026, 10, 8) not in working_calendar().holidays


@pytest.mark.django_db
def test_rolled_back_write_does_not_clear_cache(django_capture_on_commit_callbacks):
    calendar_load_year(actor=None, year=2026)
    working_calendar_invalidate()
    cal = working_calendar()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        with pytest.raises(ValidationError):
            calendar_day_set(actor=None, date=D(2026, 3, 16), kind="workday", name="调休")
    assert callbacks == [] and working_calendar() is cal


# --- admin ------------------------------------------------------------------------------------------------------------


@pytest.fixture
def superuser_client(client, db, django_user_model):
    user = django_user_model.objects.create_superuser(username="root", password="x-Passw0rd-2026", email="")
    client.force_login(user)
    return client


@pytest.mark.django_db
def test_admin_add_goes_through_the_service(superuser_client):
    response = superuser_client.post(
        reverse("admin:core_calendarday_add"), {"date": "2026-03-14", "kind": "workday", "name": "调休"}
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert CalendarDay.objects.get(date=D(2026, 3, 14)).kind == "workday"
    (entry,) = _audit("calendar.day_set")
    assert entry.actor_account == "root"


@pytest.mark.django_db
def test_admin_rejects_bad_input_as_field_error(superuser_client):
    response = superuser_client.post(
        reverse("admin:core_calendarday_add"), {"date": "2026-03-16", "kind": "workday", "name": "调休"}
    )
    assert response.status_code == 200
    assert "调休上班日必须是周六或周日" in response.content.decode()
    assert not CalendarDay.objects.exists() and not AuditEntry.objects.exists()


@pytest.mark.django_db
def test_admin_change_and_delete_go_through_the_services(superuser_client):
    day = calendar_day_set(actor=None, date=D(2026, 3, 14), kind="workday", name="调休")
    url = reverse("admin:core_calendarday_change", args=[day.pk])
    response = superuser_client.post(url, {"date": "2030-01-01", "kind": "holiday", "name": "改为休息"})
    assert response.status_code == 302
    day.refresh_from_db()
    assert (day.date, day.kind, day.name) == (D(2026, 3, 14), "holiday", "改为休息")  # date is read-only
    assert _audit("calendar.day_set")[-1].before["kind"] == "workday"

    response = superuser_client.post(reverse("admin:core_calendarday_delete", args=[day.pk]), {"post": "yes"})
    assert response.status_code == 302
    assert not CalendarDay.objects.exists()
    assert _audit("calendar.day_delete")[-1].actor_account == "root"


@pytest.mark.django_db
def test_admin_bulk_delete_action_is_audited(superuser_client):
    calendar_load_year(actor=None, year=2026)
    chosen = list(CalendarDay.objects.filter(name="春节").values_list("pk", flat=True))
    response = superuser_client.post(
        reverse("admin:core_calendarday_changelist"),
        {"action": "delete_through_service", "_selected_action": chosen},
    )
    assert response.status_code == 302
    assert not CalendarDay.objects.filter(name="春节").exists()
    assert len(_audit("calendar.day_delete")) == len(chosen) == 11


@pytest.mark.django_db
def test_admin_reload_action_restores_official_schedule(superuser_client):
    calendar_load_year(actor=None, year=2026)
    calendar_day_delete(actor=None, date=D(2026, 2, 15))
    calendar_day_set(actor=None, date=D(2026, 2, 14), kind="holiday", name="错")
    chosen = [CalendarDay.objects.get(date=D(2026, 2, 14)).pk]
    response = superuser_client.post(
        reverse("admin:core_calendarday_changelist"), {"action": "reload_years", "_selected_action": chosen}
    )
    assert response.status_code == 302
    assert CalendarDay.objects.get(date=D(2026, 2, 14)).kind == "workday"
    assert CalendarDay.objects.filter(date__year=2026).count() == N_2026


@pytest.mark.django_db
def test_admin_list_filters_by_year_and_kind(superuser_client, django_assert_max_num_queries):
    calendar_load_year(actor=None, year=2026)
    calendar_load_year(actor=None, year=2027)
    url = reverse("admin:core_calendarday_changelist")
    with django_assert_max_num_queries(12):
        response = superuser_client.get(url, {"year": "2026", "kind": "workday"})
    assert response.status_code == 200
    body = response.content.decode()
    assert "2026年2月14日" in body or "2026-02-14" in body or "Feb. 14, 2026" in body
    listed = response.context["cl"].result_list
    assert [d.date for d in listed] == [
        D(2026, 1, 4),
        D(2026, 2, 14),
        D(2026, 2, 28),
        D(2026, 5, 9),
        D(2026, 9, 20),
        D(2026, 10, 10),
    ]
    response = superuser_client.get(url, {"year": "2027"})
    assert {d.date.year for d in response.context["cl"].result_list} == {2027}
