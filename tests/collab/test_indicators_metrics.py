"""Each indicator formula (collab.metrics) on the small world with known numbers, one grouped query per metric."""

from __future__ import annotations

import itertools
from datetime import date, timedelta
from decimal import Decimal

import pytest

from tests.cases.factories import ServiceItemFactory, at
from tests.collab.world import build_collab_world
from tests.datahub.factories import DataResourceFactory, ShareRequestFactory
from yiwang.cases.models import Case
from yiwang.cases.reviews.models import Review
from yiwang.collab.metrics import METRICS, metric_batch, metric_value, scope_units
from yiwang.collab.models import FormAssignment, FormIssue, ReportForm, Task
from yiwang.datahub.models import QualityScore
from yiwang.incidents.models import Incident

pytestmark = pytest.mark.django_db

FEB = (date(2026, 2, 1), date(2026, 2, 28))
_seq = itertools.count(1)


@pytest.fixture
def w(db, clock):
    clock.set(2026, 3, 10)
    return build_collab_world()


def incident(w, *, town=0, dept=None, on_time=True, satisfaction="", closed=None, channel="hotline"):
    return Incident.objects.create(
        number=f"GDT{next(_seq):08d}",
        channel=channel,
        title="噪音扰民",
        description="夜间施工噪音",
        town=w.towns[town],
        assigned_department=dept,
        state=Incident.State.CLOSED,
        closed_at=closed or at(2026, 2, 10),
        closed_on_time=on_time,
        satisfaction=satisfaction,
    )


def case(w, dept, *, due, concluded):
    item = ServiceItemFactory(department=dept)
    return Case.objects.create(
        item=item, department=dept, state=Case.State.APPROVED, due_date=due, concluded_at=concluded
    )


def test_registry_has_the_platform_metrics():
    assert {
        "hotline_on_time_rate",
        "hotline_satisfaction_rate",
        "review_satisfaction_rate",
        "case_on_time_rate",
        "data_quality_score",
        "share_response_days",
        "forms_overdue",
        "tasks_overdue",
    } <= set(METRICS)
    assert METRICS["forms_overdue"].scopes == ("town",)
    assert METRICS["hotline_on_time_rate"].category == "public"


def test_units_of_each_scope(w):
    assert [u.code for u in scope_units("town")] == ["DGZ", "SFJD"]
    assert set(scope_units("department").values_list("code", flat=True)) == {"MZJ", "SCJ", "ZFB", "ZSJ"}


def test_hotline_rates_by_department_and_town(w, django_assert_max_num_queries):
    incident(w, town=0, dept=w.d_scj, on_time=True, satisfaction="satisfied")
    incident(w, town=0, dept=w.d_scj, on_time=False, satisfaction="unsatisfied")
    incident(w, town=1, dept=w.d_scj, on_time=True, satisfaction="unreachable")
    incident(w, town=1, dept=w.d_mzj, on_time=True, satisfaction="basic")
    incident(w, town=1, dept=w.d_mzj, on_time=True, closed=at(2026, 3, 2))  # next period
    incident(w, town=1, dept=w.d_mzj, on_time=False, channel="patrol")  # not a citizen appeal
    units = list(scope_units("department")) + list(scope_units("town"))
    with django_assert_max_num_queries(4):
        on_time = metric_batch("hotline_on_time_rate", units, *FEB)
    assert on_time[w.d_scj.pk].value == Decimal("66.67")
    assert (on_time[w.d_scj.pk].numerator, on_time[w.d_scj.pk].denominator) == (2, 3)
    assert on_time[w.d_mzj.pk].value == Decimal("100.00")
    assert on_time[w.town_offices[0].pk].value == Decimal("50.00")
    assert on_time[w.town_offices[1].pk].value == Decimal("100.00")
    assert w.d_zsj.pk not in on_time  # no data
    satisfied = metric_batch("hotline_satisfaction_rate", units, *FEB)
    assert satisfied[w.d_scj.pk].value == Decimal("50.00")  # unreachable not counted
    assert satisfied[w.town_offices[1].pk].value == Decimal("100.00")


def test_review_satisfaction_and_case_on_time(w, django_assert_max_num_queries):
    c1 = case(w, w.d_scj, due=date(2026, 2, 12), concluded=at(2026, 2, 12, 17))
    c2 = case(w, w.d_scj, due=date(2026, 2, 12), concluded=at(2026, 2, 13, 9))
    case(w, w.d_scj, due=date(2026, 2, 12), concluded=at(2026, 3, 3))  # next period
    for c, overall in ((c1, 5), (c2, 2)):
        review = Review.objects.create(
            case=c, department=w.d_scj, item_code=c.item.code, item_name=c.item.name, overall=overall
        )
        Review.objects.filter(pk=review.pk).update(created_at=at(2026, 2, 20))
    units = list(scope_units("department"))
    with django_assert_max_num_queries(2):
        on_time = metric_batch("case_on_time_rate", units, *FEB)
    assert on_time == {w.d_scj.pk: on_time[w.d_scj.pk]} and on_time[w.d_scj.pk].value == Decimal("50.00")
    assert metric_value("review_satisfaction_rate", w.d_scj, *FEB).value == Decimal("50.00")
    assert metric_value("review_satisfaction_rate", w.d_mzj, *FEB).value is None


def test_data_quality_and_share_response(w):
    for quality in (80, 90):
        resource = DataResourceFactory(provider=w.d_zsj)
        QualityScore.objects.create(
            resource=resource, provider=w.d_zsj, quality=quality, freshness=100, measured_at=at(2026, 2, 5)
        )
    late = DataResourceFactory(provider=w.d_zsj)
    QualityScore.objects.create(
        resource=late, provider=w.d_zsj, quality=10, freshness=100, measured_at=at(2026, 3, 5)
    )
    assert metric_value("data_quality_score", w.d_zsj, *FEB).value == Decimal("85.00")
    # Monday 2 Feb → Thursday 5 Feb: 3 working days; Friday 6 Feb → Monday 9 Feb: 1 working day
    for created, answered in ((at(2026, 2, 2), at(2026, 2, 5)), (at(2026, 2, 6), at(2026, 2, 9))):
        request = ShareRequestFactory(resource=DataResourceFactory(provider=w.d_scj), requester=w.d_mzj)
        ShareRequestFactory._meta.model.objects.filter(pk=request.pk).update(
            created_at=created, answered_at=answered
        )
    result = metric_value("share_response_days", w.d_scj, *FEB)
    assert result.value == Decimal("2.00") and result.denominator == 2


def test_forms_overdue_per_town(w):
    form = ReportForm.objects.create(
        code="F-T1",
        name="月报",
        purpose="统计",
        legal_basis="规定",
        owner_department=w.d_mzj,
        target_level=3,
        created_by=w.mzj_head,
    )
    issue = FormIssue.objects.create(
        form=form,
        form_version=1,
        period_label="2026年2月",
        period_start=date(2026, 2, 1),
        period_end=date(2026, 2, 28),
        due_on=date(2026, 2, 25),
        root_division=w.district,
        issued_by=w.office,
        issued_at=at(2026, 2, 2),
    )
    statuses = ["not_started", "approved", "draft", "submitted"]  # villages 0,1 in town 0; 2,3 in town 1
    for village, status in zip(w.villages, statuses, strict=True):
        FormAssignment.objects.create(issue=issue, division=village, level=3, fills=True, status=status)
    FormAssignment.objects.create(issue=issue, division=w.towns[0], level=2, fills=False)
    result = metric_batch("forms_overdue", list(scope_units("town")), *FEB)
    assert result[w.town_offices[0].pk].value == 1 and result[w.town_offices[0].pk].denominator == 2
    assert result[w.town_offices[1].pk].value == 1


def test_tasks_overdue_for_the_lead_unit(w):
    def task(due, status, closed=None):
        return Task.objects.create(
            code=f"DBT{next(_seq):06d}",
            title="整改",
            issuing_department=w.d_office,
            lead_department=w.d_scj,
            status=status,
            start_on=due - timedelta(days=20),
            due_on=due,
            closed_at=closed,
        )

    task(date(2026, 2, 10), Task.Status.IN_PROGRESS)  # overdue
    task(date(2026, 2, 10), Task.Status.DONE, at(2026, 2, 9))  # on time
    task(date(2026, 2, 10), Task.Status.DONE, at(2026, 2, 12))  # late
    task(date(2026, 2, 10), Task.Status.CANCELLED)  # not counted
    task(date(2026, 3, 20), Task.Status.IN_PROGRESS)  # another period
    result = metric_value("tasks_overdue", w.d_scj, *FEB)
    assert (result.value, result.denominator) == (2, 3)
