"""公共绩效考评: points per indicator (direction aware), parts weighted, public weight, ranking with ties."""

from __future__ import annotations

import itertools
from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from tests.cases.factories import at
from tests.collab.world import build_collab_world, principal
from yiwang.collab.models import Indicator, PerformanceScore
from yiwang.collab.services.indicators import indicator_create
from yiwang.collab.services.performance import indicator_points, performance_compute, plan_create, plan_update
from yiwang.incidents.models import Incident

pytestmark = pytest.mark.django_db
_seq = itertools.count(1)


@pytest.fixture
def w(db, clock):
    clock.set(2026, 3, 10)
    return build_collab_world()


@pytest.mark.parametrize(
    ("direction", "target", "threshold", "value", "points"),
    [
        ("higher", 95, 80, 95, "100"),
        ("higher", 95, 80, 99, "100"),
        ("higher", 95, 80, 80, "60.00"),
        ("higher", 95, 80, 87.5, "80.00"),
        ("higher", 95, 80, 20, "0.00"),
        ("lower", 2, 5, 1, "100"),
        ("lower", 2, 5, 5, "60.00"),
        ("lower", 0, 0, 1, "60.00"),  # gap falls back to max(|target|, 1)
        ("lower", 2, 5, 50, "0.00"),
    ],
)
def test_points_formula(direction, target, threshold, value, points):
    indicator = Indicator(direction=direction, target=Decimal(target), threshold=Decimal(threshold))
    assert indicator_points(indicator, Decimal(str(value))) == Decimal(points)
    assert indicator_points(indicator, None) is None


def hotline(w, dept, on_time, satisfaction=""):
    Incident.objects.create(
        number=f"GDP{next(_seq):08d}",
        channel="hotline",
        title="t",
        description="d",
        town=w.towns[0],
        assigned_department=dept,
        state="closed",
        closed_at=at(2026, 2, 10),
        closed_on_time=on_time,
        satisfaction=satisfaction,
    )


def make(w, code, metric, category, weight=1, target=90, threshold=70):
    return indicator_create(
        actor=principal(w.office),
        code=code,
        name=code,
        definition=code,
        metric=metric,
        owner_department=w.d_office,
        target=Decimal(target),
        threshold=Decimal(threshold),
        category=category,
        weight=Decimal(weight),
    )


def test_scores_combine_parts_with_the_public_weight_and_rank(w):
    # SCJ: on time 1/2 = 50 %, satisfied 2/2 = 100 %; MZJ: on time 2/2, satisfied 1/2 = 50 %
    hotline(w, w.d_scj, True, "satisfied")
    hotline(w, w.d_scj, False, "basic")
    hotline(w, w.d_mzj, True, "satisfied")
    hotline(w, w.d_mzj, True, "unsatisfied")
    on_time = make(w, "ONTIME", "hotline_on_time_rate", "governance")
    satisfied = make(w, "SATIS", "hotline_satisfaction_rate", "public")
    plan = plan_create(
        actor=principal(w.office),
        code="P1",
        name="部门考评",
        public_weight=40,
        indicators=[on_time, satisfied],
    )
    rows = performance_compute(plan=plan, period_start=date(2026, 2, 1), period_end=date(2026, 2, 28))
    by = {r.department.code: r for r in rows}
    assert set(by) == {"SCJ", "MZJ"}  # units with no data are not ranked
    # SCJ: governance 50 % vs target 90/threshold 70 → 100 − 40 × 40/20 = 20; public 100 → 20×0.6 + 100×0.4 = 52
    assert by["SCJ"].governance_score == Decimal("20.00") and by["SCJ"].public_score == Decimal("100")
    assert by["SCJ"].score == Decimal("52.00")
    # MZJ: governance 100; public 50 → 20; 100×0.6 + 20×0.4 = 68
    assert by["MZJ"].score == Decimal("68.00") and by["MZJ"].rank == 1 and by["SCJ"].rank == 2
    assert {p["indicator"] for p in by["MZJ"].parts} == {"ONTIME", "SATIS"}
    again = performance_compute(plan=plan, period_start=date(2026, 2, 1), period_end=date(2026, 2, 28))
    assert len(again) == 2 and PerformanceScore.objects.filter(plan=plan).count() == 2  # replaced


def test_equal_scores_share_a_rank_and_a_missing_part_uses_the_other(w):
    hotline(w, w.d_scj, True)
    hotline(w, w.d_mzj, True)
    on_time = make(w, "ONTIME", "hotline_on_time_rate", "governance")
    plan = plan_create(actor=principal(w.office), code="P2", name="x", public_weight=30, indicators=[on_time])
    rows = performance_compute(plan=plan, period_start=date(2026, 2, 1), period_end=date(2026, 2, 28))
    assert [(r.rank, r.score) for r in rows] == [(1, Decimal("100")), (1, Decimal("100"))]


def test_plan_validation_and_permission(w):
    town_indicator = indicator_create(
        actor=principal(w.office),
        code="FORMS",
        name="逾期表格",
        definition="d",
        metric="forms_overdue",
        scope="town",
        owner_department=w.d_office,
        target=0,
        threshold=2,
    )
    with pytest.raises(ValidationError) as exc:
        plan_create(
            actor=principal(w.office), code="P3", name="x", scope="department", indicators=[town_indicator]
        )
    assert "indicators" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        plan_create(
            actor=principal(w.office), code="P3", name="", scope="town", public_weight=120, indicators=[]
        )
    assert {"name", "public_weight", "indicators"} <= set(exc.value.message_dict)
    with pytest.raises(PermissionDenied):
        plan_create(
            actor=principal(w.scj_head), code="P3", name="x", scope="town", indicators=[town_indicator]
        )
    plan = plan_create(
        actor=principal(w.office), code="P3", name="x", scope="town", indicators=[town_indicator]
    )
    plan = plan_update(actor=principal(w.leader), plan=plan, public_weight=0)
    assert plan.public_weight == 0
    with pytest.raises(ValidationError):
        performance_compute(plan=plan, period_start=date(2026, 5, 1), period_end=date(2026, 5, 31))
