"""指标库 and the indicator → task loop (指标 → 任务 → 督办 → 指标).

- `indicator_create` / `indicator_update` (TASK_ISSUE): the metric must be registered in `collab.metrics` and
  offered for the indicator's scope; the threshold lies on the failing side of the target (higher-is-better:
  threshold ≤ target; lower-is-better: threshold ≥ target); weight 0.01–100; 整改时限 1–60 working days.
- `indicator_compute(indicator=, period_start=, period_end=)`: one grouped metric query for every unit of the
  scope; each unit's IndicatorValue for the period is written or replaced in place (the row is kept, so the task
  it opened stays linked). A value is **breached** when it is past the threshold: below it for higher-is-better,
  above it for lower-is-better; no data is never a breach.
  For a breached value of an indicator with `opens_task`, the system issues a 督办 task to the unit through
  `services.tasks.task_issue` (source 指标预警, issuing unit = the indicator's owner, due in `task_workdays`
  working days) — **at most one task per (indicator, unit, period)**: a value that already has a task (in any
  state, cancelled included: the issuer decided) never opens another, however often it is recomputed.
  When a unit's value of a **closed** period (its end before today) is no longer breached, the latest earlier task
  the indicator opened for that unit gets a note (TaskEvent 批示 "【指标恢复】…", once per task) — the loop closes.
  The indicator row is locked for the computation, so two consumers computing the same indicator act once.
- `indicators_compute_due(now=None)`: every active indicator for its current and previous period (the Huey job).

Periods: weekly (Monday–Sunday), monthly, quarterly, yearly; 一次性 (once) counts as the calendar year.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from yiwang.core.audit import audit_record
from yiwang.core.models import Department
from yiwang.core.permissions import TASK_ISSUE
from yiwang.core.principal import Principal
from yiwang.core.workdays import add_working_days, working_calendar

from ..metrics import metric_batch, metric_get, scope_units
from ..models import Indicator, IndicatorValue, Period, Task, TaskEvent

__all__ = [
    "RECOVERY_MARK",
    "ComputeResult",
    "breached",
    "check_fields",
    "indicator_compute",
    "indicator_create",
    "indicator_update",
    "indicators_compute_due",
    "period_bounds",
    "period_label",
    "period_previous",
]

CODE_RE = re.compile(r"^[A-Za-z0-9_-]{2,32}$")
RECOVERY_MARK = "【指标恢复】"
MAX_TASK_WORKDAYS = 60
EDITABLE = (
    "name",
    "definition",
    "metric",
    "unit",
    "direction",
    "scope",
    "category",
    "owner_department",
    "period",
    "target",
    "threshold",
    "weight",
    "opens_task",
    "task_workdays",
    "is_active",
)


# --- periods ---------------------------------------------------------------------------------------------------
def period_bounds(period: str, day: date) -> tuple[date, date]:
    """The period (of kind `period`) that contains `day`: (first day, last day)."""
    if period == Period.WEEKLY:
        start = day - timedelta(days=day.weekday())
        return start, start + timedelta(days=6)
    if period == Period.MONTHLY:
        start = day.replace(day=1)
        nxt = (start + timedelta(days=32)).replace(day=1)
        return start, nxt - timedelta(days=1)
    if period == Period.QUARTERLY:
        month = 3 * ((day.month - 1) // 3) + 1
        start = date(day.year, month, 1)
        nxt = date(day.year + 1, 1, 1) if month == 10 else date(day.year, month + 3, 1)
        return start, nxt - timedelta(days=1)
    return date(day.year, 1, 1), date(day.year, 12, 31)


def period_previous(period: str, start: date) -> tuple[date, date]:
    return period_bounds(period, start - timedelta(days=1))


def period_label(period: str, start: date, end: date) -> str:
    if period == Period.MONTHLY:
        return _("%(y)d年%(m)d月") % {"y": start.year, "m": start.month}
    if period == Period.QUARTERLY:
        return _("%(y)d年第%(q)d季度") % {"y": start.year, "q": (start.month - 1) // 3 + 1}
    if period in (Period.YEARLY, Period.ONCE):
        return _("%(y)d年") % {"y": start.year}
    return f"{start:%Y-%m-%d}～{end:%Y-%m-%d}"


def breached(indicator: Indicator, value: Decimal | None) -> bool:
    if value is None:
        return False
    if indicator.direction == Indicator.Direction.LOWER:
        return value > indicator.threshold
    return value < indicator.threshold


# --- the library -----------------------------------------------------------------------------------------------
def _decimal(value, field_name: str, errors: dict, *, label: str) -> Decimal | None:
    try:
        number = Decimal(str(value))
    except (InvalidOperation, TypeError, ValueError):
        errors.setdefault(field_name, []).append(_("%(label)s应为数字。") % {"label": label})
        return None
    if not number.is_finite() or abs(number) >= Decimal("1e10"):
        errors.setdefault(field_name, []).append(_("%(label)s超出范围。") % {"label": label})
        return None
    return number.quantize(Decimal("0.01"))


def check_fields(data: dict) -> dict:
    """Validates a full set of library fields (field-level Chinese messages); returns them cleaned (the admin's
    form checks with it before saving)."""
    errors: dict[str, list[str]] = {}

    def error(name: str, message: str) -> None:
        errors.setdefault(name, []).append(message)

    out = dict(data)
    for name, label, max_length in (("name", _("指标名称"), 100), ("definition", _("指标定义"), 4000)):
        text = str(data.get(name) or "").strip()
        if not text:
            error(name, _("请填写%(label)s。") % {"label": label})
        elif len(text) > max_length:
            error(name, _("%(label)s不能超过 %(n)d 个字。") % {"label": label, "n": max_length})
        out[name] = text
    definition = metric_get(str(data.get("metric") or ""))
    if definition is None:
        error("metric", _("没有这个指标算法。"))
    scope = data.get("scope") or Indicator.Scope.DEPARTMENT
    if scope not in Indicator.Scope.values:
        error("scope", _("考核对象只能是区直部门或镇街。"))
    elif definition is not None and scope not in definition.scopes:
        error("scope", _("该指标算法不适用于所选考核对象。"))
    out["scope"] = scope
    out["unit"] = str(data.get("unit") or (definition.unit if definition else "%")).strip()[:16]
    out["direction"] = data.get("direction") or (definition.direction if definition else "higher")
    if out["direction"] not in Indicator.Direction.values:
        error("direction", _("方向只能是越高越好或越低越好。"))
    out["category"] = data.get("category") or (definition.category if definition else "governance")
    if out["category"] not in Indicator.Category.values:
        error("category", _("类别只能是内部治理或公众评价。"))
    out["period"] = data.get("period") or Period.MONTHLY
    if out["period"] not in Period.values:
        error("period", _("统计周期无效。"))
    owner = data.get("owner_department")
    if not isinstance(owner, Department):
        error("owner_department", _("请选择责任部门。"))
    elif not owner.is_active:
        error("owner_department", _("责任部门已停用。"))
    target = _decimal(data.get("target"), "target", errors, label=_("目标值"))
    threshold = _decimal(data.get("threshold"), "threshold", errors, label=_("预警阈值"))
    weight = _decimal(data.get("weight", 1), "weight", errors, label=_("权重"))
    if weight is not None and not (Decimal("0.01") <= weight <= Decimal(100)):
        error("weight", _("权重应在 0.01 至 100 之间。"))
    if target is not None and threshold is not None and out["direction"] in Indicator.Direction.values:
        if out["direction"] == Indicator.Direction.HIGHER and threshold > target:
            error("threshold", _("越高越好的指标，预警阈值不能高于目标值。"))
        if out["direction"] == Indicator.Direction.LOWER and threshold < target:
            error("threshold", _("越低越好的指标，预警阈值不能低于目标值。"))
    out.update(target=target, threshold=threshold, weight=weight)
    workdays = data.get("task_workdays", 10)
    if not isinstance(workdays, int) or isinstance(workdays, bool) or not 1 <= workdays <= MAX_TASK_WORKDAYS:
        error("task_workdays", _("整改时限应为 1 至 %(n)d 个工作日。") % {"n": MAX_TASK_WORKDAYS})
    out["opens_task"] = bool(data.get("opens_task", True))
    out["is_active"] = bool(data.get("is_active", True))
    if errors:
        raise ValidationError(errors)
    return out


def _snapshot(indicator: Indicator) -> dict:
    return {
        "code": indicator.code,
        "name": indicator.name,
        "metric": indicator.metric,
        "scope": indicator.scope,
        "direction": indicator.direction,
        "category": indicator.category,
        "period": indicator.period,
        "owner": indicator.owner_department.code,
        "target": indicator.target,
        "threshold": indicator.threshold,
        "weight": indicator.weight,
        "opens_task": indicator.opens_task,
        "task_workdays": indicator.task_workdays,
        "is_active": indicator.is_active,
    }


def indicator_create(
    *,
    actor: Principal,
    code: str,
    name: str,
    definition: str,
    metric: str,
    owner_department: Department,
    target,
    threshold,
    scope: str = Indicator.Scope.DEPARTMENT,
    period: str = Period.MONTHLY,
    unit: str = "",
    direction: str = "",
    category: str = "",
    weight=1,
    opens_task: bool = True,
    task_workdays: int = 10,
    is_active: bool = True,
) -> Indicator:
    """Adds an indicator to the library (TASK_ISSUE)."""
    actor.require(TASK_ISSUE)
    code = (code or "").strip()
    if not CODE_RE.match(code):
        raise ValidationError({"code": _("指标编码应为 2–32 位字母、数字、下划线或连字符。")}, code="invalid")
    data = check_fields(
        {
            "name": name,
            "definition": definition,
            "metric": metric,
            "owner_department": owner_department,
            "target": target,
            "threshold": threshold,
            "scope": scope,
            "period": period,
            "unit": unit,
            "direction": direction,
            "category": category,
            "weight": weight,
            "opens_task": opens_task,
            "task_workdays": task_workdays,
            "is_active": is_active,
        }
    )
    with transaction.atomic():
        if Indicator.objects.filter(code=code).exists():
            raise ValidationError({"code": _("指标编码已存在。")}, code="unique")
        indicator = Indicator.objects.create(code=code, **data)
        audit_record(
            actor=actor,
            action="collab.indicator.create",
            object_type="collab.indicator",
            object_id=str(indicator.public_id),
            after=_snapshot(indicator),
        )
    return indicator


def indicator_update(*, actor: Principal, indicator: Indicator, **changes) -> Indicator:
    """Changes library fields (TASK_ISSUE); the code stays. Unknown fields are refused."""
    actor.require(TASK_ISSUE)
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise ValidationError({name: _("该字段不能修改。") for name in sorted(unknown)}, code="invalid")
    with transaction.atomic():
        locked = Indicator.objects.select_for_update().select_related("owner_department").get(pk=indicator.pk)
        before = _snapshot(locked)
        data = {name: getattr(locked, name) for name in EDITABLE}
        data.update(changes)
        cleaned = check_fields(data)
        for name in EDITABLE:
            setattr(locked, name, cleaned[name])
        locked.save()
        audit_record(
            actor=actor,
            action="collab.indicator.update",
            object_type="collab.indicator",
            object_id=str(locked.public_id),
            before=before,
            after=_snapshot(locked),
        )
    return locked


# --- computing and the loop ------------------------------------------------------------------------------------
@dataclass
class ComputeResult:
    indicator: Indicator
    period_start: date
    period_end: date
    values: list[IndicatorValue] = field(default_factory=list)
    opened: list[Task] = field(default_factory=list)
    recovered: list[Task] = field(default_factory=list)

    @property
    def breached(self) -> int:
        return sum(1 for v in self.values if v.breached)


def _fmt(value: Decimal | None, unit: str) -> str:
    if value is None:
        return _("无数据")
    return f"{value.normalize():f}{unit}" if value == value.to_integral() else f"{value:.2f}{unit}"


def _task_for(indicator: Indicator, row: IndicatorValue, unit: Department, today: date) -> Task:
    from .tasks import task_issue

    label = period_label(indicator.period, row.period_start, row.period_end)
    title = _("指标预警：%(name)s（%(unit)s，%(period)s）") % {
        "name": indicator.name,
        "unit": unit.name,
        "period": label,
    }
    description = _(
        "%(period)s%(name)s为 %(value)s，越过预警阈值 %(threshold)s（目标值 %(target)s，%(direction)s）。"
        "请分析原因、制定整改措施并按期报送进展。指标定义：%(definition)s"
    ) % {
        "period": label,
        "name": indicator.name,
        "value": _fmt(row.value, indicator.unit),
        "threshold": _fmt(indicator.threshold, indicator.unit),
        "target": _fmt(indicator.target, indicator.unit),
        "direction": indicator.get_direction_display(),
        "definition": indicator.definition,
    }
    due_on = add_working_days(max(today, timezone.localdate()), indicator.task_workdays, working_calendar())
    return task_issue(
        actor=None,
        title=title[:200],
        description=description,
        lead_department=unit,
        due_on=due_on,
        source=Task.Source.INDICATOR,
        indicator=indicator,
        indicator_value=row,
        issuing_department=indicator.owner_department,
        report_every_workdays=min(5, indicator.task_workdays),
    )


def _note_recoveries(
    indicator: Indicator, rows: list[IndicatorValue], period_start: date, today: date
) -> list[Task]:
    """The latest earlier indicator task of each unit whose value is back within the threshold gets a note."""
    recovered = {r.department_id: r for r in rows if r.value is not None and not r.breached}
    if not recovered or rows[0].period_end >= today:
        return []
    tasks = (
        Task.objects.filter(
            indicator=indicator,
            lead_department_id__in=list(recovered),
            indicator_value__period_start__lt=period_start,
        )
        .exclude(status=Task.Status.CANCELLED)
        .order_by("lead_department_id", "-indicator_value__period_start", "-id")
    )
    latest: dict[int, Task] = {}
    for task in tasks:
        latest.setdefault(task.lead_department_id, task)
    if not latest:
        return []
    noted = set(
        TaskEvent.objects.filter(
            task__in=list(latest.values()), kind=TaskEvent.Kind.NOTE, note__startswith=RECOVERY_MARK
        ).values_list("task_id", flat=True)
    )
    out = []
    now = timezone.now()
    for unit_id, task in latest.items():
        if task.pk in noted:
            continue
        row = recovered[unit_id]
        note = RECOVERY_MARK + _("%(period)s%(name)s为 %(value)s，已回到预警阈值 %(threshold)s 以内。") % {
            "period": period_label(indicator.period, row.period_start, row.period_end),
            "name": indicator.name,
            "value": _fmt(row.value, indicator.unit),
            "threshold": _fmt(indicator.threshold, indicator.unit),
        }
        TaskEvent.objects.create(
            task=task,
            kind=TaskEvent.Kind.NOTE,
            actor=None,
            department=indicator.owner_department,
            note=note,
            at=now,
        )
        audit_record(
            actor=None,
            action="collab.task.indicator_recovered",
            object_type="collab.task",
            object_id=str(task.public_id),
            after={"indicator": indicator.code, "period_start": row.period_start, "value": row.value},
        )
        out.append(task)
    return out


def indicator_compute(
    *,
    indicator: Indicator,
    period_start: date,
    period_end: date,
    now: datetime | None = None,
    actor: Principal | None = None,
) -> ComputeResult:
    """Computes the indicator for every unit of its scope over period_start..period_end (see the module doc).
    `actor` (a TASK_ISSUE holder computing on demand) or None (the schedule)."""
    if actor is not None:
        actor.require(TASK_ISSUE)
    if not isinstance(period_start, date) or not isinstance(period_end, date):
        raise ValidationError({"period_start": _("请填写统计周期。")}, code="required")
    if period_end < period_start:
        raise ValidationError({"period_end": _("统计周期结束日不能早于开始日。")}, code="invalid")
    if (period_end - period_start).days > 366:
        raise ValidationError({"period_end": _("统计周期不能超过一年。")}, code="invalid")
    now = now or timezone.now()
    today = timezone.localtime(now).date()
    if period_start > today:
        raise ValidationError({"period_start": _("统计周期尚未开始。")}, code="invalid")
    if metric_get(indicator.metric) is None:
        raise ValidationError({"metric": _("没有这个指标算法。")}, code="invalid")
    with transaction.atomic():
        indicator = (
            Indicator.objects.select_for_update().select_related("owner_department").get(pk=indicator.pk)
        )
        units = list(scope_units(indicator.scope))
        results = metric_batch(indicator.metric, units, period_start, period_end, today=today)
        existing = {
            v.department_id: v
            for v in IndicatorValue.objects.filter(indicator=indicator, period_start=period_start)
        }
        rows: list[IndicatorValue] = []
        create, update = [], []
        for unit in units:
            result = results.get(unit.pk)
            value = result.value if result else None
            row = existing.get(unit.pk) or IndicatorValue(
                indicator=indicator, department=unit, period_start=period_start
            )
            row.department = unit
            row.period_end = period_end
            row.value = value
            row.numerator = result.numerator if result else None
            row.denominator = result.denominator if result else None
            row.breached = breached(indicator, value)
            row.computed_at = now
            (update if row.pk else create).append(row)
            rows.append(row)
        IndicatorValue.objects.bulk_create(create)
        if update:
            IndicatorValue.objects.bulk_update(
                update, ["period_end", "value", "numerator", "denominator", "breached", "computed_at"]
            )
        if create and create[0].pk is None:  # backends that do not return ids from bulk_create
            fresh = {
                v.department_id: v
                for v in IndicatorValue.objects.filter(indicator=indicator, period_start=period_start)
            }
            rows = [fresh[r.department_id] for r in rows]
        result = ComputeResult(
            indicator=indicator, period_start=period_start, period_end=period_end, values=rows
        )
        if indicator.opens_task and indicator.is_active:
            wanted = [r for r in rows if r.breached]
            has_task = set(
                Task.objects.filter(indicator_value__in=[r.pk for r in wanted]).values_list(
                    "indicator_value_id", flat=True
                )
            )
            for row in wanted:
                if row.pk not in has_task:
                    result.opened.append(_task_for(indicator, row, row.department, today))
        if rows:
            result.recovered = _note_recoveries(indicator, rows, period_start, today)
        audit_record(
            actor=actor,
            action="collab.indicator.compute",
            object_type="collab.indicator",
            object_id=str(indicator.public_id),
            after={
                "code": indicator.code,
                "period_start": period_start,
                "period_end": period_end,
                "units": len(rows),
                "breached": result.breached,
                "tasks_opened": [t.code for t in result.opened],
                "recovered": [t.code for t in result.recovered],
            },
        )
    return result


def indicators_compute_due(now: datetime | None = None) -> dict[str, int]:
    """Every active indicator for its current and its previous period (the daily job). One indicator's failure
    is logged and does not stop the others."""
    import logging

    log = logging.getLogger("yiwang.collab.indicators")
    now = now or timezone.now()
    today = timezone.localtime(now).date()
    counts = {"indicators": 0, "values": 0, "breached": 0, "tasks_opened": 0, "recovered": 0, "failed": 0}
    for indicator in (
        Indicator.objects.filter(is_active=True).select_related("owner_department").order_by("code")
    ):
        current = period_bounds(indicator.period, today)
        for start, end in (period_previous(indicator.period, current[0]), current):
            try:
                done = indicator_compute(indicator=indicator, period_start=start, period_end=end, now=now)
            except ValidationError:
                log.exception("indicator %s: computing %s..%s failed", indicator.code, start, end)
                counts["failed"] += 1
                continue
            counts["values"] += len(done.values)
            counts["breached"] += done.breached
            counts["tasks_opened"] += len(done.opened)
            counts["recovered"] += len(done.recovered)
        counts["indicators"] += 1
    return counts
