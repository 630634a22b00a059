"""督办: overdue incidents climb the division hierarchy, one level per run of the sweep.

An open incident (处置中 or 待核查) past its deadline is raised to its village (level 3: the grid workers of the
village's grids are told); after one further working day overdue to its town (level 2: dispatchers and heads of
the town command centre); after two to the district (level 1: dispatchers and heads of the district centre).
Each level is one `Escalation` row (unique per incident and level), an "escalate" event written by
`incident_transition` (system actor), and `Incident.escalation_level` records the highest level reached. The
outcome is filled when the incident closes (services/handling.py).

Safe with several consumers: each incident is taken under a skip-locked row lock and re-checked; the unique
constraint backs it up.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from yiwang.core.models import Department, Division, Staff
from yiwang.core.permissions import Role
from yiwang.core.selectors.org import department_heads_nearest
from yiwang.core.workdays import WorkingCalendar, working_calendar

from ..models import Escalation, Incident
from ..workflow import working_days_late
from .common import incident_transition
from .dispatch import staff_notify

log = logging.getLogger("yiwang.incidents")

S = Incident.State
OPEN_WORK = (S.DISPATCHED, S.HANDLED)
LADDER = (Division.Level.VILLAGE, Division.Level.TOWN, Division.Level.DISTRICT)  # 3 → 2 → 1


def required_level(days_late: int) -> int:
    """The highest level an incident `days_late` working days past its deadline should have reached."""
    return LADDER[min(max(days_late, 0), len(LADDER) - 1)]


def _division_for(incident: Incident, level: int) -> Division | None:
    if level == Division.Level.VILLAGE:
        return incident.village
    if level == Division.Level.TOWN:
        return incident.town
    if incident.town is not None and incident.town.parent_id:
        return Division.objects.filter(pk=incident.town.parent_id).first()
    return Division.objects.filter(level=Division.Level.DISTRICT).order_by("code").first()


def next_level(incident: Incident, days_late: int) -> tuple[int, Division] | None:
    """The next rung above the incident's current level that is due and exists, or None."""
    current = incident.escalation_level or 0
    allowed = required_level(days_late)
    for level in LADDER:
        if current and level >= current:
            continue  # already at or above this rung (lower numbers are higher levels)
        if level < allowed:
            return None  # not due yet
        division = _division_for(incident, level)
        if division is not None:
            return level, division
    return None


def level_staff(level: int, division: Division) -> list[Staff]:
    """Who is told at a level: the village's grid workers; or the command centre's dispatchers and heads."""
    if level == Division.Level.VILLAGE:
        return list(
            Staff.objects.filter(grid__parent=division, is_active=True, roles__role=Role.GRID_WORKER)
            .select_related("account")
            .distinct()
            .order_by("employee_no")
        )
    centre = (
        Department.objects.filter(division=division, is_command_centre=True, is_active=True)
        .order_by("code")
        .first()
    )
    if centre is None:
        return []
    staff = list(
        Staff.objects.filter(
            Q(roles__role=Role.DISPATCHER) | Q(roles__role=Role.DEPARTMENT_HEAD),
            department=centre,
            is_active=True,
        )
        .select_related("account")
        .distinct()
        .order_by("employee_no")
    )
    known = {s.pk for s in staff}
    staff += [s for s in department_heads_nearest(centre.pk) if s.pk not in known]
    return staff


def _escalate_one(pk: int, *, moment: datetime, cal: WorkingCalendar) -> bool:
    with transaction.atomic():
        incident = (
            Incident.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("village", "town", "grid", "assigned_department", "assigned_grid", "category")
            .filter(pk=pk, state__in=OPEN_WORK, due_at__lt=moment)
            .first()
        )
        if incident is None:
            return False  # another consumer has it, or it is no longer overdue
        days = working_days_late(incident.due_at, moment, cal)
        step = next_level(incident, days)
        if step is None:
            return False
        level, division = step
        staff = level_staff(level, division)
        reason = _("工单 %(number)s 已超过处置期限 %(days)s 个工作日，%(division)s督办") % {
            "number": incident.number,
            "days": days,
            "division": division.name,
        }
        existing = Escalation.objects.filter(incident=incident, level=level).first()
        try:
            with transaction.atomic():
                if existing is None:
                    Escalation.objects.create(
                        incident=incident,
                        level=level,
                        division=division,
                        notified=[s.employee_no for s in staff],
                        reason=reason[:200],
                    )
                else:  # escalated at this level before a reassignment or reopening: open it again
                    existing.division = division
                    existing.notified = [s.employee_no for s in staff]
                    existing.reason = reason[:200]
                    existing.outcome = Escalation.Outcome.OPEN
                    existing.resolved_at = None
                    existing.save(update_fields=["division", "notified", "reason", "outcome", "resolved_at"])
        except IntegrityError:
            return False  # another consumer recorded this level first
        Escalation.objects.filter(incident=incident, level__gt=level, outcome=Escalation.Outcome.OPEN).update(
            outcome=Escalation.Outcome.ESCALATED, resolved_at=moment
        )
        incident_transition(
            incident,
            action="escalate",
            actor=None,
            note=reason,
            public=False,
            updates={"escalation_level": level},
            data={"level": level, "division": division.code, "days_late": days},
        )
        staff_notify(staff, incident, title=_("督办：%(reason)s") % {"reason": reason}, body=incident.title)
    return True


def incidents_escalate_overdue(*, now: datetime | None = None, batch: int = 500) -> int:
    """Raises every overdue open incident one level (see the module docstring), reading the candidates in
    chunks of `batch` by id; returns how many moved. A further level needs a working day overdue, so
    incidents already escalated are only read once they are a day late."""
    moment = now or timezone.now()
    cal = working_calendar()
    candidates = (
        Incident.objects.filter(state__in=OPEN_WORK, due_at__lt=moment)
        .exclude(escalation_level=Division.Level.DISTRICT)
        .filter(Q(escalation_level=0) | Q(due_at__lt=moment - timedelta(days=1)))
    )
    moved, last_id = 0, 0
    while True:
        ids = list(candidates.filter(id__gt=last_id).order_by("id").values_list("id", flat=True)[:batch])
        if not ids:
            break
        for pk in ids:
            try:
                moved += _escalate_one(pk, moment=moment, cal=cal)
            except Exception:  # one bad row must not stop the sweep
                log.exception("escalation failed", extra={"incident_id": pk})
        last_id = ids[-1]
    return moved
