"""预警: repeat complaints (caller, address + category), clusters, surges; once per key; scope; acknowledge."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.test import TestCase

from yiwang.core.audit import AuditEntry
from yiwang.core.models import Notification
from yiwang.incidents import selectors_ops
from yiwang.incidents.models import Incident, IncidentWarning
from yiwang.incidents.services import warnings as w
from yiwang.incidents.services.intake import IntakeReport, incident_intake

from .factories import point_in

pytestmark = pytest.mark.django_db

GRID = "440199001002001"  # 一街道 / 凤岗社区
OTHER_TOWN_GRID = "440199002001001"  # 二镇 / 龙塘村


def file(
    world, *, category="SRHJ01", grid=GRID, phone="", address="", channel="hotline", text="路口有人占道卖水果"
):
    """One incident through the real intake pipeline (operator actor, a point inside `grid`), committed: the
    warning checks run once the intake commits (a Huey task, immediate in tests)."""
    lon, lat = point_in(grid)
    with TestCase.captureOnCommitCallbacks(execute=True):
        return incident_intake(
            actor=world.p(world.operator),
            report=IntakeReport(
                channel=channel,
                description=text,
                category_code=category,
                lon=lon,
                lat=lat,
                reporter_phone=phone,
                address=address,
            ),
        ).incident


def test_third_call_from_one_caller_raises_one_repeat_warning_and_tells_the_centres(iworld, clock):
    file(iworld, phone="13800001111")
    clock.moment += timedelta(days=3)
    file(iworld, phone="13800001111", category="HJWR01", text="晚上广场舞太吵")
    assert not IncidentWarning.objects.exists()
    clock.moment += timedelta(days=3)
    third = file(iworld, phone="13800001111", category="AQYH01", text="井盖没了")
    warning = IncidentWarning.objects.get()
    assert warning.kind == "repeat" and warning.key.startswith("phone:")
    assert warning.count == 3 and warning.town == iworld.towns["440199001"]
    assert set(warning.incidents.values_list("pk", flat=True)) == set(
        Incident.objects.values_list("pk", flat=True)
    )
    assert "138****1111" in warning.title and "13800001111" not in warning.title
    told = set(
        Notification.objects.filter(object_type="incident_warning").values_list("recipient_id", flat=True)
    )
    assert told == {iworld.dispatcher.account_id, iworld.town_dispatcher.account_id}
    assert AuditEntry.objects.filter(action="incident_warning.raise").count() == 1
    # a fourth call joins the same warning: no second warning, no second notice
    clock.moment += timedelta(days=1)
    fourth = file(iworld, phone="13800001111", category="HJWR02", text="工厂冒黑烟")
    warning.refresh_from_db()
    assert IncidentWarning.objects.count() == 1 and warning.count == 4
    assert warning.incidents.filter(pk__in=[third.pk, fourth.pk]).count() == 2
    assert Notification.objects.filter(object_type="incident_warning").count() == 2


def test_calls_spread_beyond_the_window_raise_nothing(iworld, clock):
    for _n in range(3):
        file(iworld, phone="13800002222")
        clock.moment += timedelta(days=16)
    assert not IncidentWarning.objects.filter(kind="repeat").exists()


def test_same_address_and_category_repeats(iworld, clock):
    for n in range(3):
        file(iworld, address="凤岗社区兴业路 12 号", phone=f"1380000300{n}")
        clock.moment += timedelta(hours=30)  # spread, so no cluster
    warning = IncidentWarning.objects.get(kind="repeat")
    assert warning.key.startswith("addr:") and ":SRHJ01:" in warning.key
    assert "兴业路" in warning.title


def test_cluster_in_a_village_within_the_hours(iworld, clock):
    for n in range(4):
        file(iworld, category="SRHJ02", text=f"垃圾堆放第{n}处")
        clock.moment += timedelta(hours=1)
    assert not IncidentWarning.objects.exists()
    file(iworld, category="SRHJ02", grid="440199001002002", text="垃圾没人清")  # same village, other grid
    warning = IncidentWarning.objects.get()
    assert warning.kind == "cluster" and warning.division == iworld.villages["440199001002"]
    assert warning.count == 5 and warning.category.code == "SRHJ02"
    # other town dispatcher is not told; district and own town are
    told = set(
        Notification.objects.filter(object_type="incident_warning").values_list("recipient_id", flat=True)
    )
    assert iworld.other_town_dispatcher.account_id not in told


def test_surge_against_the_28_day_baseline(iworld, clock):
    start = clock.moment
    # baseline: one 井盖 incident every other day for four weeks (mean 0.5/day)
    for day in range(2, 29, 2):
        clock.moment = start - timedelta(days=day)
        file(iworld, category="AQYH01", grid=OTHER_TOWN_GRID, text="井盖破损")
    clock.moment = start
    for n in range(9):
        file(iworld, category="AQYH01", grid=GRID if n % 2 else OTHER_TOWN_GRID, text=f"井盖丢失{n}")
    w.warnings_scan(now=clock.moment)
    assert not IncidentWarning.objects.filter(kind="surge").exists()  # 9 < surge_minimum (10)
    file(iworld, category="AQYH01", text="又一个井盖没了")
    assert w.warnings_scan(now=clock.moment) == 1
    surge = IncidentWarning.objects.get(kind="surge")
    assert surge.count == 10 and surge.baseline == pytest.approx(0.5)
    assert surge.town is None and surge.incidents.count() == 10
    assert w.warnings_scan(now=clock.moment + timedelta(minutes=10)) == 0  # once per key


def test_scan_catches_up_on_repeats_the_listener_did_not_see(iworld, clock):
    for _n in range(3):
        file(iworld, phone="13800004444")
        clock.moment += timedelta(days=1)
    IncidentWarning.objects.all().delete()
    assert w.warnings_scan(now=clock.moment) == 1
    assert IncidentWarning.objects.get().kind == "repeat"
    assert w.warnings_scan(now=clock.moment) == 0


def _warning(world, clock, grid=GRID, phone="13800005555"):
    for _n in range(3):
        file(world, phone=phone, grid=grid)
        clock.moment += timedelta(hours=30)
    return IncidentWarning.objects.filter(kind="repeat", town__code=grid[:9]).latest("id")


def test_acknowledge_needs_a_note_and_is_audited_once(iworld, clock):
    warning = _warning(iworld, clock)
    dispatcher = iworld.p(iworld.dispatcher)
    with pytest.raises(ValidationError) as exc:
        w.warning_acknowledge(actor=dispatcher, warning=warning, note="  ")
    assert "note" in exc.value.message_dict
    done = w.warning_acknowledge(actor=dispatcher, warning=warning, note="已联系来电人并督促城管处理")
    assert done.state == "acknowledged" and done.acknowledged_by == iworld.dispatcher
    assert (
        AuditEntry.objects.filter(action="incident_warning.acknowledge", object_id=str(warning.pk)).count()
        == 1
    )
    with pytest.raises(ValidationError) as exc:
        w.warning_acknowledge(actor=dispatcher, warning=warning, note="再次处理")
    assert "state" in exc.value.message_dict


def test_town_centre_sees_and_handles_only_its_town(iworld, clock):
    own = _warning(iworld, clock)
    other = _warning(iworld, clock, grid=OTHER_TOWN_GRID, phone="13800006666")
    town = iworld.p(iworld.town_dispatcher)
    assert [x.pk for x in selectors_ops.warning_list_visible_to(town).items] == [own.pk]
    assert {x.pk for x in selectors_ops.warning_list_visible_to(iworld.p(iworld.dispatcher)).items} == {
        own.pk,
        other.pk,
    }
    assert {x.pk for x in selectors_ops.warning_list_visible_to(iworld.p(iworld.admin)).items} == {
        own.pk,
        other.pk,
    }
    with pytest.raises(Http404):
        selectors_ops.warning_get_visible(town, other.pk)
    with pytest.raises(Http404):
        w.warning_acknowledge(actor=town, warning=other, note="不是本镇的")
    with pytest.raises(PermissionDenied):
        selectors_ops.warning_list_visible_to(iworld.p(iworld.cgj_handler))
    with pytest.raises(PermissionDenied):
        w.warning_acknowledge(actor=iworld.p(iworld.grid_workers[GRID]), warning=own, note="x")


def test_list_filters_and_pages(iworld, clock):
    _warning(iworld, clock)
    _warning(iworld, clock, phone="13800007777")
    principal = iworld.p(iworld.dispatcher)
    first = selectors_ops.warning_list_visible_to(principal, kind="repeat", state="open", limit=1)
    assert len(first.items) == 1 and first.next_cursor
    second = selectors_ops.warning_list_visible_to(
        principal, kind="repeat", cursor=first.next_cursor, limit=1
    )
    assert second.items[0].pk < first.items[0].pk
    assert selectors_ops.warning_list_visible_to(principal, kind="surge").items == []
    with pytest.raises(ValidationError):
        selectors_ops.warning_list_visible_to(principal, kind="nonsense")
