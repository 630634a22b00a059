"""一网统观 figures: summary counters, per-grid map counts, department/town performance rates, scope, query counts."""

from __future__ import annotations

import itertools
from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied

from yiwang.core.models import Account
from yiwang.core.pageutils import account_preload
from yiwang.core.principal import Principal
from yiwang.incidents import selectors_ops as stats
from yiwang.incidents.models import Incident
from yiwang.incidents.services.intake import IntakeReport, incident_intake

from .factories import point_in

pytestmark = pytest.mark.django_db

G1 = "440199001002001"  # 一街道
G2 = "440199002001001"  # 二镇


TEXTS = itertools.cycle(
    ["路口占道摆摊", "夜市噪声扰民", "井盖破损松动", "垃圾无人清运", "工厂排放黑烟", "小区积水严重"]
)
SPOTS = itertools.count()


def file(world, *, category="SRHJ01", grid=G1, phone="", channel="hotline"):
    """Distinct places and texts, so duplicate detection never merges two of them."""
    n = next(SPOTS)
    lon, lat = point_in(grid, dx=0.001 + 0.002 * (n % 4), dy=0.001 + 0.002 * (n // 4 % 4))
    return incident_intake(
        actor=world.p(world.operator),
        report=IntakeReport(
            channel=channel,
            description=f"{next(TEXTS)}（第{n}号）",
            category_code=category,
            lon=lon,
            lat=lat,
            reporter_phone=phone,
        ),
    ).incident


def set_state(incident, **fields):
    Incident.objects.filter(pk=incident.pk).update(**fields)


def build_history(world, clock):
    """Seven incidents today in two towns, with closures, callbacks, an overdue one and a repeat caller."""
    now = clock.moment
    clock.moment = now - timedelta(days=5)
    file(world, phone="13900000001")  # earlier call of the repeat caller (outside 'today')
    clock.moment = now
    a = file(world, phone="13900000001")  # CGJ, repeat caller
    b = file(world, phone="13900000002", channel="web")  # CGJ
    c = file(world, category="HJWR02", grid=G2, phone="13900000003")  # STHJ
    d = file(world, category="SRHJ02", channel="patrol")  # grid handling
    e = file(world, category="AQYH02", grid=G2)  # no rule: pending
    f = file(world, category="AQYH01", grid=G2, channel="web")  # town centre of 二镇
    set_state(
        a, state="closed", closed_at=now, closed_on_time=True, satisfaction="satisfied", closure="handled"
    )
    set_state(
        b, state="closed", closed_at=now, closed_on_time=False, satisfaction="unsatisfied", closure="handled"
    )
    set_state(
        c, state="closed", closed_at=now, closed_on_time=True, satisfaction="unreachable", closure="handled"
    )
    set_state(f, due_at=now - timedelta(hours=1))  # overdue
    return {"a": a, "b": b, "c": c, "d": d, "e": e, "f": f}


def test_summary_counts_channels_categories_and_counters(iworld, clock):
    build_history(iworld, clock)
    s = stats.ops_summary(iworld.p(iworld.dispatcher), now=clock.moment)
    assert s["received"] == 6  # the call five days ago is not today's
    assert (s["open"], s["pending"], s["overdue"], s["closed"]) == (4, 1, 2, 3)  # + the old call, overdue
    channels = {c["code"]: c["count"] for c in s["by_channel"]}
    assert channels == {"hotline": 3, "web": 2, "patrol": 1, "referral": 0, "iot": 0, "open311": 0}
    tops = {c["code"]: c["count"] for c in s["by_category"]}
    assert tops == {"SRHJ": 3, "HJWR": 1, "AQYH": 2}
    week = stats.ops_summary(iworld.p(iworld.dispatcher), since=stats.period_since("7d", now=clock.moment))
    assert week["received"] == 7


def test_town_centre_sees_its_town_only_and_others_are_refused(iworld, clock):
    build_history(iworld, clock)
    s = stats.ops_summary(iworld.p(iworld.other_town_dispatcher), now=clock.moment)
    assert s["received"] == 3  # c, e, f in 二镇
    geo = stats.ops_map(iworld.p(iworld.other_town_dispatcher), now=clock.moment)
    assert {f["properties"]["code"] for f in geo["features"]} == {"440199002001001", "440199002001002"}
    with pytest.raises(PermissionDenied):
        stats.ops_summary(iworld.p(iworld.cgj_handler))
    with pytest.raises(PermissionDenied):
        stats.unit_performance(iworld.p(iworld.operator))


def test_map_counts_per_grid(iworld, clock):
    build_history(iworld, clock)
    geo = stats.ops_map(iworld.p(iworld.dispatcher), now=clock.moment)
    assert geo["type"] == "FeatureCollection" and len(geo["features"]) == 6
    props = {f["properties"]["code"]: f["properties"] for f in geo["features"]}
    assert props[G1]["open"] == 2 and props[G1]["received"] == 3  # d and the old call open; a, b closed
    assert props[G2]["open"] == 2 and props[G2]["overdue"] == 1 and props[G2]["received"] == 3
    assert props["440199001001001"]["open"] == 0 and props[G1]["name"] == G1
    assert geo["properties"]["max_open"] == 2 and geo["properties"]["overdue"] == 2
    only = stats.ops_map(iworld.p(iworld.dispatcher), town_code="440199001", now=clock.moment)
    assert len(only["features"]) == 4


def test_performance_rates_by_department_and_town(iworld, clock):
    build_history(iworld, clock)
    rows = stats.unit_performance(
        iworld.p(iworld.dispatcher), since=stats.period_since("today", now=clock.moment), now=clock.moment
    )
    departments = {r["code"]: r for r in stats.departments_of(rows)}
    cgj = departments["CGJ"]
    assert (cgj["received"], cgj["closed"], cgj["on_time"]) == (2, 2, 1)
    assert cgj["disposal_rate"] == 100.0 and cgj["on_time_rate"] == 50.0
    assert cgj["satisfaction_rate"] == 50.0  # satisfied / (satisfied + unsatisfied)
    assert cgj["repeat_rate"] == 50.0  # a's caller called five days before; b's did not
    sthj = departments["STHJ"]
    assert sthj["satisfaction_rate"] is None  # unreachable is no answer
    assert departments[""]["received"] == 1  # grid handling (d)
    assert departments["T2ZH"]["overdue"] == 1
    towns = {r["code"]: r for r in stats.towns_of(rows)}
    assert towns["440199001"]["received"] == 3 and towns["440199002"]["received"] == 3
    assert towns["440199002"]["disposal_rate"] == pytest.approx(33.3)


def test_fixed_number_of_queries_whatever_the_volume(iworld, clock, django_assert_max_num_queries):
    build_history(iworld, clock)
    account = Account.objects.get(pk=iworld.dispatcher.account_id)
    account_preload(account)  # as a page request does: staff, department, grid and roles in two queries
    principal = Principal.for_account(account)

    def run():
        stats.ops_summary(principal, now=clock.moment)
        stats.ops_map(principal, now=clock.moment)
        stats.unit_performance(principal, now=clock.moment)

    with django_assert_max_num_queries(8) as small:  # summary 3, map 2, performance 2, scope 1
        run()
    for n in range(12):
        file(iworld, phone=f"1390000100{n % 10}", grid=G1 if n % 2 else G2)
    with django_assert_max_num_queries(len(small.captured_queries)):
        run()
