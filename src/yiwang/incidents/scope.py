"""Who sees which incidents: the one scoping rule every incident selector, page and API applies.

- District administrators and staff of a district-level command centre: every incident.
- Staff of a town command centre (other than grid workers): incidents located in their town, plus those assigned
  to their unit.
- Staff of any other department: incidents assigned to their department or a department below it.
- Grid workers: incidents located in or assigned to their grid, and those they reported (plus, as anyone, what is
  assigned to their department).
- A registered system: the incidents it filed.
- Citizens and enterprises: their own reports only (selectors.incident_mine_*), never through this rule.

Warnings (预警) are the command centre's: `warning_scope_q` derives who sees them from the same rule.
"""

from __future__ import annotations

from django.db.models import Q

from yiwang.core.models import Division
from yiwang.core.permissions import INCIDENT_SUPERVISE, Role
from yiwang.core.principal import Principal
from yiwang.core.selectors.org import department_subtree_ids

from .models import Incident

NOTHING = Q(pk__in=[])


def incident_scope_q(principal: Principal) -> Q:
    """A Q over Incident for what `principal` may see (NOTHING when it may see none)."""
    if principal.is_system:
        return Q(reporter_system=principal.system) if principal.system is not None else NOTHING
    staff = principal.staff
    if staff is None or not staff.is_active:
        return NOTHING
    roles = principal.roles
    if Role.DISTRICT_ADMIN in roles:
        return Q()
    department = staff.department
    # A grid worker sits in the town's command centre but works one grid: the centre's wide view is for its
    # dispatchers, heads and operators, not for someone who holds no other role.
    if department.is_command_centre and roles - {Role.GRID_WORKER}:
        level = department.division.level if department.division_id else None
        if level == Division.Level.DISTRICT:
            return Q()
        scope = Q(assigned_department_id__in=department_subtree_ids(department))
        if level == Division.Level.TOWN:
            scope |= Q(town_id=department.division_id)
    else:
        scope = Q(assigned_department_id__in=department_subtree_ids(department))
    if staff.grid_id is not None:
        scope |= Q(grid_id=staff.grid_id) | Q(assigned_grid_id=staff.grid_id)
    scope |= Q(reporter_staff_id=staff.pk)
    return scope


def overseen_town_id(principal: Principal) -> int | None:
    """The town whose command centre the caller works in: town-wide views (the map, devices) narrow to it.
    None for everyone else (the district centre and admins see the district; selectors scope the rest)."""
    staff = principal.staff
    department = staff.department if staff is not None else None
    if department is None or not department.is_command_centre or not department.division_id:
        return None
    return department.division_id if department.division.level == Division.Level.TOWN else None


def warning_scope_q(principal: Principal) -> Q:
    """A Q over IncidentWarning for what `principal` may see: warnings are the command centre's, so only staff
    holding INCIDENT_SUPERVISE who oversee a whole area see them — whoever sees every incident (district
    administrators, the district centre) every warning, a town centre (`overseen_town_id`) its town's; nobody
    else, whatever incidents they may see."""
    if not principal.has(INCIDENT_SUPERVISE) or principal.is_system:
        return NOTHING
    staff = principal.staff
    if staff is None or not staff.is_active:
        return NOTHING
    incidents = incident_scope_q(principal)
    if incidents == Q():
        return Q()
    town_id = overseen_town_id(principal)
    return Q(town_id=town_id) if town_id is not None else NOTHING


def incident_visible(principal: Principal, incident: Incident) -> bool:
    """Whether `principal` may see this one incident (one query)."""
    return Incident.objects.filter(incident_scope_q(principal), pk=incident.pk).exists()


def is_assigned_unit(principal: Principal, incident: Incident) -> bool:
    """The caller works for the unit the incident is assigned to: its department (or one above it in the same
    tree, as a head would), or — for grid handling — it is the grid worker of that grid or sits in the town
    command centre over it."""
    staff = principal.staff
    if staff is None or not staff.is_active:
        return False
    if incident.assigned_grid_id is not None:
        if staff.grid_id == incident.assigned_grid_id:
            return True
        department = staff.department
        return bool(
            department.is_command_centre
            and incident.town_id is not None
            and department.division_id == incident.town_id
        )
    if incident.assigned_department_id is None:
        return False
    return incident.assigned_department_id in department_subtree_ids(staff.department)


def is_dispatch_centre_for(principal: Principal, incident: Incident) -> bool:
    """The caller dispatches at a command centre over the incident: the district centre for every incident,
    a town centre for incidents in its town."""
    staff = principal.staff
    if staff is None or not staff.is_active:
        return False
    department = staff.department
    if not department.is_command_centre or not department.division_id:
        return False
    if department.division.level == Division.Level.DISTRICT:
        return True
    return incident.town_id is not None and department.division_id == incident.town_id
