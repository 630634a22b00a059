# ruff: noqa: F811  (the shared world fixtures are imported, then named as test arguments)
"""数据治理考核: the periods, the eight metrics over the world's records, totals with redistributed weights, ranks
with ties, set-based computation, weights, and the CDO roster's rules (services.scorecard)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext

from tests.cases.factories import at
from tests.datahub.world_scorecard import (  # noqa: F401  (fixtures)
    EXPECTED,
    PERIOD,
    RANKS,
    TOTALS,
    add_departments,
    sworld,
)
from yiwang.core.models import AuditEntry
from yiwang.datahub.models import CdoAppointment, Scorecard, ScoreWeight
from yiwang.datahub.scorecard_metrics import ScoreWindow, metric_results, period_current, period_parse
from yiwang.datahub.services.scorecard import (
    _ranks,
    cdo_appoint,
    cdo_end,
    cdo_update,
    score_weight_update,
    score_weights_update,
    scorecard_compute,
    scorecard_total,
)

pytestmark = pytest.mark.django_db


# --- periods (pure) ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("code", "start", "end", "previous"),
    [
        ("2026-Q1", date(2026, 1, 1), date(2026, 3, 31), "2025-Q4"),
        ("2026-Q2", date(2026, 4, 1), date(2026, 6, 30), "2026-Q1"),
        ("2026-Q3", date(2026, 7, 1), date(2026, 9, 30), "2026-Q2"),
        ("2026-Q4", date(2026, 10, 1), date(2026, 12, 31), "2026-Q3"),
        ("2028", date(2028, 1, 1), date(2028, 12, 31), "2027"),
        (" 2026-Q4 ", date(2026, 10, 1), date(2026, 12, 31), "2026-Q3"),
    ],
)
def test_periods_parse(code, start, end, previous):
    period = period_parse(code)
    assert (period.start, period.end, period.previous().code) == (start, end, previous)
    assert period.end_at - period.start_at == timedelta(days=(end - start).days + 1)


@pytest.mark.parametrize(
    "code", ["2026-Q5", "2026-q1", "26", "", "1999", "2101-Q1", "2026-Q", "2026Q1", None]
)
def test_bad_periods_are_a_field_error(code):
    with pytest.raises(ValidationError) as refused:
        period_parse(code)
    assert "考核周期格式" in refused.value.message_dict["period"][0]


def test_current_period_follows_the_clock(clock):
    clock.set(2026, 12, 31, 23, 30)  # Shanghai: still 2026-Q4 (UTC is 15:30 the same day)
    assert period_current().code == "2026-Q4" and period_current("year").code == "2026"
    clock.set(2027, 1, 1, 0, 30)  # Shanghai has rolled over while UTC is still in 2026
    assert period_current().code == "2027-Q1"


# --- totals and ranks (pure) ---------------------------------------------------------------------------------
def _m(score, weight):
    return {"score": score, "weight": weight, "share": 0.0}


@pytest.mark.parametrize(
    ("metrics", "total", "shares"),
    [
        ({"a": _m(100, 50), "b": _m(0, 50)}, Decimal("50.00"), {"a": 50.0, "b": 50.0}),
        ({"a": _m(80, 20), "b": _m(None, 80)}, Decimal("80.00"), {"a": 100.0, "b": 0.0}),  # b redistributed
        ({"a": _m(90, 15), "b": _m(60, 15), "c": _m(None, 70)}, Decimal("75.00"), {"a": 50.0, "b": 50.0}),
        ({"a": _m(70, 0), "b": _m(40, 10)}, Decimal("40.00"), {"a": 0.0, "b": 100.0}),  # weight 0: ignored
        ({"a": _m(None, 10)}, None, {"a": 0.0}),
    ],
)
def test_total_is_the_weighted_mean_of_the_metrics_with_data(metrics, total, shares):
    assert scorecard_total(metrics) == total
    assert {k: m["share"] for k, m in metrics.items()} == {k: shares.get(k, 0.0) for k in metrics}


def test_ties_share_a_rank_and_the_next_skips():
    totals = {1: Decimal("90"), 2: Decimal("80"), 3: Decimal("80"), 4: Decimal("70"), 5: Decimal("90")}
    codes = {1: "B", 2: "C", 3: "A", 4: "D", 5: "E"}
    assert _ranks(totals, codes) == {1: 1, 5: 1, 3: 3, 2: 3, 4: 5}


# --- the metrics over the world ------------------------------------------------------------------------------
@pytest.mark.parametrize("metric", list(EXPECTED))
def test_each_metric_scores_what_the_records_say(sworld, metric):
    results = metric_results(ScoreWindow.of(period_parse(PERIOD)), metrics=[metric])[metric]
    codes = {d.pk: d.code for d in (sworld.sa, sworld.sb, sworld.sc, sworld.sd, sworld.sa1, sworld.zx)}
    scores = {codes.get(pk, "other"): float(r.score) for pk, r in results.items()}
    assert scores == {k: v for k, v in EXPECTED[metric].items() if v is not None}


def test_metric_details_and_values(sworld):
    results = metric_results(ScoreWindow.of(period_parse(PERIOD)))
    sa = sworld.sa.pk
    assert results["census"][sa].detail == {
        "returns": 1,
        "on_time": 1,
        "late": 0,
        "accepted": 1,
        "returned": 0,
        "missing": 0,
    }
    assert results["census"][sworld.sb.pk].detail["late"] == 1
    share = results["share_response"][sa]
    assert share.value == Decimal("132.00")  # mean of 24 h and 240 h
    assert share.detail == {"received": 4, "answered": 2, "on_time": 1, "overdue": 1, "late": 1}
    assert results["grants_used"][sa].detail == {"grants": 2, "used": 1}
    assert results["corrections"][sa].detail == {"due": 3, "on_time": 1, "late": 1, "open": 1}
    assert results["open_data"][sa].value == 3 and results["open_data"][sa].detail["target"] == 10
    assert results["catalogue"][sa].detail == {"items": 2, "linked": 1, "published": 2, "mounted": 2}
    assert results["quality"][sa].detail == {"resources": 1}


def test_a_past_period_is_judged_at_its_end(sworld, clock):
    """2025-Q4: the request filed in December was unanswered past its deadline (missed); nothing else of SA's."""
    results = metric_results(ScoreWindow.of(period_parse("2025-Q4")), metrics=["share_response", "quality"])
    assert float(results["share_response"][sworld.sa.pk].score) == 0.0
    assert float(results["quality"][sworld.sa.pk].score) == 10.0


# --- computing a period --------------------------------------------------------------------------------------
def test_compute_stores_totals_ranks_and_an_audit_entry(sworld):
    assert not ScoreWeight.objects.exists()
    done = scorecard_compute(actor=sworld.centre_principal, period=PERIOD)
    assert {w.metric: int(w.weight) for w in ScoreWeight.objects.all()}["quality"] == 20  # defaults made
    cards = {
        c.department.code: c for c in Scorecard.objects.filter(period=PERIOD).select_related("department")
    }
    assert set(cards) == set(TOTALS) and len(done.cards) == 4
    assert {k: c.total for k, c in cards.items()} == TOTALS
    assert {k: c.rank for k, c in cards.items()} == RANKS
    sb = cards["SB"].metrics
    assert sb["share_response"]["score"] is None and sb["share_response"]["share"] == 0.0
    assert sb["quality"]["share"] == pytest.approx(28.57)  # 20 of the 70 points SB has data for
    entry = AuditEntry.objects.get(action="datahub.scorecard.compute", object_id=PERIOD)
    assert entry.after["departments"] == 4 and entry.after["top"][0]["department"] == "SA"


def test_recompute_replaces_the_period_and_follows_the_records(sworld):
    scorecard_compute(actor=sworld.centre_principal, period=PERIOD)
    sworld.sc.census_returns.update(status="submitted", submitted_at=at(2026, 2, 14))
    scorecard_compute(actor=None, period=PERIOD)  # the scheduled job acts as the system
    cards = {
        c.department.code: c for c in Scorecard.objects.filter(period=PERIOD).select_related("department")
    }
    assert len(cards) == 4 and cards["SC"].total == Decimal("100.00") and cards["SC"].rank == 1
    assert cards["SD"].rank == 4


def test_computation_is_set_based(sworld):
    scorecard_compute(actor=sworld.centre_principal, period=PERIOD)  # makes the default weights
    with CaptureQueriesContext(connection) as small:
        scorecard_compute(actor=sworld.centre_principal, period=PERIOD)
    add_departments(12, sworld.district)
    with CaptureQueriesContext(connection) as large:
        done = scorecard_compute(actor=sworld.centre_principal, period=PERIOD)
    assert len(done.cards) == 16
    assert len(large.captured_queries) == len(small.captured_queries) <= 25


def test_a_switched_off_metric_is_left_out(sworld):
    score_weights_update(
        actor=sworld.centre_principal,
        changes={"open_data": {"weight": 10, "target": 10, "is_active": False}},
    )
    scorecard_compute(actor=sworld.centre_principal, period=PERIOD)
    sa = Scorecard.objects.get(period=PERIOD, department=sworld.sa)
    assert "open_data" not in sa.metrics
    assert sa.total == Decimal("71.39")  # (6725 − 300) / 90


def test_only_the_centre_computes_and_not_ahead_of_time(sworld):
    with pytest.raises(PermissionDenied):
        scorecard_compute(actor=sworld.principal(sworld.steward_a), period=PERIOD)
    with pytest.raises(ValidationError) as refused:
        scorecard_compute(actor=sworld.centre_principal, period="2026-Q2")
    assert "尚未开始" in refused.value.message_dict["period"][0]
    with pytest.raises(ValidationError):
        scorecard_compute(actor=sworld.centre_principal, period="2026-Q9")
    assert not Scorecard.objects.exists() and not AuditEntry.objects.filter(object_type="scorecard").exists()


# --- weights --------------------------------------------------------------------------------------------------
def test_weights_are_validated_all_or_nothing_and_audited(sworld):
    centre = sworld.centre_principal
    with pytest.raises(ValidationError) as refused:
        score_weights_update(
            actor=centre,
            changes={
                "quality": {"weight": 30, "target": None},
                "census": {"weight": 101, "target": None},
                "open_data": {"weight": 10, "target": None},
            },
        )
    errors = refused.value.message_dict
    assert "census.weight" in errors and "open_data.target" in errors
    assert not ScoreWeight.objects.exists()  # nothing written
    row = score_weight_update(actor=centre, metric="quality", weight="25.5", target=None)
    assert row.weight == Decimal("25.50")
    entry = AuditEntry.objects.get(action="datahub.scorecard.weight")
    assert entry.before["weight"] == "20.00" and entry.after["weight"] == "25.50"
    score_weight_update(actor=centre, metric="quality", weight="25.5")  # unchanged: no new entry
    assert AuditEntry.objects.filter(action="datahub.scorecard.weight").count() == 1
    with pytest.raises(PermissionDenied):
        score_weight_update(actor=sworld.principal(sworld.steward_a), metric="quality", weight=1)
    with pytest.raises(ValidationError):
        score_weight_update(actor=centre, metric="nonsense", weight=1)
    with pytest.raises(ValidationError):
        score_weight_update(actor=centre, metric="quality", weight="abc")


# --- the CDO roster -----------------------------------------------------------------------------------------
def _appoint(world, **kw):
    values = {
        "actor": world.centre_principal,
        "level": "department",
        "department": world.sa,
        "staff": world.head_a,
        "title": "首席数据官",
        "appointed_on": date(2026, 1, 5),
    }
    values.update(kw)
    return cdo_appoint(**values)


def test_one_serving_cdo_per_department_and_replacement(sworld):
    first = _appoint(sworld)
    assert AuditEntry.objects.filter(action="datahub.cdo.appoint", object_id=str(first.public_id)).exists()
    with pytest.raises(ValidationError) as refused:
        _appoint(sworld, staff=sworld.staff_a1)  # a member of the unit below SA may hold SA's post
    assert "已有在任人员" in refused.value.message_dict["staff"][0]
    with pytest.raises(ValidationError) as early:
        _appoint(sworld, staff=sworld.staff_a1, replace=True, appointed_on=date(2026, 1, 1))
    assert "appointed_on" in early.value.message_dict
    second = _appoint(sworld, staff=sworld.staff_a1, replace=True, appointed_on=date(2026, 2, 1))
    first.refresh_from_db()
    assert first.ended_on == date(2026, 2, 1) and second.ended_on is None
    assert AuditEntry.objects.filter(action="datahub.cdo.end", object_id=str(first.public_id)).exists()


def test_deputies_are_many_but_each_person_once(sworld):
    _appoint(sworld, level="deputy", staff=sworld.steward_a, title="数据专员")
    _appoint(sworld, level="deputy", staff=sworld.head_a, title="联络人")
    with pytest.raises(ValidationError) as refused:
        _appoint(sworld, level="deputy", staff=sworld.steward_a, title="数据专员")
    assert "已在任此职" in refused.value.message_dict["staff"][0]
    assert CdoAppointment.objects.filter(level="deputy", ended_on__isnull=True).count() == 2


@pytest.mark.parametrize(
    ("kw", "field"),
    [
        ({"level": "district"}, "department"),  # the district CDO belongs to no department
        ({"level": "department", "department": None}, "department"),
        ({"level": "boss"}, "level"),
        ({"staff": None}, "staff"),
        ({"title": "   "}, "title"),
        ({"appointed_on": date(2026, 3, 3)}, "appointed_on"),  # tomorrow
        ({"appointed_on": None}, "appointed_on"),
    ],
)
def test_appointments_are_validated_field_by_field(sworld, kw, field):
    with pytest.raises(ValidationError) as refused:
        _appoint(sworld, **kw)
    assert field in refused.value.message_dict
    assert not CdoAppointment.objects.exists()


def test_staff_of_another_department_is_refused_and_the_district_cdo_is_anyone(sworld):
    with pytest.raises(ValidationError) as refused:
        _appoint(sworld, staff=sworld.steward_b)
    assert "该部门" in refused.value.message_dict["staff"][0]
    district = _appoint(
        sworld, level="district", department=None, staff=sworld.steward_b, title="区首席数据官"
    )
    assert district.department is None
    with pytest.raises(ValidationError):
        _appoint(sworld, level="district", department=None, staff=sworld.head_a, title="区首席数据官")
    with pytest.raises(PermissionDenied):
        _appoint(sworld, actor=sworld.principal(sworld.steward_a))


def test_ending_and_updating_a_term(sworld):
    a = _appoint(sworld)
    for ended_on, word in ((date(2026, 1, 1), "早于"), (date(2026, 3, 3), "晚于今天")):
        with pytest.raises(ValidationError) as refused:
            cdo_end(actor=sworld.centre_principal, appointment=a, ended_on=ended_on)
        assert word in refused.value.message_dict["ended_on"][0]
    cdo_end(actor=sworld.centre_principal, appointment=a)  # today
    a.refresh_from_db()
    assert a.ended_on == date(2026, 3, 2)
    with pytest.raises(ValidationError):
        cdo_end(actor=sworld.centre_principal, appointment=a)
    updated = cdo_update(actor=sworld.centre_principal, appointment=a, title="  分管副局长 ", duties="统筹")
    assert updated.title == "分管副局长" and updated.duties == "统筹"
    assert AuditEntry.objects.get(action="datahub.cdo.update").before["title"] == "首席数据官"
    with pytest.raises(ValidationError):
        cdo_update(actor=sworld.centre_principal, appointment=a, title="")
    _appoint(sworld, appointed_on=date(2026, 3, 2))  # the post is free again


def test_the_database_keeps_one_serving_cdo_per_post(sworld):
    CdoAppointment.objects.create(
        level="department",
        department=sworld.sa,
        staff=sworld.head_a,
        title="甲",
        appointed_on=date(2026, 1, 1),
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        CdoAppointment.objects.create(
            level="department",
            department=sworld.sa,
            staff=sworld.steward_a,
            title="乙",
            appointed_on=date(2026, 1, 2),
        )
    CdoAppointment.objects.create(
        level="district", department=None, staff=sworld.head_a, title="区", appointed_on=date(2026, 1, 1)
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        CdoAppointment.objects.create(
            level="district", department=None, staff=sworld.centre, title="区", appointed_on=date(2026, 1, 1)
        )
    with pytest.raises(IntegrityError), transaction.atomic():
        CdoAppointment.objects.create(
            level="district",
            department=sworld.sb,
            staff=sworld.centre,
            title="区",
            appointed_on=date(2026, 1, 1),
            ended_on=date(2026, 1, 2),
        )
    # Ended terms do not count: history may hold many.
    CdoAppointment.objects.filter(level="department").update(ended_on=date(2026, 2, 1))
    CdoAppointment.objects.create(
        level="department",
        department=sworld.sa,
        staff=sworld.steward_a,
        title="乙",
        appointed_on=date(2026, 2, 1),
    )


# --- the nightly job -------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("today", "periods"),
    [
        (date(2026, 3, 2), ["2026-Q1"]),
        (date(2026, 4, 3), ["2026-Q2", "2026-Q1"]),
        (date(2026, 4, 16), ["2026-Q2"]),
        (date(2027, 1, 1), ["2027-Q1", "2026-Q4", "2026"]),
    ],
)
def test_the_nightly_job_closes_the_last_period_early_in_a_quarter(today, periods):
    from yiwang.datahub.tasks_scorecard import scorecard_periods_due

    assert scorecard_periods_due(today) == periods


def test_the_nightly_job_computes_as_the_system(sworld):
    from yiwang.datahub.tasks_scorecard import scorecard_compute_periodic

    assert scorecard_compute_periodic.call_local() == 4
    assert AuditEntry.objects.get(action="datahub.scorecard.compute").actor_account == "system"


def test_summaries_say_what_a_score_was_made_of():
    from yiwang.datahub.selectors.scorecard import metric_summary, metric_value_text

    only_resources = {
        "score": 50.0,
        "value": 50.0,
        "detail": {"items": 0, "linked": 0, "published": 4, "mounted": 2},
    }
    assert metric_summary("catalogue", only_resources) == "已发布资源 2/4 个已挂接。"
    both = {**only_resources, "detail": {"items": 3, "linked": 1, "published": 4, "mounted": 2}}
    assert metric_summary("catalogue", both).startswith("普查数据 1/3 项已编入目录。")
    assert metric_value_text("quality", {"score": 88.5, "value": 88.5}) == "88.50 分"
    assert metric_value_text("census", {"score": None, "value": None}) == "无数据"
    assert "权重按比例分配" in metric_summary("census", None)


def test_export_never_writes_a_formula(sworld):
    import io

    from openpyxl import load_workbook

    from yiwang.datahub.selectors.scorecard import scorecard_xlsx

    sworld.sa.name = '=HYPERLINK("http://evil")'
    sworld.sa.save(update_fields=["name"])
    scorecard_compute(actor=sworld.centre_principal, period=PERIOD)
    _ranking, data = scorecard_xlsx(sworld.principal(sworld.steward_a), PERIOD)
    cell = load_workbook(io.BytesIO(data)).worksheets[0].cell(row=5, column=3)
    assert cell.data_type == "s" and cell.value.startswith("'=")
