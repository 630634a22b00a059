"""数据质量 (issue 15): rules per resource, runs on demand and on schedule, results, failed rows, scores, and a
correction task (纠错, origin quality) for the 数源部门 of each failed rule.

- `quality_rule_save` / `quality_rule_deactivate`: the provider's data officer (DATA_STEWARD of the provider or a
  department above it) or the centre writes a resource's rules; options are checked per kind (Chinese field errors).
- `quality_run_request`: 立即检查 — a queued run, the Huey task `quality_run_execute_task` queued on commit.
- `quality_run_execute`: claims a queued run (conditional update, so two consumers never run it twice), snapshots
  the data and evaluates the resource's contract with Soda (`datahub/quality`), then writes, per rule in its own
  short transaction, the result with up to 1,000 failed rows (record key + masked value) and moves `done_rules`
  (the page polls it); finally the scores (QualityScore) and the run's status. A failure marks the run "error"
  with a Chinese reason; nothing half-written stays (each rule's rows commit with its result).
- `quality_due`: the periodic sweep — resources with active rules whose last run is older than their re-run
  interval get a scheduled run (claimed under the resource's row lock).

A failed rule opens one correction task (`objection_open`, origin quality) for the resource's provider with the
working-day deadline the objections part sets; while that task is open (submitted/verifying), later failures of
the same rule link to it instead of opening another.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from yiwang.core.audit import audit_record
from yiwang.core.principal import Principal

from ..masking import mask_value
from ..models import (
    DataClass,
    DataElement,
    DataResource,
    Mask,
    QualityFailedRow,
    QualityResult,
    QualityRule,
    QualityRun,
    QualityScore,
    ResourceField,
    RuleKind,
)
from ..quality import cycles
from ..quality.contracts import COLUMN_KINDS
from ..quality.sqlchecks import validator_name
from ..selectors.catalogue import resource_may_manage

log = logging.getLogger("yiwang.datahub")

# A run queued or running for longer than this was lost with its process: another may start.
STALE_RUN = timedelta(hours=2)
OPEN_OBJECTION = ("submitted", "verifying")
VALUE_LIMIT = 200
RULE_FIELDS = ("kind", "column", "element", "options", "name", "weight", "is_active")
ACTIVE_RUN = (QualityRun.Status.QUEUED, QualityRun.Status.RUNNING)


# --- rules ----------------------------------------------------------------------------------------------------
def _require_manage(actor: Principal | None, resource: DataResource, *, system_ok: bool = False) -> None:
    """The provider's data officer or the centre; `actor` None is the platform itself (demo, commands) where the
    caller allows it."""
    if actor is None and system_ok:
        return
    if actor is None or not resource_may_manage(actor, resource):
        raise PermissionDenied(_("只有该资源提供部门的数据专员或大数据中心可以维护质量规则。"))


def _number_option(options: dict, name: str, errors: dict, *, low: float = 0, high: float | None = None):
    if options.get(name) in (None, ""):
        options.pop(name, None)
        return None
    try:
        value = float(options[name])
    except (TypeError, ValueError):
        errors["options"] = _("%(name)s 应为数字。") % {"name": name}
        return None
    if value < low or (high is not None and value > high):
        errors["options"] = (
            _("%(name)s 应在 %(low)s 到 %(high)s 之间。")
            % {"name": name, "low": f"{low:g}", "high": f"{high:g}"}
            if high is not None
            else _("%(name)s 不能小于 %(low)s。") % {"name": name, "low": f"{low:g}"}
        )
        return None
    options[name] = int(value) if value == int(value) else value
    return value


def other_resource(ref: Any) -> DataResource | None:
    """The resource a reference/consistency rule points at: by public id or code (newest published version)."""
    text = str(ref or "").strip()
    if not text:
        return None
    try:
        return DataResource.objects.filter(public_id=UUID(text)).first()
    except ValueError:
        pass
    rows = DataResource.objects.filter(code=text)
    return (
        rows.filter(status=DataResource.Status.PUBLISHED).order_by("-version").first()
        or rows.order_by("-version").first()
    )


def quality_rule_validate(resource: DataResource, values: dict) -> dict:
    """The rule's values checked and normalised; ValidationError with Chinese messages per field."""
    errors: dict[str, str] = {}
    kind = str(values.get("kind") or "").strip()
    if kind not in RuleKind.values:
        errors["kind"] = _("请选择规则类型。")
    name = str(values.get("name") or "").strip()
    if not name:
        errors["name"] = _("请填写规则名称。")
    elif len(name) > 120:
        errors["name"] = _("最多 %(n)s 个字符。") % {"n": 120}
    column = str(values.get("column") or "").strip()
    field_names = set(resource.fields.values_list("name", flat=True))
    if kind in COLUMN_KINDS and not column:
        errors["column"] = _("该类型的规则须指定字段。")
    elif column and column not in field_names and kind != RuleKind.FRESHNESS:
        errors["column"] = _("资源没有字段“%(column)s”。") % {"column": column[:64]}
    options = values.get("options")
    if options in (None, ""):
        options = {}
    if not isinstance(options, dict):
        errors["options"] = _("规则参数应为对象（JSON）。")
        options = {}
    options = dict(options)
    element = values.get("element")
    if isinstance(element, str):
        found = DataElement.objects.filter(identifier=element.strip()).first() if element.strip() else None
        if element.strip() and found is None:
            errors["element"] = _("没有标识为“%(id)s”的数据元。") % {"id": element.strip()[:20]}
        element = found
    if element is None and kind == RuleKind.INVALID and column and not options.get("valid_values"):
        bound = ResourceField.objects.filter(resource=resource, name=column).select_related("element").first()
        element = bound.element if bound is not None else None
    weight = values.get("weight", 1)
    try:
        weight = int(weight)
        if not 1 <= weight <= 100:
            raise ValueError
    except (TypeError, ValueError):
        errors["weight"] = _("权重应为 1 到 100 的整数。")
        weight = 1
    if kind == RuleKind.ROW_COUNT:
        low = _number_option(options, "min", errors)
        high = _number_option(options, "max", errors)
        if low is not None and high is not None and high < low:
            errors["options"] = _("最大记录数不能小于最小记录数。")
    elif kind in (
        RuleKind.MISSING,
        RuleKind.DUPLICATE,
        RuleKind.INVALID,
        RuleKind.REFERENCE,
        RuleKind.CONSISTENCY,
    ):
        _number_option(options, "max_percent", errors, high=100)
    if kind == RuleKind.INVALID:
        if options.get("validator"):
            canonical = validator_name(options["validator"])
            if not canonical:
                errors["options"] = _("未知的校验规则（可用：gb11643、gb32100、gbt2260、phone）。")
            options["validator"] = canonical
        elif options.get("valid_values") not in (None, ""):
            listed = options["valid_values"]
            if not isinstance(listed, list) or not listed or len(listed) > 1000:
                errors["options"] = _("valid_values 应为 1 到 1000 个取值的列表。")
            else:
                options["valid_values"] = [str(v)[:100] for v in listed]
        elif element is None or not (element.validator or element.code_list_id):
            errors["element"] = _(
                "无效值规则须指定带代码表或校验规则的数据元，或在参数中给出 validator 或 valid_values。"
            )
    if kind in (RuleKind.REFERENCE, RuleKind.CONSISTENCY):
        other = other_resource(options.get("resource"))
        if other is None:
            errors["options"] = _("请在参数中用 resource 指明被引用或比对的数据资源（资源代码或标识）。")
        else:
            options["resource"] = other.code
            other_fields = set(other.fields.values_list("name", flat=True))
            wanted = str(options.get("column") or (column if kind == RuleKind.CONSISTENCY else "")).strip()
            if not wanted or wanted not in other_fields:
                errors["options"] = _("被引用资源没有字段“%(column)s”。") % {"column": wanted[:64]}
            if kind == RuleKind.CONSISTENCY:
                key = str(options.get("key") or "").strip()
                other_key = str(options.get("other_key") or key).strip()
                if not key or key not in field_names:
                    errors["options"] = _("请用 key 指明本资源的关联键字段。")
                elif other_key not in other_fields:
                    errors["options"] = _("被比对资源没有关联键字段“%(column)s”。") % {
                        "column": other_key[:64]
                    }
    if kind == RuleKind.FRESHNESS:
        _number_option(options, "max_age_hours", errors, low=0.01)
    if errors:
        raise ValidationError(errors)
    return {
        "kind": kind,
        "column": column,
        "element": element,
        "options": options,
        "name": name,
        "weight": weight,
        "is_active": bool(values.get("is_active", True)),
    }


def _rule_snapshot(rule: QualityRule) -> dict:
    return {
        "kind": rule.kind,
        "column": rule.column,
        "element": rule.element.identifier if rule.element_id else "",
        "options": rule.options,
        "name": rule.name,
        "weight": rule.weight,
        "is_active": rule.is_active,
    }


def quality_rule_save(
    *, actor: Principal | None, resource: DataResource, values: dict, rule: QualityRule | None = None
) -> QualityRule:
    """Creates (rule None) or changes a rule of `resource`; audited. `actor` None: the platform (demo)."""
    _require_manage(actor, resource, system_ok=True)
    if rule is not None and rule.resource_id != resource.pk:
        raise PermissionDenied(_("规则不属于该资源。"))
    clean = quality_rule_validate(resource, {k: v for k, v in values.items() if k in RULE_FIELDS})
    with transaction.atomic():
        before = None
        if rule is None:
            rule = QualityRule(resource=resource, created_by=getattr(actor, "staff", None))
        else:
            rule = QualityRule.objects.select_for_update().get(pk=rule.pk)
            before = _rule_snapshot(rule)
        for name, value in clean.items():
            setattr(rule, name, value)
        rule.save()
        audit_record(
            actor=actor,
            action="datahub.quality.rule_save",
            object_type="quality_rule",
            object_id=str(rule.public_id),
            before=before,
            after={"resource": resource.code, **_rule_snapshot(rule)},
        )
    return rule


def quality_rule_deactivate(*, actor: Principal, rule: QualityRule) -> QualityRule:
    """停用 a rule (its results stay for the history)."""
    _require_manage(actor, rule.resource)
    with transaction.atomic():
        rule = QualityRule.objects.select_for_update().get(pk=rule.pk)
        rule.is_active = False
        rule.save(update_fields=["is_active", "updated_at"])
        audit_record(
            actor=actor,
            action="datahub.quality.rule_deactivate",
            object_type="quality_rule",
            object_id=str(rule.public_id),
            after={"resource": rule.resource.code, "name": rule.name},
        )
    return rule


# --- runs -----------------------------------------------------------------------------------------------------
def _active_rules(resource: DataResource) -> list[QualityRule]:
    return list(
        QualityRule.objects.filter(resource=resource, is_active=True)
        .select_related("element__code_list")
        .order_by("id")
    )


def _engine(resource: DataResource) -> str:
    from ..quality.sources import is_postgres

    table = (resource.mount_options or {}).get("table") if isinstance(resource.mount_options, dict) else None
    return QualityRun.Engine.POSTGRES if table and is_postgres() else QualityRun.Engine.DUCKDB


def _new_run(*, resource: DataResource, trigger: str, actor: Principal | None) -> QualityRun:
    """In the caller's transaction, with the resource locked: a queued run (refused while one is active)."""
    now = timezone.now()
    busy = QualityRun.objects.filter(resource=resource, status__in=ACTIVE_RUN, queued_at__gt=now - STALE_RUN)
    if busy.exists():
        raise ValidationError({"resource": _("该资源正在检查，请稍后再试。")})
    rules = QualityRule.objects.filter(resource=resource, is_active=True).count()
    if not rules:
        raise ValidationError({"resource": _("该资源还没有启用的质量规则。")})
    run = QualityRun.objects.create(
        resource=resource,
        trigger=trigger,
        engine=_engine(resource),
        total_rules=rules,
        requested_by=getattr(actor, "staff", None) if actor is not None else None,
    )
    audit_record(
        actor=actor,
        action="datahub.quality.run_queue",
        object_type="quality_run",
        object_id=str(run.public_id),
        after={"resource": resource.code, "trigger": trigger, "rules": rules},
    )
    return run


def quality_run_request(*, actor: Principal, resource: DataResource) -> QualityRun:
    """立即检查: a queued run of the resource's active rules; the task runs it once the request commits."""
    _require_manage(actor, resource)
    with transaction.atomic():
        locked = DataResource.objects.select_for_update().get(pk=resource.pk)
        run = _new_run(resource=locked, trigger=QualityRun.Trigger.DEMAND, actor=actor)
        run_id = run.pk

        def enqueue() -> None:
            from ..tasks_quality import quality_run_execute_task

            quality_run_execute_task(run_id)

        transaction.on_commit(enqueue)
    return run


def _claim(run: QualityRun) -> bool:
    now = timezone.now()
    return bool(
        QualityRun.objects.filter(pk=run.pk, status=QualityRun.Status.QUEUED).update(
            status=QualityRun.Status.RUNNING, started_at=now
        )
    )


def _fail(run: QualityRun, reason: str) -> QualityRun:
    with transaction.atomic():
        QualityRun.objects.filter(pk=run.pk).update(
            status=QualityRun.Status.ERROR, error=reason[:2000], finished_at=timezone.now()
        )
        audit_record(
            actor=None,
            action="datahub.quality.run_error",
            object_type="quality_run",
            object_id=str(run.public_id),
            after={"resource": run.resource.code, "reason": reason[:300]},
        )
    run.refresh_from_db()
    return run


def _field_masks(resource: DataResource) -> dict[str, str]:
    masks = {}
    for f in resource.fields.all():
        mask = f.default_mask
        if mask in ("", Mask.NONE) and f.data_class in (DataClass.PERSONAL, DataClass.SENSITIVE_PERSONAL):
            mask = Mask.MASK_SHOW_LAST_4
        masks[f.name] = mask or Mask.NONE
    return masks


def _masked(value: Any, mask: str) -> str:
    if value is None:
        return ""
    shown = mask_value(mask, value) if mask and mask != Mask.NONE else value
    if shown is None:
        return ""
    text = shown.isoformat() if hasattr(shown, "isoformat") else str(shown)
    return text[:VALUE_LIMIT]


def _reason(rule: QualityRule, outcome) -> str:
    if outcome.failed_count:
        return _("质量规则“%(rule)s”未通过：%(n)d 条记录有问题（%(p).2f%%），请核实并更正。") % {
            "rule": rule.name,
            "n": outcome.failed_count,
            "p": outcome.failed_percent or 0,
        }
    return _("质量规则“%(rule)s”未通过，请核实并更正。") % {"rule": rule.name}


def _subject_of(resource: DataResource, record_key: str) -> dict:
    """The data subject of one failing record, for a correction task about that record."""
    from yiwang.core.models import Organisation, Person

    try:
        UUID(record_key)
    except ValueError:
        return {}
    if resource.mount_target == "core.person":
        person = Person.objects.filter(public_id=record_key).first()
        return {"subject_person": person} if person is not None else {}
    if resource.mount_target == "core.organisation":
        organisation = Organisation.objects.filter(public_id=record_key).first()
        return {"subject_organisation": organisation} if organisation is not None else {}
    return {}


def _objector_of(run: QualityRun) -> Principal | None:
    """Who asked for the run on demand is the objector of the tasks it opens (told of the correction or the
    refusal); a scheduled run's tasks are the system's."""
    if run.trigger != QualityRun.Trigger.DEMAND or run.requested_by_id is None:
        return None
    account = run.requested_by.account
    return Principal.for_account(account) if account is not None else None


def _open_task(result: QualityResult, rule: QualityRule, outcome, rows: list[QualityFailedRow]) -> None:
    """One open correction task per rule: link the open one, else open a new one (origin quality)."""
    from ..models import Objection
    from .objections import objection_open

    open_task = (
        Objection.objects.filter(
            origin=Objection.Origin.QUALITY, quality_result__rule=rule, status__in=OPEN_OBJECTION
        )
        .order_by("-id")
        .first()
    )
    if open_task is None:
        resource = rule.resource
        single = rows[0] if len(rows) == 1 else None
        open_task = objection_open(
            principal=_objector_of(result.run),
            origin=Objection.Origin.QUALITY,
            source_department=resource.provider,
            reason=_reason(rule, outcome),
            resource=resource,
            field_name=rule.column if rule.kind != RuleKind.FRESHNESS else "",
            record_key=single.record_key if single is not None else "",
            current_value=single.value_masked if single is not None else "",
            quality_result=result,
            **(_subject_of(resource, single.record_key) if single is not None else {}),
        )
    QualityResult.objects.filter(pk=result.pk).update(objection=open_task)
    result.objection = open_task


def _write_result(run: QualityRun, rule: QualityRule, outcome, masks: dict[str, str]) -> QualityResult:
    with transaction.atomic():
        result = QualityResult.objects.create(
            run=run,
            rule=rule,
            outcome=outcome.outcome,
            rows_tested=outcome.rows_tested,
            failed_count=outcome.failed_count,
            metrics={**outcome.metrics, "failed_percent": outcome.failed_percent},
            message=outcome.message[:2000],
        )
        column = rule.column if rule.kind != RuleKind.FRESHNESS else ""
        mask = masks.get(column, Mask.MASK_SHOW_LAST_4)
        rows = [
            QualityFailedRow(
                result=result, record_key=key[:64], column=column[:64], value_masked=_masked(value, mask)
            )
            for key, value in outcome.failed_rows
        ]
        QualityFailedRow.objects.bulk_create(rows, batch_size=500)
        if outcome.outcome == QualityResult.Outcome.FAILED:
            _open_task(result, rule, outcome, rows)
        QualityRun.objects.filter(pk=run.pk).update(done_rules=F("done_rules") + 1)
    return result


def _freshness(resource: DataResource, results: list[tuple[QualityRule, Any]], now: datetime):
    window = cycles.window_hours(resource.update_cycle)
    for rule, outcome in results:
        if rule.kind == RuleKind.FRESHNESS and outcome.outcome in ("passed", "failed"):
            age = outcome.metrics.get("freshness_in_hours")
            if outcome.metrics.get("threshold_value") is not None and age is None:
                age = outcome.metrics.get("threshold_value")
            custom = (rule.options or {}).get("max_age_hours")
            rule_window = float(custom) if custom not in (None, "") else window
            if rule_window is None:
                return cycles.freshness_score(None, None)
            if age is None and outcome.outcome == "passed":
                return cycles.freshness_score(0, rule_window)
            return cycles.freshness_score(float(age) if age is not None else None, rule_window)
    updated = resource.data_updated_at
    age = (now - updated).total_seconds() / 3600 if updated else None
    return cycles.freshness_score(age, window)


def quality_run_execute(*, run: QualityRun) -> QualityRun:
    """Runs a queued run now (see the module's docstring); returns it finished (passed/failed/error) or, when
    another consumer took it, as it is."""
    from ..quality.evaluate import evaluate_resource, evaluate_table
    from ..quality.snapshot import SnapshotError
    from ..quality.sources import postgres_params, postgres_target

    if not _claim(run):
        run.refresh_from_db()
        return run
    run = QualityRun.objects.select_related("resource__provider").get(pk=run.pk)
    resource = run.resource
    rules = _active_rules(resource)
    for rule in rules:
        if rule.kind in (RuleKind.REFERENCE, RuleKind.CONSISTENCY):
            rule._other_resource = other_resource((rule.options or {}).get("resource"))
    now = timezone.now()
    try:
        if run.engine == QualityRun.Engine.POSTGRES:
            options = resource.mount_options or {}
            params = postgres_params()
            schema, _dot, table = str(options.get("table")).rpartition(".")
            target = postgres_target(
                table,
                database=params["database"],
                schema=schema or "public",
                key_column=str(options.get("key_column") or "record_key"),
            )
            evaluation = evaluate_table(resource, rules, target, now=now, engine="postgres", params=params)
        else:
            evaluation = evaluate_resource(resource, rules, now=now)
    except SnapshotError as exc:
        return _fail(run, exc.reason)
    except Exception as exc:  # noqa: BLE001 - an engine failure is an errored run, never a lost one
        log.exception("quality run failed", extra={"run": str(run.public_id)})
        return _fail(run, _("数据质量引擎出错：%(error)s") % {"error": exc.__class__.__name__})
    if not evaluation.outcomes and evaluation.error:
        return _fail(run, evaluation.error)
    QualityRun.objects.filter(pk=run.pk).update(
        contract=evaluation.contract, rows_scanned=evaluation.rows, total_rules=len(rules)
    )
    masks = _field_masks(resource)
    decided: list[tuple[QualityRule, Any]] = []
    from ..quality.evaluate import RuleOutcome

    for rule in rules:
        outcome = evaluation.outcomes.get(rule.pk) or RuleOutcome(
            outcome="error", message=_("数据质量引擎未能评估该规则。")
        )
        _write_result(run, rule, outcome, masks)
        decided.append((rule, outcome))
    marks = [
        (rule.weight, cycles.rule_mark(outcome.outcome, outcome.failed_percent))
        for rule, outcome in decided
        if rule.kind != RuleKind.FRESHNESS
    ]
    quality = cycles.quality_score(marks)
    freshness = _freshness(resource, decided, now)
    failed = any(o.outcome != "passed" for _r, o in decided)
    status = QualityRun.Status.FAILED if failed else QualityRun.Status.PASSED
    with transaction.atomic():
        finished = timezone.now()
        QualityRun.objects.filter(pk=run.pk).update(
            status=status, quality_score=quality, freshness_score=freshness, finished_at=finished
        )
        QualityScore.objects.update_or_create(
            resource=resource,
            defaults={
                "provider": resource.provider,
                "run": run,
                "quality": quality,
                "freshness": freshness,
                "measured_at": finished,
            },
        )
        audit_record(
            actor=None,
            action="datahub.quality.run_finish",
            object_type="quality_run",
            object_id=str(run.public_id),
            after={
                "resource": resource.code,
                "status": status,
                "quality": str(quality),
                "freshness": str(freshness),
                "rows": evaluation.rows,
                "failed_rules": sum(1 for _r, o in decided if o.outcome == "failed"),
            },
        )
    run.refresh_from_db()
    return run


def quality_due(*, now: datetime | None = None, limit: int = 20) -> list[int]:
    """The scheduled sweep: runs the resources whose last run is older than their re-run interval (daily by
    default). Each resource is claimed under its row lock with a queued run, so two consumers run it once."""
    now = now or timezone.now()
    resource_ids = list(
        QualityRule.objects.filter(is_active=True)
        .exclude(resource__status__in=(DataResource.Status.RETIRED, DataResource.Status.SUPERSEDED))
        .values_list("resource_id", flat=True)
        .distinct()
        .order_by("resource_id")[:1000]
    )
    runs: list[int] = []
    for resource_id in resource_ids:
        if len(runs) >= limit:
            break
        with transaction.atomic():
            resource = DataResource.objects.select_for_update().filter(pk=resource_id).first()
            if resource is None:
                continue
            last = (
                QualityRun.objects.filter(resource=resource)
                .filter(Q(status__in=ACTIVE_RUN, queued_at__gt=now - STALE_RUN) | ~Q(status__in=ACTIVE_RUN))
                .order_by("-id")
                .values_list("queued_at", flat=True)
                .first()
            )
            if last is not None and last > now - timedelta(hours=cycles.rerun_hours(resource.update_cycle)):
                continue
            try:
                run = _new_run(resource=resource, trigger=QualityRun.Trigger.SCHEDULE, actor=None)
            except ValidationError:
                continue
        runs.append(quality_run_execute(run=run).pk)
    return runs
