"""Several processes' worth of work at once against one database: intakes racing for numbers and the audit
chain, and two dispatchers acting on the same incident — nothing lost, nothing dispatched twice, no 500."""

from __future__ import annotations

import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from yiwang.core.audit import audit_verify
from yiwang.incidents.models import Incident, IncidentEvent
from yiwang.incidents.services.dispatch import incident_dispatch
from yiwang.incidents.services.intake import IntakeReport, incident_intake

from .factories import build_incident_world, point_in

pytestmark = pytest.mark.django_db(transaction=True)


def run_at_once(jobs) -> tuple[list, list]:
    """Runs the callables in threads released together; (results, errors)."""
    barrier = threading.Barrier(len(jobs))
    results, errors = [], []

    def work(job):
        try:
            barrier.wait(timeout=10)
            results.append(job())
        except Exception as exc:  # noqa: BLE001 - asserted by the caller
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=work, args=(job,)) for job in jobs]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    return results, errors


def test_simultaneous_intakes_get_distinct_numbers_and_keep_the_audit_chain():
    world = build_incident_world()
    operator = world.p(world.operator)
    grids = list(world.grids)

    def file(n):
        lon, lat = point_in(grids[n % len(grids)], dx=0.001 * (n % 5 + 1))
        return lambda: (
            incident_intake(
                actor=operator,
                report=IntakeReport(
                    channel="hotline",
                    description=f"第{n}位来电：路口占道经营，摊位{n}号",
                    category_code="SRHJ01",
                    lon=lon,
                    lat=lat,
                    reporter_phone=f"1380000{n:04d}",
                ),
            ).incident.number
        )

    results, errors = run_at_once([file(n) for n in range(6)])
    assert errors == []
    assert len(set(results)) == 6 and Incident.objects.count() == 6
    assert IncidentEvent.objects.filter(action="intake").count() == 6
    assert audit_verify().ok


def test_two_dispatchers_on_one_incident_dispatch_it_once():
    world = build_incident_world()
    lon, lat = point_in("440199001001001")
    incident = incident_intake(
        actor=world.p(world.operator),
        report=IntakeReport(
            channel="hotline", description="路面积水严重", category_code="AQYH02", lon=lon, lat=lat
        ),
    ).incident
    assert incident.state == Incident.State.PENDING  # no rule for 积水内涝: waits for a dispatcher
    district, town = world.p(world.dispatcher), world.p(world.town_dispatcher)

    def dispatch(actor, code):
        return lambda: incident_dispatch(actor=actor, incident=incident, department_code=code).state

    results, errors = run_at_once([dispatch(district, "CGJ"), dispatch(town, "STHJ")])
    assert results == [Incident.State.DISPATCHED]
    assert len(errors) == 1 and isinstance(errors[0], ValidationError)  # "当前状态为处置中，不能派遣"
    assert IncidentEvent.objects.filter(incident=incident, action="dispatch").count() == 1
    incident.refresh_from_db()
    assert incident.assigned_department.code in {"CGJ", "STHJ"} and incident.lock_version == 1
