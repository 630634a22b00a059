"""Putting an incident in a unit's hands: the one place that sets the unit, the deadline and tells the unit.

Used by the intake pipeline (automatic dispatch), by dispatchers (dispatch, reassign) and by reopen.
"""

from __future__ import annotations

from django.utils.translation import gettext as _

from yiwang.core.models import Department, Division, Staff
from yiwang.core.notify import notify_accounts
from yiwang.core.permissions import Role
from yiwang.core.principal import Principal
from yiwang.core.selectors.org import department_heads_nearest
from yiwang.core.workdays import working_calendar

from ..models import Incident
from ..workflow import due_at_for
from .common import incident_link, incident_transition, now


def unit_accounts(*, department: Department | None, grid: Division | None) -> list[int]:
    """The accounts told about work for a unit: the grid's workers, or the department's handlers (approvers,
    grid workers of a centre, dispatchers of a centre) and, failing those, its nearest heads. Ids only: a notice
    needs no more of the staff or their accounts."""
    if grid is not None:
        staff = Staff.objects.filter(grid=grid, is_active=True, roles__role=Role.GRID_WORKER)
    elif department is None:
        return []
    else:
        roles = (Role.APPROVER, Role.DISPATCHER) if department.is_command_centre else (Role.APPROVER,)
        staff = Staff.objects.filter(department=department, is_active=True, roles__role__in=roles)
    accounts = list(staff.order_by("account_id").values_list("account_id", flat=True).distinct())
    if accounts or grid is not None:
        return accounts
    return [head.account_id for head in department_heads_nearest(department.pk)]


def unit_notify(incident: Incident, *, title: str, body: str = "") -> None:
    """In-app notice to the incident's unit, inside the caller's transaction."""
    notify_accounts(
        unit_accounts(department=incident.assigned_department, grid=incident.assigned_grid),
        title=title,
        body=body or incident.title,
        link=incident_link(incident),
        object_type="incident",
        object_id=str(incident.public_id),
    )


def incident_assign(
    incident: Incident,
    *,
    action: str,
    actor: Principal | None,
    department: Department | None,
    grid: Division | None,
    mode: str,
    note: str = "",
    data: dict | None = None,
    extra_updates: dict | None = None,
) -> None:
    """Assigns a locked incident (dispatch, reassign, reopen) to a department or a grid, starting a fresh
    deadline from the category, then notifies the unit. Call inside `transaction.atomic()`."""
    if (department is None) == (grid is None):
        raise ValueError("incident_assign needs exactly one of department and grid")
    moment = now()
    category = incident.category
    due = (
        due_at_for(moment, category.deadline_value, category.deadline_unit, working_calendar())
        if category
        else None
    )
    updates = {
        "assigned_department": department,
        "assigned_grid": grid,
        "dispatch_mode": mode,
        "dispatched_at": moment,
        "due_at": due,
        "extended": False,
        "escalation_level": 0,
        **(extra_updates or {}),
    }
    unit = grid.name if grid is not None else department.name
    incident_transition(
        incident,
        action=action,
        actor=actor,
        note=note,
        updates=updates,
        data={"unit": unit, "mode": mode, **(data or {})},
    )
    unit_notify(
        incident,
        title=_("新工单 %(number)s：%(title)s") % {"number": incident.number, "title": incident.title[:40]},
    )
