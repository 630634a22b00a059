"""回流 and harvesting (the return-flow part of issue 14).

回流: a resource designated for a level (`DataResource.return_levels` ∋ 2 town, 3 village, 4 grid) is readable
without a share request by grass-roots staff and systems of that level, limited to their own division, with the
fields' default masks; fields that are 不予共享 never flow down.

Contract used by the gateway: `return_flow_grant(*, system, resource)` returns an `ImplicitGrant` when the
system's department sits at a town, village or grid level the resource is designated for, else None.

Harvesting: `harvest_run(*, harvester)` reads the harvester's source through its plugin (`datahub/harvesters.py`),
validates the rows and replaces the 离岸库 records of its resource in one transaction; a failure marks the run
failed with a Chinese reason and keeps the previous data. The run row itself is written first, in its own short
transaction, so a run in progress (and a failed one) is visible; the network or file read happens outside any
transaction.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from yiwang.core.audit import audit_record
from yiwang.core.models import Division
from yiwang.core.permissions import DATA_CENTRE
from yiwang.core.validators import validate_id_number, validate_phone, validate_uscc

from ..harvesters import HarvestError, harvester_plugin
from ..models import DataElement, DataResource, Harvester, HarvestRun, OffshoreRecord, ShareType
from ..readers_offshore import offshore_key, offshore_key_index

log = logging.getLogger("yiwang.datahub")

RETURN_LEVELS = (Division.Level.TOWN, Division.Level.VILLAGE, Division.Level.GRID)
# A run older than this that still says "running" was lost with its process: another run may start.
STALE_RUN = timedelta(hours=2)
WRITE_BATCH = 1000
DEFAULT_MAX_INVALID_PERCENT = 5
MAX_PROBLEM_SAMPLES = 20
MAX_CHECK_MEMO = 100_000


# --- 回流 -------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ImplicitGrant:
    """What 回流 lets a grass-roots system read without a share request: the resource's fields with their default
    masks, limited to the system department's division."""

    fields: dict[str, str] = field(default_factory=dict)  # field name -> mask
    division_prefix: str = ""
    rate_per_minute: int = 600


def return_levels_of(resource: DataResource) -> frozenset[int]:
    """The levels a resource is designated for (ignoring anything that is not 2, 3 or 4)."""
    levels = resource.return_levels if isinstance(resource.return_levels, list) else []
    out = set()
    for level in levels:
        try:
            value = int(level)
        except (TypeError, ValueError):
            continue
        if value in RETURN_LEVELS:
            out.add(value)
    return frozenset(out)


def returned_fields(resource: DataResource) -> list:
    """The resource's fields that flow down (every field but the 不予共享 ones), in display order."""
    return [f for f in resource.fields.all() if f.share_type != ShareType.NONE]


def return_flow_grant(*, system, resource) -> ImplicitGrant | None:
    """The implicit 回流 grant of a registered system on a resource, or None (the system then needs a ShareGrant).

    Live only when the system is active, the resource published and designated for the level of the system
    department's division (town, village or grid); the rows are limited to that division. Read fresh at every
    call: a resource taken off 回流 stops flowing at the next call."""
    if system is None or resource is None or not getattr(system, "is_active", False):
        return None
    if resource.status != DataResource.Status.PUBLISHED:
        return None
    levels = return_levels_of(resource)
    if not levels:
        return None
    department = system.department
    division = department.division if department is not None else None
    if division is None or not division.is_active or division.level not in levels:
        return None
    masks = {f.name: f.default_mask or "none" for f in returned_fields(resource)}
    if not masks:
        return None
    return ImplicitGrant(fields=masks, division_prefix=division.code)


# --- harvesting ---------------------------------------------------------------------------------------------
@dataclass
class RowProblem:
    row: int  # 1-based position in the source
    field: str
    problem: str

    def as_dict(self) -> dict:
        return {"row": self.row, "field": self.field, "problem": self.problem}


def _element_problem(element: DataElement, value: Any) -> str | None:
    """Why a value does not conform to its element, or None. Uses the elements part's validator when present."""
    try:
        from ..validators import element_value_problem  # the elements part (optional)
    except ImportError:  # pragma: no cover - depends on the parts present
        element_value_problem = None
    if element_value_problem is not None:
        problem = element_value_problem(element, value)
        return str(problem) if problem else None
    if value in (None, ""):
        return None
    text = str(value).strip()
    checks = {
        DataElement.Validator.ID_NUMBER: validate_id_number,
        DataElement.Validator.USCC: validate_uscc,
        DataElement.Validator.PHONE: validate_phone,
    }
    check = checks.get(element.validator)
    if check is not None:
        try:
            check(text)
        except ValidationError as exc:
            return exc.messages[0]
    elif element.validator == DataElement.Validator.DIVISION:
        if not text.isdecimal() or len(text) not in (6, 9, 12, 15):
            return _("行政区划代码应为 6、9、12 或 15 位数字。")
    if element.max_length and len(text) > element.max_length:
        return _("长度超过 %(n)d。") % {"n": element.max_length}
    return None


def _json_value(value: Any) -> Any:
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return format(value, "f")
    return value


@dataclass
class _Checked:
    records: list[tuple[str, str, str, dict]]  # (key, key_index, division_code, row)
    invalid: int
    problems: list[RowProblem]


def _check_rows(harvester: Harvester, rows: list, bound: dict[str, DataElement]) -> _Checked:
    records: list[tuple[str, str, str, dict]] = []
    seen: set[str] = set()
    invalid = 0
    problems: list[RowProblem] = []
    checked_values: dict[tuple, str | None] = {}

    def note(n: int, name: str, problem: str) -> None:
        if len(problems) < MAX_PROBLEM_SAMPLES:
            problems.append(RowProblem(n, name, problem))

    for n, row in enumerate(rows, start=1):
        if not isinstance(row, dict):
            invalid += 1
            note(n, "", _("记录不是对象。"))
            continue
        row = {str(k): _json_value(v) for k, v in row.items()}
        key = offshore_key(row.get(harvester.key_field))
        if not key:
            invalid += 1
            note(n, harvester.key_field, _("缺少主键。"))
            continue
        bad = None
        for name, element in bound.items():
            if name in row:
                value = row[name]
                # Many rows share a value (a division code, a status): check each distinct one once per run.
                memo = (
                    (name, type(value).__name__, value)
                    if isinstance(value, (str, int, float, bool, type(None)))
                    else None
                )
                if memo is not None and memo in checked_values:
                    problem = checked_values[memo]
                else:
                    problem = _element_problem(element, value)
                    if memo is not None and len(checked_values) < MAX_CHECK_MEMO:
                        checked_values[memo] = problem
                if problem:
                    value = str(row[name]).strip()
                    # The run's provenance names the row and field, never the value.
                    bad = (name, problem.replace(value, "…") if value else problem)
                    break
        if bad is not None:
            invalid += 1
            note(n, bad[0], bad[1])
            continue
        index = offshore_key_index(key)
        if index in seen:
            invalid += 1
            note(n, harvester.key_field, _("主键重复。"))
            continue
        seen.add(index)
        division = ""
        if harvester.division_field:
            division = str(row.get(harvester.division_field) or "").strip()[:15]
        records.append((key, index, division, row))
    return _Checked(records, invalid, problems)


def _max_invalid_percent(harvester: Harvester) -> float:
    value = (
        (harvester.options or {}).get("max_invalid_percent") if isinstance(harvester.options, dict) else None
    )
    try:
        return float(value) if value is not None else DEFAULT_MAX_INVALID_PERCENT
    except (TypeError, ValueError):
        return DEFAULT_MAX_INVALID_PERCENT


def _plugin_options(harvester: Harvester) -> dict:
    options = dict(harvester.options or {})
    options.pop("max_invalid_percent", None)  # the service's own option, not the plugin's
    return options


def _harvest_start(*, harvester: Harvester, actor) -> HarvestRun:
    now = timezone.now()
    with transaction.atomic():
        locked = Harvester.objects.select_for_update().get(pk=harvester.pk)
        running = HarvestRun.objects.filter(
            harvester=locked, status=HarvestRun.Status.RUNNING, started_at__gt=now - STALE_RUN
        ).exists()
        if running:
            raise ValidationError({"harvester": _("该采集器正在采集，请稍后再试。")})
        run = HarvestRun.objects.create(harvester=locked, started_at=now, status=HarvestRun.Status.RUNNING)
        audit_record(
            actor=actor,
            action="datahub.harvest.start",
            object_type="harvester",
            object_id=str(locked.public_id),
            after={"run": run.pk, "plugin": locked.plugin},
        )
    return run


def _harvest_fail(
    *, run: HarvestRun, harvester: Harvester, reason: str, provenance: dict, actor
) -> HarvestRun:
    now = timezone.now()
    with transaction.atomic():
        HarvestRun.objects.filter(pk=run.pk).update(
            status=HarvestRun.Status.FAILED,
            finished_at=now,
            error=reason,
            rows_read=provenance.get("rows_read", 0),
            rows_written=0,
            source_digest=provenance.get("digest", ""),
            provenance=provenance,
        )
        Harvester.objects.filter(pk=harvester.pk).update(
            next_run_at=now + timedelta(minutes=harvester.interval_minutes or 1440)
        )
        audit_record(
            actor=actor,
            action="datahub.harvest.fail",
            object_type="harvester",
            object_id=str(harvester.public_id),
            after={"run": run.pk, "reason": reason[:500], "kept_run": harvester.current_run_id},
        )
    log.warning("harvest failed", extra={"harvester": str(harvester.public_id), "reason": reason[:200]})
    run.refresh_from_db()
    return run


def harvest_run(*, harvester: Harvester, actor=None) -> HarvestRun:
    """Runs one harvest now and returns its run (succeeded or failed; a failure keeps the previous data)."""
    if actor is not None and hasattr(actor, "require"):
        actor.require(DATA_CENTRE)
    run = _harvest_start(harvester=harvester, actor=actor)
    harvester = Harvester.objects.select_related("resource").get(pk=harvester.pk)
    resource = harvester.resource
    provenance: dict[str, Any] = {
        "source_name": harvester.source_name,
        "plugin": harvester.plugin,
        "resource": resource.code,
    }
    plugin = harvester_plugin(harvester.plugin)
    if plugin is None:
        reason = _("未知的采集方式：%(plugin)s") % {"plugin": harvester.plugin}
        return _harvest_fail(run=run, harvester=harvester, reason=reason, provenance=provenance, actor=actor)
    try:
        options = plugin.validate_options(_plugin_options(harvester))
    except ValidationError as exc:
        reason = _("插件参数无效：%(error)s") % {"error": "；".join(exc.messages)}
        return _harvest_fail(run=run, harvester=harvester, reason=reason, provenance=provenance, actor=actor)
    try:
        harvest = plugin.harvest(options)
    except HarvestError as exc:
        provenance["source"] = exc.source
        return _harvest_fail(
            run=run, harvester=harvester, reason=exc.reason, provenance=provenance, actor=actor
        )
    except Exception as exc:  # noqa: BLE001 - a plugin's unexpected failure is still a failed run, never lost data
        log.exception("harvester plugin crashed", extra={"harvester": str(harvester.public_id)})
        reason = _("采集插件出错：%(error)s") % {"error": exc.__class__.__name__}
        return _harvest_fail(run=run, harvester=harvester, reason=reason, provenance=provenance, actor=actor)

    provenance.update(
        source=harvest.source,
        size=harvest.size,
        digest=harvest.digest,
        format=harvest.details.get("format", ""),
        rows_read=len(harvest.rows),
    )
    bound = {
        f.name: f.element
        for f in resource.fields.select_related("element").filter(element__isnull=False)
        if f.element is not None
    }
    checked = _check_rows(harvester, harvest.rows, bound)
    provenance.update(rows_invalid=checked.invalid, problems=[p.as_dict() for p in checked.problems])
    if not harvest.rows:
        return _harvest_fail(
            run=run, harvester=harvester, reason=_("来源中没有记录。"), provenance=provenance, actor=actor
        )
    limit = _max_invalid_percent(harvester)
    share = 100.0 * checked.invalid / len(harvest.rows)
    if share > limit:
        reason = _("无效记录 %(bad)d 条（%(share).1f%%），超过允许的 %(limit)s%%；保留上次数据。") % {
            "bad": checked.invalid,
            "share": share,
            "limit": f"{limit:g}",
        }
        return _harvest_fail(run=run, harvester=harvester, reason=reason, provenance=provenance, actor=actor)

    now = timezone.now()
    provenance.update(rows_written=len(checked.records), harvested_at=now.isoformat())
    with transaction.atomic():
        locked = Harvester.objects.select_for_update().get(pk=harvester.pk)
        batch: list[OffshoreRecord] = []
        for _key, index, division, row in checked.records:
            batch.append(
                OffshoreRecord(
                    run=run,
                    resource=resource,
                    key_index=index,
                    division_code=division,
                    payload=json.dumps(row, ensure_ascii=False, sort_keys=True),
                )
            )
            if len(batch) >= WRITE_BATCH:
                OffshoreRecord.objects.bulk_create(batch)
                batch = []
        if batch:
            OffshoreRecord.objects.bulk_create(batch)
        previous = locked.current_run_id
        # Older runs' records go: the store holds the current run only (the runs keep their provenance).
        OffshoreRecord.objects.filter(run__harvester=locked).exclude(run=run).delete()
        HarvestRun.objects.filter(pk=run.pk).update(
            status=HarvestRun.Status.SUCCEEDED,
            finished_at=now,
            rows_read=len(harvest.rows),
            rows_written=len(checked.records),
            error="",
            source_digest=harvest.digest,
            provenance=provenance,
        )
        Harvester.objects.filter(pk=locked.pk).update(
            current_run=run, next_run_at=now + timedelta(minutes=locked.interval_minutes or 1440)
        )
        DataResource.objects.filter(pk=resource.pk).update(data_updated_at=now)
        audit_record(
            actor=actor,
            action="datahub.harvest.succeed",
            object_type="harvester",
            object_id=str(locked.public_id),
            before={"run": previous},
            after={
                "run": run.pk,
                "source": harvest.source,
                "digest": harvest.digest,
                "rows_read": len(harvest.rows),
                "rows_written": len(checked.records),
                "rows_invalid": checked.invalid,
            },
        )
    run.refresh_from_db()
    return run


def harvest_request(*, actor, harvester: Harvester) -> None:
    """立即采集: records the request and queues the harvest once the request commits (a Huey task)."""
    actor.require(DATA_CENTRE)
    if not harvester.is_active:
        raise ValidationError({"harvester": _("该采集器已停用。")})
    if harvester_plugin(harvester.plugin) is None:
        raise ValidationError({"harvester": _("未知的采集方式：%(plugin)s") % {"plugin": harvester.plugin}})
    with transaction.atomic():
        audit_record(
            actor=actor,
            action="datahub.harvest.request",
            object_type="harvester",
            object_id=str(harvester.public_id),
            after={"plugin": harvester.plugin},
        )
        harvester_id = harvester.pk

        def enqueue() -> None:
            from ..tasks_harvest import harvest_run_task

            harvest_run_task(harvester_id)

        transaction.on_commit(enqueue)


def harvest_due(*, now: datetime | None = None, limit: int = 50) -> list[int]:
    """Runs the active harvesters that are due (next_run_at reached, or never run). Each is claimed with a
    conditional update of its next_run_at, so two consumers running the sweep at once run it once. Returns the
    ids of the runs made."""
    now = now or timezone.now()
    due = list(
        Harvester.objects.filter(is_active=True)
        .filter(Q(next_run_at__lte=now) | Q(next_run_at__isnull=True))
        .order_by("next_run_at", "id")
        .values_list("pk", "next_run_at", "interval_minutes")[:limit]
    )
    runs: list[int] = []
    for pk, next_run_at, interval in due:
        claim = (
            Harvester.objects.filter(pk=pk, next_run_at=next_run_at)
            if next_run_at
            else Harvester.objects.filter(pk=pk, next_run_at__isnull=True)
        )
        if not claim.update(next_run_at=now + timedelta(minutes=interval or 1440)):
            continue  # another consumer took it
        harvester = Harvester.objects.get(pk=pk)
        try:
            runs.append(harvest_run(harvester=harvester).pk)
        except ValidationError:
            continue  # already running elsewhere
    return runs


HARVESTER_FIELDS = (
    "name",
    "plugin",
    "options",
    "source_name",
    "resource",
    "key_field",
    "division_field",
    "interval_minutes",
    "is_active",
)


def harvester_validate(values: dict) -> dict:
    """The harvester's values checked: the plugin exists and its options pass its schema (normalised), the
    resource it feeds is mounted on the 离岸库 (or not mounted yet), a key field is named. Chinese field errors."""
    errors: dict[str, str] = {}
    plugin_id = values.get("plugin") or ""
    options = values.get("options")
    extra = {}
    if isinstance(options, dict) and "max_invalid_percent" in options:
        options = dict(options)
        extra["max_invalid_percent"] = options.pop("max_invalid_percent")
        try:
            percent = float(extra["max_invalid_percent"])
        except (TypeError, ValueError):
            percent = -1
        if not 0 <= percent <= 100:
            errors["options"] = _("max_invalid_percent 应为 0 到 100 之间的数。")
    plugin = harvester_plugin(plugin_id)
    if plugin is None:
        errors["plugin"] = _("未知的采集方式：%(plugin)s") % {"plugin": plugin_id}
    elif "options" not in errors:
        try:
            options = {
                **plugin.validate_options(options if options is not None else {}).model_dump(),
                **extra,
            }
        except ValidationError as exc:
            errors["options"] = "；".join(exc.messages)
    resource = values.get("resource")
    if resource is not None and resource.mount_kind not in ("", DataResource.MountKind.OFFSHORE):
        errors["resource"] = _("供给资源须挂接离岸库（挂接类型：离岸库）。")
    if not (values.get("key_field") or "").strip():
        errors["key_field"] = _("请填写主键字段。")
    if errors:
        raise ValidationError(errors)
    return {**values, "options": options}


def harvester_save(*, actor, harvester: Harvester, values: dict) -> Harvester:
    """Creates or changes a harvester (the admin's save), validated by its plugin; audited."""
    if actor is not None and hasattr(actor, "require"):
        actor.require(DATA_CENTRE)
    values = harvester_validate({k: v for k, v in values.items() if k in HARVESTER_FIELDS})
    with transaction.atomic():
        before = None
        if harvester.pk:
            harvester = Harvester.objects.select_for_update().get(pk=harvester.pk)
            before = {"plugin": harvester.plugin, "is_active": harvester.is_active}
        for name, value in values.items():
            setattr(harvester, name, value)
        if harvester.next_run_at is None and harvester.is_active:
            harvester.next_run_at = timezone.now()
        harvester.save()
        audit_record(
            actor=actor,
            action="datahub.harvester.save",
            object_type="harvester",
            object_id=str(harvester.public_id),
            before=before,
            after={
                "name": harvester.name,
                "plugin": harvester.plugin,
                "resource": harvester.resource.code,
                "is_active": harvester.is_active,
            },
        )
    return harvester
