"""Foundation checks of the incident world and the intake pipeline core (routing, assignment)."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from yiwang.incidents.models import Incident
from yiwang.incidents.services.intake import IntakeReport, incident_intake

from .factories import add_night_noise_rule, point_in

pytestmark = pytest.mark.django_db


def test_hotline_report_with_a_category_and_a_point_goes_to_the_rule_department(iworld):
    lon, lat = point_in("440199001002001")
    result = incident_intake(
        actor=iworld.p(iworld.operator),
        report=IntakeReport(
            channel="hotline",
            description="路口有人占道卖水果",
            category_code="SRHJ01",
            lon=lon,
            lat=lat,
            reporter_phone="13800001111",
        ),
    )
    incident = Incident.objects.get(pk=result.incident.pk)
    assert result.auto_dispatched
    assert incident.state == Incident.State.DISPATCHED
    assert incident.assigned_department == iworld.cgj
    assert incident.grid.code == "440199001002001" and incident.town.code == "440199001"
    assert incident.due_at is not None and incident.number.startswith("GD")
    assert [e.action for e in incident.events.order_by("seq")] == ["intake", "dispatch"]


def test_more_specific_division_and_night_window_win(iworld, clock):
    lon, lat = point_in("440199002001001")
    r = incident_intake(
        actor=None,
        report=IntakeReport(channel="web", description="井盖没了", category_code="AQYH01", lon=lon, lat=lat),
    )
    assert r.incident.assigned_department == iworld.town_centres["440199002"]
    add_night_noise_rule(iworld)
    day = incident_intake(
        actor=None,
        report=IntakeReport(
            channel="web", description="白天工地很吵", category_code="HJWR01", lon=lon, lat=lat
        ),
    )
    assert day.incident.assigned_department == iworld.sthj
    clock.moment = datetime(2026, 3, 2, 23, 30, tzinfo=ZoneInfo("Asia/Shanghai"))
    lon, lat = point_in("440199001001001")  # elsewhere: not a duplicate of the daytime report
    r = incident_intake(
        actor=None,
        report=IntakeReport(
            channel="web", description="夜里酒吧音乐声音太吵", category_code="HJWR01", lon=lon, lat=lat
        ),
    )
    assert r.incident.assigned_department == iworld.gaj


def test_grid_rule_and_fallback_to_pending(iworld):
    lon, lat = point_in("440199001001002")
    r = incident_intake(
        actor=None,
        report=IntakeReport(channel="web", description="垃圾堆放", category_code="SRHJ02", lon=lon, lat=lat),
    )
    assert r.incident.assigned_grid.code == "440199001001002"
    r = incident_intake(
        actor=None,
        report=IntakeReport(channel="web", description="路面积水", category_code="AQYH02", lon=lon, lat=lat),
    )
    assert r.incident.state == Incident.State.PENDING and not r.auto_dispatched
    assert r.route.department == iworld.town_centres["440199001"]


def test_bad_input_saves_nothing(iworld):
    with pytest.raises(Exception) as exc:
        incident_intake(
            actor=None, report=IntakeReport(channel="web", description="", category_code="NOPE", lon=1.0)
        )
    assert set(exc.value.message_dict) == {"description", "category", "location"}
    assert Incident.objects.count() == 0
