"""数据治理考核 and the CDO roster: the writes.

- `score_weights_ensure()` creates the default weights (census 15, catalogue 15, timeliness 10, quality 20,
  share response 10, grants used 10, open data 10, corrections 10; open data full marks at 10 datasets) the
  first time a scorecard is computed or the weights are read; `score_weight_update` lets the centre change one.
- `scorecard_compute(*, actor, period)` computes every department's scorecard of a period from the platform's own
  records (datahub.scorecard_metrics: one or two aggregate queries per metric for all departments), totals them,
  ranks them (ties share a rank: 1, 2, 2, 4) and replaces the period's rows in one transaction with its audit
  entry. The centre (DATA_CENTRE) asks for it on the page or the API; the scheduled job runs it as the system.
- `cdo_appoint`, `cdo_update`, `cdo_end`: the CDO roster, kept by the centre. One serving district CDO, one serving
  CDO per department (deputies and liaisons: any number), enforced here with row locks and in the database by
  partial unique indexes; appointing over a serving CDO needs `replace=True`, which ends the predecessor's term on
  the new appointment's date.

Totals: the weighted mean of the scores a department has. A metric on which a department has nothing to be scored
(无数据) drops out and its weight goes to the others in proportion (total = Σ wᵢ·sᵢ / Σ wᵢ over the metrics with
data). A department with no data on any metric is not ranked.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from yiwang.core.audit import audit_record
from yiwang.core.models import Department, Staff
from yiwang.core.permissions import DATA_CENTRE
from yiwang.core.principal import Principal
from yiwang.core.selectors.org import department_subtree_ids

from ..models import CdoAppointment, Scorecard, ScoreMetric, ScoreWeight
from ..scorecard_metrics import MetricResult, Period, ScoreWindow, metric_results, period_parse

__all__ = [
    "DEFAULT_WEIGHTS",
    "DEFAULT_TARGETS",
    "ScorecardComputed",
    "cdo_appoint",
    "cdo_check",
    "cdo_end",
    "cdo_update",
    "score_weight_check",
    "score_weight_update",
    "score_weights_ensure",
    "score_weights_update",
    "scorecard_compute",
    "scorecard_total",
]

DEFAULT_WEIGHTS: dict[str, int] = {
    ScoreMetric.CENSUS: 15,
    ScoreMetric.CATALOGUE: 15,
    ScoreMetric.TIMELINESS: 10,
    ScoreMetric.QUALITY: 20,
    ScoreMetric.SHARE_RESPONSE: 10,
    ScoreMetric.GRANTS_USED: 10,
    ScoreMetric.OPEN_DATA: 10,
    ScoreMetric.CORRECTIONS: 10,
}
DEFAULT_TARGETS: dict[str, int] = {ScoreMetric.OPEN_DATA: 10}
SERVING_ONCE = (CdoAppointment.Level.DISTRICT, CdoAppointment.Level.DEPARTMENT)
TWO = Decimal("0.01")


def _require_centre(actor: Principal | None) -> None:
    """The centre acts; `None` is the system (the scheduled job)."""
    if actor is not None:
        actor.require(DATA_CENTRE)


def _text(value, limit: int) -> str:
    return str(value or "").strip()[:limit]


# --- weights -------------------------------------------------------------------------------------------------
def score_weights_ensure() -> list[ScoreWeight]:
    """All eight weights, creating the default of any that is missing (idempotent; safe under concurrency)."""
    weights = list(ScoreWeight.objects.order_by("metric"))
    missing = [m for m in ScoreMetric.values if m not in {w.metric for w in weights}]
    if missing:
        ScoreWeight.objects.bulk_create(
            [
                ScoreWeight(metric=m, weight=Decimal(DEFAULT_WEIGHTS[m]), target=DEFAULT_TARGETS.get(m))
                for m in missing
            ],
            ignore_conflicts=True,
        )
        weights = list(ScoreWeight.objects.order_by("metric"))
    return weights


def _decimal(value, field: str, *, low: Decimal, high: Decimal, message: str) -> Decimal:
    try:
        number = Decimal(str(value)).quantize(TWO, rounding=ROUND_HALF_UP)
    except (InvalidOperation, ValueError, TypeError):
        raise ValidationError({field: _("请输入数字。")}, code="invalid") from None
    if not number.is_finite() or not low <= number <= high:
        raise ValidationError({field: message}, code="range")
    return number


def score_weight_check(metric: str, values: dict) -> tuple[Decimal, Decimal | None, bool]:
    if metric not in ScoreMetric.values:
        raise ValidationError({"metric": _("没有这个考核指标。")}, code="invalid")
    weight = _decimal(
        values.get("weight"),
        "weight",
        low=Decimal(0),
        high=Decimal(100),
        message=_("权重应在 0 到 100 之间。"),
    )
    target = values.get("target")
    if target in (None, ""):
        target = None
    else:
        target = _decimal(
            target,
            "target",
            low=Decimal(1),
            high=Decimal(100000),
            message=_("满分目标应在 1 到 100000 之间。"),
        )
    if metric in DEFAULT_TARGETS and target is None:
        raise ValidationError({"target": _("计数类指标须填写满分目标。")}, code="required")
    return weight, target, bool(values.get("is_active", True))


def score_weights_update(*, actor: Principal, changes: dict[str, dict]) -> list[ScoreWeight]:
    """The centre sets metrics' weights (0–100), full-marks targets (counted metrics) and whether each counts:
    `changes` = {metric: {"weight", "target", "is_active"}}; all or nothing, one audit entry per changed metric.
    Weights need not add up to 100: a total divides by the weights of the metrics a department has."""
    _require_centre(actor)
    errors: dict[str, list] = {}
    cleaned = {}
    for metric, values in changes.items():
        try:
            cleaned[metric] = score_weight_check(metric, values)
        except ValidationError as exc:
            for field, messages in exc.message_dict.items():
                errors.setdefault(f"{metric}.{field}" if field != "metric" else "metric", []).extend(messages)
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        score_weights_ensure()
        rows = {w.metric: w for w in ScoreWeight.objects.select_for_update().filter(metric__in=list(cleaned))}
        for metric, (weight, target, is_active) in cleaned.items():
            row = rows[metric]
            before = {"weight": str(row.weight), "target": str(row.target or ""), "is_active": row.is_active}
            after = {"weight": str(weight), "target": str(target or ""), "is_active": is_active}
            if (row.weight, row.target, row.is_active) == (weight, target, is_active):
                continue
            row.weight, row.target, row.is_active = weight, target, is_active
            row.save(update_fields=["weight", "target", "is_active"])
            audit_record(
                actor=actor,
                action="datahub.scorecard.weight",
                object_type="score_weight",
                object_id=metric,
                before=before,
                after=after,
            )
    return list(ScoreWeight.objects.order_by("metric"))


def score_weight_update(
    *, actor: Principal, metric: str, weight, target=None, is_active: bool = True
) -> ScoreWeight:
    """One metric's weight, target and switch (see score_weights_update); field errors name the bare field."""
    _require_centre(actor)
    score_weight_check(metric, {"weight": weight, "target": target, "is_active": is_active})
    score_weights_update(
        actor=actor, changes={metric: {"weight": weight, "target": target, "is_active": is_active}}
    )
    return ScoreWeight.objects.get(metric=metric)


# --- computing a period ---------------------------------------------------------------------------------------
def _entry(result: MetricResult | None, weight: Decimal) -> dict:
    if result is None:
        return {"value": None, "score": None, "weight": float(weight), "share": 0.0, "detail": {}}
    return {
        "value": None if result.value is None else float(result.value),
        "score": float(result.score),
        "weight": float(weight),
        "share": 0.0,  # the weight's effective share of the total, set by scorecard_total
        "detail": result.detail,
    }


def scorecard_total(metrics: dict[str, dict]) -> Decimal | None:
    """The weighted mean of the metrics with a score (their weights redistributed over them); sets each entry's
    effective `share` (%). None when no metric with a weight has a score."""
    scored = {k: m for k, m in metrics.items() if m["score"] is not None and m["weight"] > 0}
    weight_sum = sum(Decimal(str(m["weight"])) for m in scored.values())
    if not weight_sum:
        return None
    total = Decimal(0)
    for entry in scored.values():
        weight = Decimal(str(entry["weight"]))
        total += weight * Decimal(str(entry["score"]))
        entry["share"] = float((Decimal(100) * weight / weight_sum).quantize(TWO, rounding=ROUND_HALF_UP))
    return (total / weight_sum).quantize(TWO, rounding=ROUND_HALF_UP)


def _ranks(totals: dict[int, Decimal], order: dict[int, str]) -> dict[int, int]:
    """Competition ranking: equal totals share a rank and the next rank skips (1, 2, 2, 4)."""
    ranked = sorted(totals, key=lambda pk: (-totals[pk], order[pk]))
    ranks: dict[int, int] = {}
    for position, pk in enumerate(ranked, start=1):
        previous = ranked[position - 2] if position > 1 else None
        ranks[pk] = ranks[previous] if previous is not None and totals[previous] == totals[pk] else position
    return ranks


@dataclass
class ScorecardComputed:
    period: Period
    cards: list[Scorecard]
    computed_at: object


def scorecard_compute(*, actor: Principal | None, period: str | Period) -> ScorecardComputed:
    """Computes and stores every department's scorecard of `period` (replacing the period's earlier rows), in
    one transaction, audited. A period that has not begun is refused."""
    _require_centre(actor)
    period = period_parse(period)
    now = timezone.now()
    if period.start > timezone.localdate():
        raise ValidationError({"period": _("考核周期尚未开始，不能计算。")}, code="future")
    window = ScoreWindow.of(period, now)
    with transaction.atomic():
        score_weights_ensure()
        # Locking the weights serialises computations: two at once would both replace the period's rows.
        weights = {w.metric: w for w in ScoreWeight.objects.select_for_update().order_by("metric")}
        active = [m for m in ScoreMetric.values if weights[m].is_active]
        results = metric_results(window, metrics=active, targets={m: weights[m].target for m in active})
        ids = set().union(*(r.keys() for r in results.values())) if results else set()
        departments = {
            d.pk: d for d in Department.objects.filter(pk__in=ids, is_active=True).only("id", "code", "name")
        }
        cards: dict[int, Scorecard] = {}
        totals: dict[int, Decimal] = {}
        for pk in departments:
            metrics = {m: _entry(results[m].get(pk), weights[m].weight) for m in active}
            total = scorecard_total(metrics)
            if total is None:
                continue
            totals[pk] = total
            cards[pk] = Scorecard(
                period=period.code, department_id=pk, metrics=metrics, total=total, computed_at=now
            )
        ranks = _ranks(totals, {pk: departments[pk].code for pk in totals})
        for pk, card in cards.items():
            card.rank = ranks[pk]
        Scorecard.objects.filter(period=period.code).delete()
        created = Scorecard.objects.bulk_create(
            sorted(cards.values(), key=lambda c: (c.rank, departments[c.department_id].code))
        )
        for card in created:
            card.department = departments[card.department_id]
        audit_record(
            actor=actor,
            action="datahub.scorecard.compute",
            object_type="scorecard",
            object_id=period.code,
            after={
                "departments": len(created),
                "weights": {m: str(weights[m].weight) for m in active},
                "as_of": window.now.isoformat(),
                "top": [
                    {"department": departments[c.department_id].code, "total": str(c.total), "rank": c.rank}
                    for c in created[:3]
                ],
            },
        )
    return ScorecardComputed(period=period, cards=created, computed_at=now)


# --- the CDO roster -----------------------------------------------------------------------------------------
def _cdo_snapshot(a: CdoAppointment) -> dict:
    return {
        "level": a.level,
        "department": a.department.code if a.department_id else "",
        "staff": str(a.staff.public_id),
        "staff_name": a.staff.name,
        "title": a.title,
        "appointed_on": a.appointed_on.isoformat(),
        "ended_on": a.ended_on.isoformat() if a.ended_on else "",
    }


def _cdo_clean(
    *, level: str, department: Department | None, staff: Staff | None, title: str, appointed_on
) -> tuple[str, date]:
    errors: dict[str, str] = {}
    if level not in CdoAppointment.Level.values:
        errors["level"] = _("请选择层级：区级首席数据官、部门首席数据官或数据专员（联络人）。")
    elif level == CdoAppointment.Level.DISTRICT:
        if department is not None:
            errors["department"] = _("区级首席数据官不属于某个部门，请不要选择部门。")
    elif department is None:
        errors["department"] = _("请选择部门。")
    elif not department.is_active:
        errors["department"] = _("该部门已撤销。")
    if staff is None:
        errors["staff"] = _("请选择人员。")
    elif not staff.is_active:
        errors["staff"] = _("该人员不在岗。")
    elif department is not None and level != CdoAppointment.Level.DISTRICT:
        if staff.department_id not in department_subtree_ids(department):
            errors["staff"] = _("人员须为该部门（或其下属单位）的工作人员。")
    title = _text(title, 60)
    if not title:
        errors["title"] = _("请填写职务。")
    if not isinstance(appointed_on, date):
        errors["appointed_on"] = _("请填写任命日期。")
    elif appointed_on > timezone.localdate():
        errors["appointed_on"] = _("任命日期不能晚于今天。")
    if errors:
        raise ValidationError(errors)
    return title, appointed_on


def _serving(level: str, department: Department | None):
    query = CdoAppointment.objects.filter(level=level, ended_on__isnull=True)
    return (
        query.filter(department__isnull=True) if department is None else query.filter(department=department)
    )


def _serving_conflict(
    level: str, serving: list[CdoAppointment], staff: Staff, appointed_on: date, replace: bool
):
    """The serving appointment `replace` would end, or None; ValidationError when the post is taken."""
    if any(a.staff_id == staff.pk for a in serving):
        raise ValidationError({"staff": _("该人员已在任此职。")}, code="duplicate")
    if level not in SERVING_ONCE or not serving:
        return None
    current = serving[0]
    if not replace:
        raise ValidationError(
            {
                "staff": _("已有在任人员（%(name)s，%(since)s 起），请先免职，或选择“替换现任”。")
                % {"name": current.staff.name, "since": current.appointed_on.isoformat()}
            },
            code="serving",
        )
    if appointed_on < current.appointed_on:
        raise ValidationError(
            {"appointed_on": _("替换现任时，任命日期不能早于现任的任命日期。")}, code="order"
        )
    return current


def cdo_check(
    *,
    level: str,
    department: Department | None,
    staff: Staff | None,
    title: str,
    appointed_on,
    replace: bool = False,
) -> None:
    """What `cdo_appoint` would refuse, checked without writing (the admin form shows it on its fields)."""
    _cdo_clean(level=level, department=department, staff=staff, title=title, appointed_on=appointed_on)
    serving = list(_serving(level, department).select_related("staff"))
    _serving_conflict(level, serving, staff, appointed_on, replace)


def cdo_appoint(
    *,
    actor: Principal,
    level: str,
    department: Department | None,
    staff: Staff | None,
    title: str,
    appointed_on: date,
    duties: str = "",
    replace: bool = False,
) -> CdoAppointment:
    """Appoints a CDO (or a deputy/liaison). Over a serving district or department CDO only with `replace`: the
    predecessor's term then ends on the new appointment's date (its own audit entry)."""
    _require_centre(actor)
    title, appointed_on = _cdo_clean(
        level=level, department=department, staff=staff, title=title, appointed_on=appointed_on
    )
    with transaction.atomic():
        serving = list(
            _serving(level, department).select_for_update(of=("self",)).select_related("staff", "department")
        )
        current = _serving_conflict(level, serving, staff, appointed_on, replace)
        if current is not None:
            _cdo_end_locked(actor, current, appointed_on, _("由新任替换"))
        appointment = CdoAppointment(
            level=level,
            department=department,
            staff=staff,
            title=title,
            duties=_text(duties, 4000),
            appointed_on=appointed_on,
        )
        try:
            with transaction.atomic():
                appointment.save()
        except IntegrityError:  # another centre officer appointed someone to the same post at the same moment
            raise ValidationError(
                {"staff": _("该职位刚刚已有人任命，请刷新后重试。")}, code="conflict"
            ) from None
        audit_record(
            actor=actor,
            action="datahub.cdo.appoint",
            object_type="cdo",
            object_id=str(appointment.public_id),
            after=_cdo_snapshot(appointment),
        )
    return appointment


def cdo_update(
    *, actor: Principal, appointment: CdoAppointment, title: str, duties: str = ""
) -> CdoAppointment:
    """The centre corrects the title and duties of an appointment (who and when stay: end it and appoint anew)."""
    _require_centre(actor)
    title = _text(title, 60)
    if not title:
        raise ValidationError({"title": _("请填写职务。")}, code="required")
    with transaction.atomic():
        row = (
            CdoAppointment.objects.select_for_update(of=("self",))
            .select_related("staff", "department")
            .get(pk=appointment.pk)
        )
        before = {"title": row.title, "duties": row.duties}
        row.title, row.duties = title, _text(duties, 4000)
        row.save(update_fields=["title", "duties"])
        audit_record(
            actor=actor,
            action="datahub.cdo.update",
            object_type="cdo",
            object_id=str(row.public_id),
            before=before,
            after={"title": row.title, "duties": row.duties},
        )
    return row


def _cdo_end_locked(actor, row: CdoAppointment, ended_on: date, note: str) -> None:
    row.ended_on = ended_on
    row.save(update_fields=["ended_on"])
    audit_record(
        actor=actor,
        action="datahub.cdo.end",
        object_type="cdo",
        object_id=str(row.public_id),
        after={**_cdo_snapshot(row), "note": note},
    )


def cdo_end(
    *, actor: Principal, appointment: CdoAppointment, ended_on: date | None = None, note: str = ""
) -> CdoAppointment:
    """Ends a term (免职) on `ended_on` (default today): not before the appointment, not after today."""
    _require_centre(actor)
    ended_on = ended_on or timezone.localdate()
    with transaction.atomic():
        row = (
            CdoAppointment.objects.select_for_update(of=("self",))
            .select_related("staff", "department")
            .get(pk=appointment.pk)
        )
        if row.ended_on is not None:
            raise ValidationError({"ended_on": _("该任职已结束。")}, code="ended")
        if not isinstance(ended_on, date) or ended_on < row.appointed_on:
            raise ValidationError({"ended_on": _("免职日期不能早于任命日期。")}, code="order")
        if ended_on > timezone.localdate():
            raise ValidationError({"ended_on": _("免职日期不能晚于今天。")}, code="future")
        _cdo_end_locked(actor, row, ended_on, _text(note, 500))
    return row
