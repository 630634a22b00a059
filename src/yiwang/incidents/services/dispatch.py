"""分拨 by the command centres: manual dispatch, return (退回) by the unit, reassign (改派), extension requests (延期)
and their decision, merging a duplicate into another open incident.

Each service locks the incident (`incident_lock`, optimistic `expected_version`), checks who may act with the
predicates of `selectors.py`, and moves it with `incident_transition` / `incident_assign` (event + audit inside
the same transaction). Bad input is a `ValidationError` naming the field; nothing is half-written.
"""

from __future__ import annotations

from datetime import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from yiwang.core.models import Department, Division, Staff
from yiwang.core.notify import notify
from yiwang.core.permissions import Role
from yiwang.core.principal import Principal
from yiwang.core.selectors.org import department_heads_nearest

from ..models import ExtensionRequest, Incident, IncidentCategory
from ..selectors import may_dispatch, may_work
from .assign import incident_assign, unit_notify
from .common import NOTE_MAX, incident_link, incident_lock, incident_settings, incident_transition, now
from .routing import Location, fallback_centre

S = Incident.State
# An extension may move the deadline to at most this many times the original span (dispatch → due).
EXTENSION_MAX_FACTOR = 2
REASON_MIN = 2


# --- shared helpers -----------------------------------------------------------------------------------------
def text_clean(
    value: str | None, *, field: str, required: bool, label: str, minimum: int = REASON_MIN
) -> str:
    value = (value or "").strip()
    if required and len(value) < minimum:
        raise ValidationError(
            {field: _("请填写%(label)s（至少 %(n)s 个字）。") % {"label": label, "n": minimum}}
        )
    if len(value) > NOTE_MAX:
        raise ValidationError({field: _("%(label)s不能超过 %(n)s 字。") % {"label": label, "n": NOTE_MAX}})
    return value


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise PermissionDenied(message)


def _require_dispatcher(actor: Principal, incident: Incident) -> None:
    _require(may_dispatch(actor, incident), _("只有负责该工单的指挥中心调度员可以执行此操作。"))


def _require_unit(actor: Principal, incident: Incident) -> None:
    _require(may_work(actor, incident), _("只有承办该工单的单位可以执行此操作。"))


def location_of(incident: Incident) -> Location:
    return Location(incident.grid, incident.village, incident.town, incident.located_by)


def centre_dispatchers(incident: Incident) -> list[Staff]:
    """The dispatchers of the command centre over the incident (its town's, else the district's), or the
    centre's nearest heads when it has no dispatcher."""
    centre = fallback_centre(location_of(incident))
    if centre is None:
        return []
    staff = list(
        Staff.objects.filter(department=centre, is_active=True, roles__role=Role.DISPATCHER)
        .select_related("account")
        .distinct()
    )
    return staff or department_heads_nearest(centre.pk)


def staff_notify(staff: list[Staff], incident: Incident, *, title: str, body: str = "") -> None:
    for person in staff:
        notify(
            recipient=person.account,
            title=title,
            body=body or incident.title,
            link=incident_link(incident),
            object_type="incident",
            object_id=str(incident.public_id),
        )


def unit_target(
    *, department_code: str = "", grid_code: str = ""
) -> tuple[Department | None, Division | None]:
    """The department or grid named by code: exactly one of the two, active."""
    department_code, grid_code = (department_code or "").strip(), (grid_code or "").strip()
    if bool(department_code) == bool(grid_code):
        raise ValidationError({"department_code": _("请选择承办部门或承办网格（二选一）。")})
    if department_code:
        department = Department.objects.filter(code=department_code, is_active=True).first()
        if department is None:
            raise ValidationError(
                {"department_code": _("承办部门 %(code)s 不存在或已停用。") % {"code": department_code}}
            )
        return department, None
    grid = Division.objects.filter(code=grid_code, level=Division.Level.GRID, is_active=True).first()
    if grid is None:
        raise ValidationError({"grid_code": _("网格 %(code)s 不存在或已停用。") % {"code": grid_code}})
    return None, grid


def category_leaf(code: str, *, field: str = "category_code") -> IncidentCategory:
    category = IncidentCategory.objects.filter(
        code=(code or "").strip(), is_active=True, children__isnull=True
    ).first()
    if category is None:
        raise ValidationError({field: _("事件分类 %(code)s 不存在、已停用或不是末级分类。") % {"code": code}})
    return category


def _unit_label(department: Department | None, grid: Division | None) -> str:
    return grid.name if grid is not None else department.name


# --- dispatch, return, reassign ------------------------------------------------------------------------------
def incident_dispatch(
    *,
    actor: Principal,
    incident: Incident,
    department_code: str = "",
    grid_code: str = "",
    category_code: str = "",
    note: str = "",
    expected_version: int | None = None,
) -> Incident:
    """A dispatcher sends a 待分拨 incident to a department or a grid (the category is required when the
    incident has none; a given one replaces the model's guess). A fresh deadline starts."""
    with transaction.atomic():
        incident = incident_lock(incident, expected_version=expected_version)
        _require_dispatcher(actor, incident)
        if incident.state != S.PENDING:
            raise ValidationError({"action": _("只有待分拨的工单可以分拨。")})
        note = text_clean(note, field="note", required=False, label=_("分拨说明"))
        if category_code:
            category = category_leaf(category_code)
            if category.pk != incident.category_id:
                incident.category = category
                incident.classified_by = "staff"
                incident.confidence = 1.0
        elif incident.category_id is None:
            raise ValidationError({"category_code": _("该工单尚未分类，请先选择事件分类。")})
        department, grid = unit_target(department_code=department_code, grid_code=grid_code)
        incident_assign(
            incident,
            action="dispatch",
            actor=actor,
            department=department,
            grid=grid,
            mode="manual",
            note=note,
            data={"category": incident.category.code},
        )
    return incident


def incident_return(
    *, actor: Principal, incident: Incident, reason: str, expected_version: int | None = None
) -> Incident:
    """The assigned unit hands the incident back (退回) with a reason, at most `max_returns` times: it goes back to
    待分拨 without a unit and the command centre's dispatchers are told."""
    with transaction.atomic():
        incident = incident_lock(incident, expected_version=expected_version)
        _require_unit(actor, incident)
        reason = text_clean(reason, field="reason", required=True, label=_("退回理由"))
        limit = incident_settings().max_returns
        if incident.return_count >= limit:
            raise ValidationError({"reason": _("已达退回次数上限，请联系指挥中心")}, code="limit")
        unit = _unit_label(incident.assigned_department, incident.assigned_grid)
        incident_transition(
            incident,
            action="return",
            actor=actor,
            note=reason,
            public=False,
            updates={
                "assigned_department": None,
                "assigned_grid": None,
                "due_at": None,
                "dispatch_mode": "",
                "escalation_level": 0,
                "return_count": incident.return_count + 1,
            },
            data={"unit": unit, "returns": incident.return_count + 1},
        )
        staff_notify(
            centre_dispatchers(incident),
            incident,
            title=_("工单 %(number)s 被%(unit)s退回，请重新分拨") % {"number": incident.number, "unit": unit},
            body=reason,
        )
    return incident


def incident_reassign(
    *,
    actor: Principal,
    incident: Incident,
    department_code: str = "",
    grid_code: str = "",
    reason: str,
    expected_version: int | None = None,
) -> Incident:
    """A dispatcher moves a dispatched (or handled) incident to another unit (改派), at most `max_reassigns` times;
    the new unit gets a fresh deadline."""
    with transaction.atomic():
        incident = incident_lock(incident, expected_version=expected_version)
        _require_dispatcher(actor, incident)
        if incident.state not in (S.DISPATCHED, S.HANDLED):
            raise ValidationError({"action": _("只有处置中或待核查的工单可以改派。")})
        reason = text_clean(reason, field="reason", required=True, label=_("改派理由"))
        if incident.reassign_count >= incident_settings().max_reassigns:
            raise ValidationError({"reason": _("已达改派次数上限。")}, code="limit")
        department, grid = unit_target(department_code=department_code, grid_code=grid_code)
        if (department is not None and department.pk == incident.assigned_department_id) or (
            grid is not None and grid.pk == incident.assigned_grid_id
        ):
            raise ValidationError({"department_code": _("改派对象与当前承办单位相同。")})
        previous = (
            _unit_label(incident.assigned_department, incident.assigned_grid)
            if incident.assigned_department_id or incident.assigned_grid_id
            else ""
        )
        incident_assign(
            incident,
            action="reassign",
            actor=actor,
            department=department,
            grid=grid,
            mode="manual",
            note=reason,
            data={"from": previous},
            extra_updates={"reassign_count": incident.reassign_count + 1},
        )
    return incident


# --- extensions ----------------------------------------------------------------------------------------------
def extension_request(
    *, actor: Principal, incident: Incident, requested_due_at: datetime, reason: str
) -> ExtensionRequest:
    """The assigned unit asks once to move the deadline: later than the current one, and the new span from
    dispatch at most twice the original span. The command centre's dispatchers are told."""
    with transaction.atomic():
        incident = incident_lock(incident)
        _require_unit(actor, incident)
        if incident.state != S.DISPATCHED:
            raise ValidationError({"action": _("只有处置中的工单可以申请延期。")})
        reason = text_clean(reason, field="reason", required=True, label=_("延期理由"))
        if requested_due_at is None:
            raise ValidationError({"requested_due_at": _("请填写申请延至的时间。")})
        if timezone.is_naive(requested_due_at):
            requested_due_at = timezone.make_aware(requested_due_at)
        if incident.due_at is None or incident.dispatched_at is None:
            raise ValidationError({"action": _("该工单没有处置期限，无需延期。")})
        if requested_due_at <= incident.due_at:
            raise ValidationError({"requested_due_at": _("申请延至的时间须晚于当前处置期限。")})
        longest = incident.dispatched_at + (incident.due_at - incident.dispatched_at) * EXTENSION_MAX_FACTOR
        if requested_due_at > longest:
            raise ValidationError(
                {
                    "requested_due_at": _("延期后的期限不得超过原处置时限的 %(n)s 倍（最晚 %(latest)s）。")
                    % {
                        "n": EXTENSION_MAX_FACTOR,
                        "latest": timezone.localtime(longest).strftime("%Y-%m-%d %H:%M"),
                    }
                }
            )
        if ExtensionRequest.objects.filter(incident=incident).exists():
            raise ValidationError({"requested_due_at": _("每个工单只能申请一次延期。")}, code="once")
        try:
            with transaction.atomic():
                request = ExtensionRequest.objects.create(
                    incident=incident,
                    requested_by=actor.staff,
                    department=incident.assigned_department,
                    requested_due_at=requested_due_at,
                    reason=reason,
                )
        except IntegrityError as exc:  # a concurrent request won the unique constraint
            raise ValidationError({"requested_due_at": _("每个工单只能申请一次延期。")}, code="once") from exc
        incident_transition(
            incident,
            action="extension_request",
            actor=actor,
            note=reason,
            public=False,
            data={"requested_due_at": requested_due_at.isoformat()},
        )
        staff_notify(
            centre_dispatchers(incident),
            incident,
            title=_("工单 %(number)s 申请延期，待审批") % {"number": incident.number},
            body=reason,
        )
    return request


def extension_decide(
    *, actor: Principal, request: ExtensionRequest, approve: bool, note: str = ""
) -> ExtensionRequest:
    """A dispatcher approves (the deadline moves, `extended`) or refuses (a note is required) a pending request;
    the unit is told either way."""
    with transaction.atomic():
        request = ExtensionRequest.objects.select_for_update().get(pk=request.pk)
        incident = incident_lock(request.incident_id)
        _require_dispatcher(actor, incident)
        if request.state != ExtensionRequest.State.PENDING:
            raise ValidationError({"approve": _("该延期申请已审批。")})
        note = text_clean(note, field="note", required=not approve, label=_("不予批准的理由"))
        request.state = ExtensionRequest.State.APPROVED if approve else ExtensionRequest.State.REFUSED
        request.decided_by = actor.staff
        request.decided_at = now()
        request.decision_note = note
        request.save(update_fields=["state", "decided_by", "decided_at", "decision_note"])
        updates = {"due_at": request.requested_due_at, "extended": True} if approve else {}
        incident_transition(
            incident,
            action="extension_decide",
            actor=actor,
            note=note,
            public=False,
            updates=updates,
            data={"approved": bool(approve), "requested_due_at": request.requested_due_at.isoformat()},
        )
        local_due = timezone.localtime(request.requested_due_at).strftime("%Y-%m-%d %H:%M")
        title = (
            _("工单 %(number)s 延期已批准，期限延至 %(due)s")
            if approve
            else _("工单 %(number)s 延期申请不予批准")
        ) % {"number": incident.number, "due": local_due}
        unit_notify(incident, title=title, body=note or incident.title)
    return request


# --- merge ---------------------------------------------------------------------------------------------------
def incident_merge(*, actor: Principal, incident: Incident, into: Incident, note: str = "") -> Incident:
    """A dispatcher marks an incident as a duplicate of another open one (已合并); its reporters are told when
    the main incident closes. Duplicates already merged into it follow it to the new main incident."""
    if into.pk == incident.pk:
        raise ValidationError({"into": _("不能与工单自身合并。")})
    with transaction.atomic():
        first, second = sorted((incident.pk, into.pk))  # lock in id order: no deadlock with a reverse merge
        locked = {first: incident_lock(first), second: incident_lock(second)}
        incident, into = locked[incident.pk], locked[into.pk]
        _require_dispatcher(actor, incident)
        if into.state not in Incident.OPEN_STATES:
            raise ValidationError(
                {"into": _("只能并入未结案的工单（%(number)s 已结案或已合并）。") % {"number": into.number}}
            )
        if incident.state not in (S.PENDING, S.DISPATCHED):
            raise ValidationError({"action": _("只有待分拨或处置中的工单可以合并。")})
        note = text_clean(note, field="note", required=False, label=_("合并说明"))
        incident_transition(
            incident,
            action="merge",
            actor=actor,
            note=note or _("与工单 %(number)s 重复，已合并。") % {"number": into.number},
            updates={"duplicate_of": into},
            data={"into": into.number},
        )
        Incident.objects.filter(duplicate_of=incident, state=S.MERGED).update(duplicate_of=into)
    return incident
