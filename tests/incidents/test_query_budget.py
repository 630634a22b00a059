"""Query budgets of intake (docs/performance.md, "Write paths"): a hotline report and a grid worker's patrol
report, each exact; the warning checks run after the intake has committed (a Huey task, safe to run twice), not
inside it; incident numbers stay unique when intakes race."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import close_old_connections, connection
from django.test import TestCase
from django.test.utils import CaptureQueriesContext

from yiwang.incidents.models import Incident, IncidentWarning
from yiwang.incidents.services.intake import IntakeReport, incident_intake
from yiwang.incidents.services.warnings import warnings_check_committed

from .factories import point_in

pytestmark = pytest.mark.django_db

GRID = "440199001002001"


def hotline(world, *, phone="13800001111", category="SRHJ01", text="路口有人占道卖水果", dx=0.005):
    lon, lat = point_in(GRID, dx=dx)
    return IntakeReport(
        channel="hotline", description=text, category_code=category, lon=lon, lat=lat, reporter_phone=phone
    )


def patrol(world, *, category="SRHJ01"):
    return IntakeReport(
        channel="patrol",
        description="巡查发现垃圾堆放未清运",
        category_code=category,
        grid=world.grids[GRID],
    )


def _queries(fn):
    with CaptureQueriesContext(connection) as captured:
        result = fn()
    return result, [q["sql"] for q in captured.captured_queries]


def test_a_hotline_intake(iworld):
    operator = iworld.p(iworld.operator)
    warm_up = hotline(iworld, phone="13800009999", text="小区门口有人摆摊卖菜", dx=0.001)
    incident_intake(actor=operator, report=warm_up)  # settings, rules, grids, the counter row
    result, sql = _queries(lambda: incident_intake(actor=operator, report=hotline(iworld)))
    assert result.attached_to is None
    assert result.auto_dispatched and result.incident.state == Incident.State.DISPATCHED
    # reads: duplicates nearby (the category is remembered by the process since the warm-up; the grid, its village
    # and town come from the process's grid index). The transaction: SAVEPOINT … RELEASE (inside the test's own
    # transaction) · the day's counter FOR UPDATE + UPDATE (in place inside a test transaction: core.numbering) ·
    # INSERT incident · INSERT event · INSERT audit (intake) · UPDATE incident (dispatched) · INSERT event ·
    # INSERT audit (dispatch) · the unit's handlers · INSERT notification (one handler). No warning check inside
    # the transaction.
    assert len(sql) == 13, "\n".join(sql)
    assert not any("incidents_incidentwarning" in q for q in sql)
    # the dispatch writes the columns it changed, not the row's 50 (nor the phone, encrypted again by a full save)
    (update,) = [q for q in sql if q.startswith('UPDATE "incidents_incident"')]
    written = update.split(" SET ", 1)[1].split(" WHERE ", 1)[0]
    assert '"state"' in written and '"assigned_department_id"' in written and '"lock_version"' in written
    assert '"reporter_phone"' not in written and '"description"' not in written
    repeat_caller = [
        q for q in sql if q.startswith("SELECT") and '"reporter_phone_index" =' in q.split("WHERE")[-1]
    ]
    assert not repeat_caller


def test_a_grid_workers_patrol_intake(iworld):
    worker = iworld.p(iworld.grid_workers[GRID])
    incident_intake(actor=worker, report=patrol(iworld))
    result, sql = _queries(lambda: incident_intake(actor=worker, report=patrol(iworld)))
    assert result.incident.grid == iworld.grids[GRID] and result.incident.channel == "patrol"
    assert len(sql) == 13, "\n".join(sql)  # as the hotline's: the grid is the worker's, not looked up
    assert not any("incidents_incidentwarning" in q for q in sql)


def test_the_warning_checks_run_once_the_intake_has_committed_and_may_run_twice(iworld, clock):
    operator = iworld.p(iworld.operator)
    for n in range(2):
        incident_intake(actor=operator, report=hotline(iworld, text=f"第{n}次来电：路口占道"))
        clock.moment += timedelta(days=1)
    with TestCase.captureOnCommitCallbacks(execute=False) as pending:
        third = incident_intake(actor=operator, report=hotline(iworld, text="第三次来电：路口占道")).incident
    assert not IncidentWarning.objects.exists()  # nothing raised inside the intake's transaction
    assert len(pending) == 1
    pending[0]()  # the commit: Huey (immediate in tests) runs the checks
    warning = IncidentWarning.objects.get(kind="repeat")
    assert warning.count == 3 and warning.incidents.filter(pk=third.pk).exists()
    # a retried or duplicated task changes nothing
    assert warnings_check_committed(third.pk, third.created_at) == 0
    assert IncidentWarning.objects.filter(kind="repeat").count() == 1
    assert warnings_check_committed(10**9, third.created_at) == 0  # an intake rolled back meanwhile


@pytest.mark.django_db(transaction=True)
def test_racing_intakes_take_distinct_numbers(iworld):
    """Eight threads, each with its own connection, file at once: every number is different (on PostgreSQL the
    counter is incremented on its own connection, without waiting for the other intakes to commit)."""
    operator = iworld.p(iworld.operator)
    numbers, errors = [], []
    start = threading.Barrier(8)

    def one(n: int) -> None:
        try:
            start.wait()
            for k in range(3):
                report = hotline(iworld, phone=f"1390000{n:02d}{k:02d}", text=f"并发测试{n}-{k}：井盖缺失")
                numbers.append(incident_intake(actor=operator, report=report).incident.number)
        except Exception as exc:  # pragma: no cover — reported below
            errors.append(exc)
        finally:
            close_old_connections()
            connection.close()

    threads = [threading.Thread(target=one, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
    assert len(numbers) == 24 and len(set(numbers)) == 24
    assert sorted(Incident.objects.values_list("number", flat=True)) == sorted(numbers)
