"""数据资源普查: rounds, each unit's three lists (系统清单/数据清单/需求清单), submit and review, and 供需对接.

Who (the rule is `census_may_edit` / `_require_centre`):
- the big-data centre (DATA_CENTRE) creates, opens and closes rounds, adds units, edits any editable return,
  accepts or returns submitted ones, and turns accepted lines into catalogue drafts and share requests;
- a unit's data officer (DATA_STEWARD of the unit's department or of a department above it) fills and submits
  its own return while it is editable (NOT_STARTED, IN_PROGRESS, RETURNED) and its round is open.

Opening a round creates one CensusReturn per active top-level department (no parent: 区直部门, 镇街 and the public
enterprises the centre names; their offices below answer inside their unit's return) and prefills each from the
unit's return in the previous round — the accepted one, else whatever it last held: copies of its systems, data
items and needs with `carried_from` set. A copied data item keeps its link to the catalogue resource; a copied
need starts again as 待对接 (the match belonged to last period).

Every write is one transaction that locks the return row (`select_for_update`), refuses a stale
`expected_version` (CensusConflict → 409), bumps `row_version` and writes an evidence-log entry; submit, accept
and return store their entry's uuid on `audit_uuid`. A refused write writes nothing.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from yiwang.core.audit import audit_record
from yiwang.core.models import Department, Division
from yiwang.core.permissions import DATA_CENTRE, DATA_STEWARD
from yiwang.core.principal import Principal

from ..models import (
    CensusDataItem,
    CensusNeed,
    CensusReturn,
    CensusRound,
    CensusSystem,
    DataElement,
)

__all__ = [
    "CensusConflict",
    "EDITABLE",
    "KINDS",
    "census_round_create",
    "census_round_open",
    "census_round_close",
    "census_unit_add",
    "census_return_submit",
    "census_return_review",
    "census_may_edit",
]
# The lines: services.census_lines; 供需对接: services.census_matching.

RS = CensusReturn.Status
EDITABLE = (RS.NOT_STARTED, RS.IN_PROGRESS, RS.RETURNED)
SUBMITTABLE = EDITABLE
MAX_LINES = 300
MAX_FIELDS = 300
_CODE = re.compile(r"^[0-9A-Za-z][0-9A-Za-z_-]{1,19}$")
_FIELD_NAME = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
KINDS = ("systems", "data", "needs")


class CensusConflict(Exception):
    """The return or round changed since the caller read it, or its state does not allow the step (409)."""


# --- who ------------------------------------------------------------------------------------------------------
def _is_centre(actor: Principal | None) -> bool:
    return actor is not None and not actor.is_system and actor.has(DATA_CENTRE)


def _require_centre(actor: Principal | None) -> Principal:
    if not _is_centre(actor):
        raise PermissionDenied(_("只有大数据中心可以执行此操作。"))
    return actor


def census_may_edit(actor: Principal | None, census_return: CensusReturn) -> bool:
    """May the actor change this return's lines (whatever its state)? The centre, or the unit's data officer."""
    if actor is None or actor.is_system:
        return False
    if _is_centre(actor):
        return True
    from ..selectors.census import steward_unit_ids

    return actor.has(DATA_STEWARD) and census_return.unit_id in steward_unit_ids(actor)


def _require_edit(actor: Principal | None, census_return: CensusReturn) -> Principal:
    if not census_may_edit(actor, census_return):
        raise PermissionDenied(_("只有填报单位的数据专员或大数据中心可以填报该单位的普查表。"))
    return actor


# --- small helpers ----------------------------------------------------------------------------------------------
def _text(value, limit: int | None = None) -> str:
    value = " ".join(str(value or "").split())
    return value[:limit] if limit else value


def _long(value) -> str:
    return str(value or "").strip()


def _check_len(errors: dict, key: str, value: str, limit: int, required: bool, message: str = "") -> None:
    if required and not value:
        errors[key] = message or _("此项为必填项。")
    elif len(value) > limit:
        errors[key] = _("内容太长，最多 %(n)d 个字符。") % {"n": limit}


def _choice(errors: dict, key: str, value: str, choices, required: bool = True) -> str:
    value = str(value or "").strip()
    if not value:
        if required:
            errors[key] = _("请选择%(label)s。") % {"label": _LABELS.get(key, key)}
        return value
    if value not in choices:
        errors[key] = _("取值不在允许范围内。")
    return value


_LABELS = {
    "deployment": _("建设方式"),
    "hosting": _("部署位置"),
    "status": _("运行状态"),
    "update_cycle": _("更新周期"),
    "share_type": _("拟共享类型"),
    "open_type": _("拟开放类型"),
    "unit_kind": _("单位类型"),
    "decision": _("审核结论"),
}


def _as_date(value, key: str, errors: dict) -> date | None:
    if value in (None, ""):
        return None
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        errors[key] = _("日期格式应为 YYYY-MM-DD。")
        return None


def _locked_return(census_return: CensusReturn, expected_version: int | None) -> CensusReturn:
    row = (
        CensusReturn.objects.select_for_update(of=("self",))
        .select_related("round", "unit", "unit__division")
        .filter(pk=census_return.pk)
        .first()
    )
    if row is None:
        raise CensusConflict(_("该普查表已不存在。"))
    if expected_version is not None and int(expected_version) != row.row_version:
        raise CensusConflict(_("该普查表已被他人修改，请刷新后重试。"))
    return row


def _require_editable(row: CensusReturn) -> None:
    if row.round.status != CensusRound.Status.OPEN:
        raise CensusConflict(_("该普查轮次不在填报期，普查表不能修改。"))
    if row.status not in EDITABLE:
        raise CensusConflict(_("普查表当前状态为“%(status)s”，不能修改。") % {"status": RS(row.status).label})


def _snapshot(row: CensusReturn) -> dict:
    return {"status": row.status, "row_version": row.row_version}


def _audit(actor, action: str, row: CensusReturn, after: dict | None = None, before: dict | None = None):
    return audit_record(
        actor=actor,
        action=f"datahub.census.{action}",
        object_type="census_return",
        object_id=str(row.public_id),
        before=before,
        after={
            "round": row.round.code,
            "unit": row.unit.code,
            "status": row.status,
            "row_version": row.row_version,
            **(after or {}),
        },
    )


def _touch(row: CensusReturn) -> None:
    """A line changed: NOT_STARTED becomes IN_PROGRESS (RETURNED stays RETURNED until resubmitted)."""
    if row.status == RS.NOT_STARTED:
        row.status = RS.IN_PROGRESS
    row.row_version += 1
    row.save(update_fields=["status", "row_version", "updated_at"])


# --- rounds -------------------------------------------------------------------------------------------------------
def _last_round(exclude: int | None = None) -> CensusRound | None:
    rows = CensusRound.objects.exclude(status=CensusRound.Status.DRAFT)
    if exclude:
        rows = rows.exclude(pk=exclude)
    return rows.order_by("-period_start", "-id").first()


def census_round_create(
    *,
    actor: Principal,
    code: str,
    name: str,
    period_start: date | str | None,
    period_end: date | str | None,
    due_on: date | str | None,
    instructions: str = "",
    previous: CensusRound | None = None,
) -> CensusRound:
    """A new round in preparation (准备中). `previous` defaults to the latest opened or closed round."""
    actor = _require_centre(actor)
    errors: dict[str, str] = {}
    code, name, instructions = _text(code), _text(name), _long(instructions)
    if not code:
        errors["code"] = _("请填写轮次代码。")
    elif not _CODE.match(code):
        errors["code"] = _("轮次代码只能含字母、数字、连字符和下划线（2 到 20 位），如 2026 或 2026-H2。")
    elif CensusRound.objects.filter(code=code).exists():
        errors["code"] = _("轮次代码“%(code)s”已被使用。") % {"code": code}
    _check_len(errors, "name", name, 120, True, _("请填写轮次名称。"))
    _check_len(errors, "instructions", instructions, 10000, False)
    start = _as_date(period_start, "period_start", errors)
    end = _as_date(period_end, "period_end", errors)
    due = _as_date(due_on, "due_on", errors)
    if start is None and "period_start" not in errors:
        errors["period_start"] = _("请填写统计期起始日期。")
    if end is None and "period_end" not in errors:
        errors["period_end"] = _("请填写统计期截止日期。")
    elif start is not None and end is not None and end < start:
        errors["period_end"] = _("统计期截止日期不能早于起始日期。")
    if due is None and "due_on" not in errors:
        errors["due_on"] = _("请填写填报截止日。")
    elif due is not None and start is not None and due < start:
        errors["due_on"] = _("填报截止日不能早于统计期起始日期。")
    if previous is not None and previous.status == CensusRound.Status.DRAFT:
        errors["previous"] = _("上一轮须是已开始或已结束的轮次。")
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        round_ = CensusRound.objects.create(
            code=code,
            name=name,
            period_start=start,
            period_end=end,
            due_on=due,
            instructions=instructions,
            previous=previous if previous is not None else _last_round(),
        )
        audit_record(
            actor=actor,
            action="datahub.census.round_create",
            object_type="census_round",
            object_id=str(round_.public_id),
            after={
                "code": code,
                "name": name,
                "period": [start.isoformat(), end.isoformat()],
                "due_on": due.isoformat(),
                "previous": round_.previous.code if round_.previous_id else None,
            },
        )
    return round_


def _locked_round(round_: CensusRound) -> CensusRound:
    return CensusRound.objects.select_for_update().get(pk=round_.pk)


def _kind_for(department: Department, previous: CensusReturn | None, enterprise_ids: set[int]) -> str:
    if department.pk in enterprise_ids or (
        previous is not None and previous.unit_kind == CensusReturn.UnitKind.ENTERPRISE
    ):
        return CensusReturn.UnitKind.ENTERPRISE
    if department.division.level == Division.Level.TOWN:
        return CensusReturn.UnitKind.TOWN
    return CensusReturn.UnitKind.DEPARTMENT


def _previous_returns(round_: CensusRound, unit_ids) -> dict[int, CensusReturn]:
    """The previous round's return of each unit: the accepted one (one per unit and round anyway)."""
    if round_.previous_id is None:
        return {}
    rows = CensusReturn.objects.filter(round_id=round_.previous_id, unit_id__in=list(unit_ids))
    return {r.unit_id: r for r in rows}


def _prefill(targets: list[tuple[CensusReturn, CensusReturn]]) -> dict[str, int]:
    """Copies each previous return's lines into its new return (`carried_from` set): three reads, three writes
    per batch, whatever the number of units."""
    by_old = {old.pk: new for new, old in targets}
    if not by_old:
        return {"systems": 0, "data": 0, "needs": 0}
    systems = list(
        CensusSystem.objects.filter(census_return_id__in=by_old).order_by("census_return", "position", "id")
    )
    copies = []
    for s in systems:
        copies.append(
            CensusSystem(
                census_return=by_old[s.census_return_id],
                name=s.name,
                owner_name=s.owner_name,
                builder=s.builder,
                deployment=s.deployment,
                vertical_owner=s.vertical_owner,
                hosting=s.hosting,
                status=s.status,
                users=s.users,
                carried_from=s,
                position=s.position,
            )
        )
    CensusSystem.objects.bulk_create(copies)
    system_map = {old.pk: new for old, new in zip(systems, copies, strict=True)}
    if any(c.pk is None for c in copies):  # backends that return no ids from bulk_create
        fresh = CensusSystem.objects.filter(
            carried_from_id__in=list(system_map), census_return__in=[n for n, _o in targets]
        )
        system_map = {s.carried_from_id: s for s in fresh}
    items = list(
        CensusDataItem.objects.filter(census_return_id__in=by_old).order_by("census_return", "position", "id")
    )
    CensusDataItem.objects.bulk_create(
        [
            CensusDataItem(
                census_return=by_old[i.census_return_id],
                system=system_map.get(i.system_id),
                name=i.name,
                summary=i.summary,
                fields=list(i.fields or []),
                record_count=i.record_count,
                update_cycle=i.update_cycle,
                share_type=i.share_type,
                open_type=i.open_type,
                resource=i.resource,
                carried_from=i,
                position=i.position,
            )
            for i in items
        ]
    )
    needs = list(
        CensusNeed.objects.filter(census_return_id__in=by_old).order_by("census_return", "position", "id")
    )
    CensusNeed.objects.bulk_create(
        [
            CensusNeed(
                census_return=by_old[n.census_return_id],
                name=n.name,
                description=n.description,
                wanted_from_id=n.wanted_from_id,
                wanted_fields=list(n.wanted_fields or []),
                scenario=n.scenario,
                legal_basis=n.legal_basis,
                carried_from=n,
                position=n.position,
            )
            for n in needs
        ]
    )
    return {"systems": len(copies), "data": len(items), "needs": len(needs)}


def _returns_create(
    round_: CensusRound, units: list[Department], enterprise_ids: set[int]
) -> tuple[list, dict]:
    previous = _previous_returns(round_, [u.pk for u in units])
    created: list[CensusReturn] = []
    pairs: list[tuple[CensusReturn, CensusReturn]] = []
    for unit in units:
        old = previous.get(unit.pk)
        new = CensusReturn(
            round=round_,
            unit=unit,
            unit_kind=_kind_for(unit, old, enterprise_ids),
            prefilled_from=old,
        )
        created.append(new)
    CensusReturn.objects.bulk_create(created)
    if any(r.pk is None for r in created):
        fresh = {r.unit_id: r for r in CensusReturn.objects.filter(round=round_)}
        created = [fresh[u.pk] for u in units]
    for new in created:
        if new.prefilled_from_id:
            pairs.append((new, previous[new.unit_id]))
    return created, _prefill(pairs)


def census_round_open(
    *, actor: Principal, round_: CensusRound, enterprises: list[Department] | None = None
) -> CensusRound:
    """准备中 → 填报中: one return per active top-level department (the named `enterprises` as 公共企事业单位),
    each prefilled from the unit's return of the previous round."""
    actor = _require_centre(actor)
    enterprise_ids = {d.pk for d in (enterprises or [])}
    with transaction.atomic():
        row = _locked_round(round_)
        if row.status != CensusRound.Status.DRAFT:
            raise CensusConflict(_("只有准备中的轮次可以开始填报。"))
        units = list(
            Department.objects.filter(is_active=True, parent__isnull=True)
            .select_related("division")
            .order_by("code")
        )
        extra = [d for d in (enterprises or []) if d.is_active and d.pk not in {u.pk for u in units}]
        units += extra
        created, copied = _returns_create(row, units, enterprise_ids)
        row.status = CensusRound.Status.OPEN
        row.opened_at = timezone.now()
        row.save(update_fields=["status", "opened_at"])
        audit_record(
            actor=actor,
            action="datahub.census.round_open",
            object_type="census_round",
            object_id=str(row.public_id),
            before={"status": CensusRound.Status.DRAFT},
            after={
                "code": row.code,
                "status": row.status,
                "units": len(created),
                "prefilled": sum(1 for r in created if r.prefilled_from_id),
                "carried": copied,
            },
        )
    round_.__dict__.update({k: v for k, v in row.__dict__.items() if not k.startswith("_")})
    return row


def census_round_close(*, actor: Principal, round_: CensusRound) -> CensusRound:
    """填报中 → 已结束: the round is frozen (no return changes any more; the next round prefills from it)."""
    actor = _require_centre(actor)
    with transaction.atomic():
        row = _locked_round(round_)
        if row.status != CensusRound.Status.OPEN:
            raise CensusConflict(_("只有填报中的轮次可以结束。"))
        counts = {s: CensusReturn.objects.filter(round=row, status=s).count() for s in RS.values}
        row.status = CensusRound.Status.CLOSED
        row.closed_at = timezone.now()
        row.save(update_fields=["status", "closed_at"])
        audit_record(
            actor=actor,
            action="datahub.census.round_close",
            object_type="census_round",
            object_id=str(row.public_id),
            before={"status": CensusRound.Status.OPEN},
            after={"code": row.code, "status": row.status, "returns": counts},
        )
    round_.__dict__.update({k: v for k, v in row.__dict__.items() if not k.startswith("_")})
    return row


def census_unit_add(
    *, actor: Principal, round_: CensusRound, department: Department | None, unit_kind: str
) -> CensusReturn:
    """Adds a unit (a public enterprise, or an office the opening left out) to an open round, prefilled."""
    actor = _require_centre(actor)
    errors: dict[str, str] = {}
    unit_kind = _choice(errors, "unit_kind", unit_kind, CensusReturn.UnitKind.values)
    if department is None or not department.is_active:
        errors["department"] = _("请选择有效的单位。")
    elif CensusReturn.objects.filter(round=round_, unit=department).exists():
        errors["department"] = _("该单位已在本轮普查中。")
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        row = _locked_round(round_)
        if row.status != CensusRound.Status.OPEN:
            raise CensusConflict(_("只有填报中的轮次可以增加填报单位。"))
        created, copied = _returns_create(row, [department], set())
        census_return = created[0]
        if census_return.unit_kind != unit_kind:
            census_return.unit_kind = unit_kind
            census_return.save(update_fields=["unit_kind"])
        census_return.round = row
        _audit(actor, "unit_add", census_return, {"unit_kind": unit_kind, "carried": copied})
    return census_return


def _published_elements(identifiers: set[str]) -> set[str]:
    if not identifiers:
        return set()
    return set(
        DataElement.objects.filter(
            identifier__in=identifiers, status=DataElement.Status.PUBLISHED
        ).values_list("identifier", flat=True)
    )


# --- submit and review ----------------------------------------------------------------------------------------------
def _submit_problems(row: CensusReturn) -> dict[str, str]:
    """What a submission refuses: an empty return, lines that are no longer valid (a carried vertical system
    without its owner, a data element retired since last period)."""
    errors: dict[str, str] = {}
    systems = list(row.systems.all())
    items = list(row.data_items.all())
    needs = list(row.needs.all())
    if not (systems or items or needs):
        errors["return"] = _("请至少填报一项系统、数据或需求后再提交。")
        return errors
    for i, s in enumerate(systems):
        if s.deployment == CensusSystem.Deployment.VERTICAL and not s.vertical_owner.strip():
            errors[f"systems.{i}.vertical_owner"] = _("系统“%(name)s”为上级垂管，须填写垂管上级单位。") % {
                "name": s.name
            }
    used = {f.get("element") for i in items for f in (i.fields or [])} | {
        f.get("element") for n in needs for f in (n.wanted_fields or [])
    }
    known = _published_elements(used - {None, ""})
    for i, item in enumerate(items):
        bad = [f["element"] for f in item.fields or [] if f.get("element") and f["element"] not in known]
        if bad:
            errors[f"data.{i}.fields"] = _("数据“%(name)s”引用的数据元未发布或已废止：%(ids)s") % {
                "name": item.name,
                "ids": "、".join(bad[:10]),
            }
    for i, need in enumerate(needs):
        bad = [
            f["element"] for f in need.wanted_fields or [] if f.get("element") and f["element"] not in known
        ]
        if bad:
            errors[f"needs.{i}.wanted_fields"] = _("需求“%(name)s”引用的数据元未发布或已废止：%(ids)s") % {
                "name": need.name,
                "ids": "、".join(bad[:10]),
            }
    return errors


def census_return_submit(
    *, actor: Principal, census_return: CensusReturn, expected_version: int | None = None
) -> CensusReturn:
    """The unit submits its three lists to the centre (未填报/填报中/已退回 → 已提交)."""
    actor = _require_edit(actor, census_return)
    with transaction.atomic():
        row = _locked_return(census_return, expected_version)
        if row.round.status != CensusRound.Status.OPEN:
            raise CensusConflict(_("该普查轮次不在填报期，不能提交。"))
        if row.status not in SUBMITTABLE:
            raise CensusConflict(
                _("普查表当前状态为“%(status)s”，不能提交。") % {"status": RS(row.status).label}
            )
        problems = _submit_problems(row)
        if problems:
            raise ValidationError(problems)
        before = _snapshot(row)
        now = timezone.now()
        row.status = RS.SUBMITTED
        row.submitted_at = now
        row.submitted_by = actor.staff
        row.row_version += 1
        due_end = row.round.due_on + timedelta(days=1)
        entry = _audit(
            actor,
            "submit",
            row,
            {
                "systems": row.systems.count(),
                "data": row.data_items.count(),
                "needs": row.needs.count(),
                "on_time": timezone.localdate(now) < due_end,
            },
            before,
        )
        row.audit_uuid = entry.uuid
        row.save()
    census_return.__dict__.update({k: v for k, v in row.__dict__.items() if not k.startswith("_")})
    return row


def census_return_review(
    *,
    actor: Principal,
    census_return: CensusReturn,
    decision: str,
    note: str = "",
    expected_version: int | None = None,
) -> CensusReturn:
    """The centre accepts (accept) or returns (return, with a note) a submitted return."""
    actor = _require_centre(actor)
    note = _long(note)
    errors: dict[str, str] = {}
    decision = _choice(errors, "decision", decision, ("accept", "return"))
    if decision == "return" and not note:
        errors["note"] = _("退回修改须填写审核意见。")
    if len(note) > 2000:
        errors["note"] = _("内容太长，最多 %(n)d 个字符。") % {"n": 2000}
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        row = _locked_return(census_return, expected_version)
        if row.round.status != CensusRound.Status.OPEN:
            raise CensusConflict(_("该普查轮次不在填报期，不能审核。"))
        if row.status != RS.SUBMITTED:
            raise CensusConflict(
                _("普查表当前状态为“%(status)s”，不能审核。") % {"status": RS(row.status).label}
            )
        before = _snapshot(row)
        row.status = RS.ACCEPTED if decision == "accept" else RS.RETURNED
        row.reviewed_at = timezone.now()
        row.reviewed_by = actor.staff
        row.review_note = note
        row.row_version += 1
        entry = _audit(actor, decision, row, {"note": note} if note else None, before)
        row.audit_uuid = entry.uuid
        row.save()
    census_return.__dict__.update({k: v for k, v in row.__dict__.items() if not k.startswith("_")})
    return row
