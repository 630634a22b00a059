"""Demo: the CDO roster and the scorecards of the current and the previous quarter.

- The district CDO: the head of the big-data centre's department (the 政务服务数据管理局 in the demo district).
- One CDO per top-level department (its head, or else its first staff member) and, where the department has a data
  officer, that officer as 数据专员（联络人）. One department's CDO was replaced a few months ago, so the roster has
  an ended term.
- The scorecards of this quarter and the last, computed by the centre (`scorecard_compute`) from whatever the other
  demo loaders left (the lead runs this loader last).

Every write goes through services.scorecard as the centre's demo officer (audited). Idempotent: an appointment that
exists (same post and person) is not made again, a period that has scorecards is not recomputed. Deterministic:
titles and dates follow from the department codes.
"""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from yiwang.core.models import Department, Staff
from yiwang.core.permissions import Role
from yiwang.core.principal import Principal

from .models import CdoAppointment, Scorecard
from .scorecard_metrics import period_current
from .services.scorecard import cdo_appoint, cdo_end, scorecard_compute

REPLACED_DEPARTMENT = "MZJ"  # its first CDO retired; the roster keeps the ended term
DUTIES = "统筹本部门数据资源普查、目录编制与挂接、数据质量和共享开放，组织纠错整改，对接大数据中心考核。"
DISTRICT_DUTIES = "统筹全区公共数据管理和数据治理考核，协调跨部门数据共享与开放，推动数据要素市场化配置。"


def _centre_principal() -> Principal | None:
    staff = (
        Staff.objects.filter(is_active=True, roles__role=Role.DATA_CENTRE_OFFICER)
        .select_related("account", "department")
        .order_by("employee_no")
        .first()
    )
    return Principal.for_account(staff.account) if staff is not None else None


def _heads(departments: list[Department]) -> dict[int, Staff]:
    """Each department's head (负责人), else its first active staff member."""
    ids = [d.pk for d in departments]
    heads: dict[int, Staff] = {}
    for staff in (
        Staff.objects.filter(department_id__in=ids, is_active=True, roles__role=Role.DEPARTMENT_HEAD)
        .select_related("department")
        .order_by("employee_no")
    ):
        heads.setdefault(staff.department_id, staff)
    for staff in Staff.objects.filter(department_id__in=ids, is_active=True).order_by("employee_no"):
        heads.setdefault(staff.department_id, staff)
    return heads


def _officers(departments: list[Department]) -> dict[int, Staff]:
    officers: dict[int, Staff] = {}
    for staff in (
        Staff.objects.filter(
            department_id__in=[d.pk for d in departments], is_active=True, roles__role=Role.DATA_OFFICER
        )
        .select_related("department")
        .order_by("employee_no")
    ):
        officers.setdefault(staff.department_id, staff)
    return officers


def _appoint(actor, *, level, department, staff, title, duties, appointed_on) -> int:
    exists = CdoAppointment.objects.filter(level=level, department=department, staff=staff).exists()
    if exists:
        return 0
    serving = CdoAppointment.objects.filter(level=level, department=department, ended_on__isnull=True)
    if level != CdoAppointment.Level.DEPUTY and serving.exists():
        return 0  # somebody holds the post already (appointed by hand): leave it
    cdo_appoint(
        actor=actor,
        level=level,
        department=department,
        staff=staff,
        title=title,
        duties=duties,
        appointed_on=appointed_on,
    )
    return 1


def _roster(actor) -> int:
    today = timezone.localdate()
    created = 0
    departments = list(Department.objects.filter(is_active=True, parent__isnull=True).order_by("code"))
    heads, officers = _heads(departments), _officers(departments)
    centre = actor.department  # the big-data centre's department (ZSJ in the demo district)
    district_head = heads.get(centre.pk) or actor.staff if centre is not None else None
    if district_head is not None:
        created += _appoint(
            actor,
            level=CdoAppointment.Level.DISTRICT,
            department=None,
            staff=district_head,
            title="区首席数据官（区政务服务数据管理局局长）",
            duties=DISTRICT_DUTIES,
            appointed_on=today - timedelta(days=540),
        )
    for n, department in enumerate(departments):
        head = heads.get(department.pk)
        if head is None:
            continue
        appointed_on = today - timedelta(days=400 - 7 * (n % 20))
        if department.code == REPLACED_DEPARTMENT:
            others = [head.pk] + ([officers[department.pk].pk] if department.pk in officers else [])
            first = (
                Staff.objects.filter(department=department, is_active=True)
                .exclude(pk__in=others)
                .order_by("employee_no")
                .first()
            )
            if first is not None and not CdoAppointment.objects.filter(department=department).exists():
                # The first CDO served a year, then the head took over (the term is ended by the replacement).
                created += _appoint(
                    actor,
                    level=CdoAppointment.Level.DEPARTMENT,
                    department=department,
                    staff=first,
                    title="首席数据官（原分管副局长）",
                    duties=DUTIES,
                    appointed_on=today - timedelta(days=500),
                )
                appointment = CdoAppointment.objects.get(
                    department=department, staff=first, ended_on__isnull=True
                )
                cdo_end(
                    actor=actor,
                    appointment=appointment,
                    ended_on=today - timedelta(days=120),
                    note="工作调动",
                )
            appointed_on = today - timedelta(days=120)
        created += _appoint(
            actor,
            level=CdoAppointment.Level.DEPARTMENT,
            department=department,
            staff=head,
            title="首席数据官（分管副职）",
            duties=DUTIES,
            appointed_on=appointed_on,
        )
        officer = officers.get(department.pk)
        if officer is not None and officer.pk != head.pk:
            created += _appoint(
                actor,
                level=CdoAppointment.Level.DEPUTY,
                department=department,
                staff=officer,
                title="数据专员",
                duties="负责本部门数据资源目录、共享申请答复和纠错整改的日常工作。",
                appointed_on=appointed_on,
            )
    return created


def load_scorecard() -> dict[str, int]:
    """CDOs for the district and every top-level department; scorecards of this quarter and the last."""
    actor = _centre_principal()
    if actor is None:
        return {"cdo_appointments": 0, "scorecards": 0}
    appointments = _roster(actor)
    cards = 0
    current = period_current()
    for period in (current.previous(), current):
        if Scorecard.objects.filter(period=period.code).exists():
            continue
        cards += len(scorecard_compute(actor=actor, period=period).cards)
    return {"cdo_appointments": appointments, "scorecards": cards}
