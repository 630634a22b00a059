"""The 一网统管 demo: catalogue with a route for every leaf, answers, devices, a month of incidents moved on by the
workflow, warnings — and a second load writes nothing."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.db.models import Count
from django.test import TestCase

from yiwang.core.audit import audit_verify
from yiwang.demo import demo_load
from yiwang.incidents import demo_data as data
from yiwang.incidents.models import (
    Callback,
    Device,
    DeviceType,
    Incident,
    IncidentCategory,
    IncidentWarning,
    KnowledgeAnswer,
    ResponsibilityRule,
)
from yiwang.incidents.services.routing import categories_without_route

pytestmark = pytest.mark.django_db(transaction=False)


@pytest.fixture
def fast_hash(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.mark.parametrize(
    "moment",
    [
        datetime(2026, 3, 2, 12, 0, tzinfo=ZoneInfo("Asia/Shanghai")),  # a working day's noon
        datetime(2026, 3, 2, 0, 5, tzinfo=ZoneInfo("Asia/Shanghai")),  # five minutes into a working day
        datetime(2026, 10, 1, 0, 0, 30, tzinfo=ZoneInfo("Asia/Shanghai")),  # 30 s into a day (and a holiday)
    ],
    ids=["noon", "five-past-midnight", "just-after-midnight"],
)
def test_demo_incidents_load_once_with_routes_and_history(fast_hash, clock, moment):
    clock.moment = moment  # the demo's month of history, and today's rise, end at this moment
    with TestCase.captureOnCommitCallbacks(execute=True):  # the load commits: the warning checks then run
        counts = demo_load(scale=0.02, upto="governance")
    assert counts["incidents"] > 0
    tops = IncidentCategory.objects.filter(parent__isnull=True, code__in=[c for c, _n, _l in data.CATALOGUE])
    assert tops.count() == 11
    leaves = IncidentCategory.objects.filter(parent__in=tops)
    assert leaves.count() == sum(len(leaf_list) for _c, _n, leaf_list in data.CATALOGUE)
    assert all(len(c.examples.splitlines()) >= 6 for c in leaves)
    assert categories_without_route() == []
    night = ResponsibilityRule.objects.filter(category__code="ZYRM02", starts_at__isnull=False).get()
    assert night.department.code == "GAJ" and night.priority > 0
    assert ResponsibilityRule.objects.filter(category__code="AQYH02", department__code="BSZZH").exists()
    assert ResponsibilityRule.objects.filter(category__code="SRHJ02", to_grid=True).exists()
    assert KnowledgeAnswer.objects.count() >= 30
    assert DeviceType.objects.count() == 4
    devices = Device.objects.all()
    assert devices.count() == 40 and not devices.filter(grid__isnull=True).exists()

    incidents = Incident.objects.all()
    total = incidents.count()
    assert total >= 20 + 12
    by_state = dict(incidents.values_list("state").annotate(n=Count("id")))
    assert by_state.get("closed", 0) > 0 and by_state.get("dispatched", 0) > 0
    assert set(incidents.values_list("channel", flat=True)) >= {"hotline", "web", "patrol"}
    assert incidents.filter(grid__isnull=False).count() == total  # every point lies inside a demo grid
    assert Callback.objects.exists()
    # planted: today's rise of 违章停车 and the cluster of 垃圾堆放 raise warnings
    kinds = set(IncidentWarning.objects.values_list("kind", flat=True))
    assert {"surge", "cluster", "repeat"} <= kinds
    # the rise lies in the part of today already past, however little of it there is
    midnight = moment.replace(hour=0, minute=0, second=0)
    surge = IncidentWarning.objects.get(kind="surge", category__code="DLJT02")
    parking_today = incidents.filter(category__code="DLJT02", created_at__gte=midnight)
    assert surge.count == parking_today.count() >= 12
    assert set(surge.incidents.values_list("pk", flat=True)) <= set(
        parking_today.values_list("pk", flat=True)
    )
    assert not incidents.filter(created_at__gt=moment).exists()
    assert audit_verify().ok

    again = demo_load(scale=0.02, upto="governance")
    assert again["incidents"] == 0 and Incident.objects.count() == total
