"""督办 escalation: the working-day SLA engine that raises a task's level 预警 → 催办 → 督办 → 通报.

The level of a task in the units' hands (已交办, 办理中) on a given day, `escalation_level` (pure, working days from
the platform calendar, 调休 included):

| level | when |
|---|---|
| 通报 (4) | REPORTED_AFTER_WORKDAYS (10) or more working days past the due date |
| 督办 (3) | SUPERVISED_AFTER_WORKDAYS (3) or more working days past the due date |
| 催办 (2) | the due date has passed (any day after it, even a weekend) |
| 预警 (1) | WARNING_WITHIN_WORKDAYS (2) or fewer working days left before the due date, or the periodic progress report is overdue |
| 正常 (0) | otherwise |

"Working days past the due date" counts the working days in (due_on, today]; "left" counts those in
(today, due_on].

`tasks_escalate_sweep` (Huey, every 15 minutes) raises levels, never lowers one: each raise is a conditional update
(`level = old`), so two consumers sweeping at once act once; the winner writes a TaskEvent(escalated, level),
the audit entry and the notifications — 预警 and 催办: the lead unit's heads; 督办: also the issuer; 通报: also the
office and the leaders (LEADER and OFFICE_CLERK staff).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from yiwang.core.audit import audit_record
from yiwang.core.models import Staff
from yiwang.core.permissions import Role
from yiwang.core.workdays import WorkingCalendar, working_calendar, working_days_between

from ..models import Task, TaskEvent
from .tasks import ACTIVE, _issuer_accounts, _notify_all, unit_contacts

__all__ = [
    "WARNING_WITHIN_WORKDAYS",
    "SUPERVISED_AFTER_WORKDAYS",
    "REPORTED_AFTER_WORKDAYS",
    "escalation_level",
    "tasks_escalate_sweep",
]

WARNING_WITHIN_WORKDAYS = 2  # 预警: this many working days or fewer before the due date
SUPERVISED_AFTER_WORKDAYS = 3  # 督办: this many working days or more past the due date
REPORTED_AFTER_WORKDAYS = 10  # 通报: this many working days or more past the due date
# Tasks further than this from their due date cannot reach 预警 by the due date (2 working days never span more
# than the longest holiday run plus its weekends), so the sweep reads only nearer ones, and report-overdue ones.
LOOKAHEAD_DAYS = 21
BATCH = 500

L = Task.Level


def escalation_level(
    due_on: date, today: date, last_report_due: date | None, calendar: WorkingCalendar
) -> int:
    """The level a task in the units' hands has on `today` (table in the module docstring)."""
    if today > due_on:
        overdue = working_days_between(due_on, today, calendar)
        if overdue >= REPORTED_AFTER_WORKDAYS:
            return L.REPORTED
        if overdue >= SUPERVISED_AFTER_WORKDAYS:
            return L.SUPERVISED
        return L.URGED
    if working_days_between(today, due_on, calendar) <= WARNING_WITHIN_WORKDAYS:
        return L.WARNING
    if last_report_due is not None and today > last_report_due:
        return L.WARNING
    return L.NONE


def _leaders_and_office() -> list:
    staff = Staff.objects.filter(
        is_active=True, roles__role__in=[Role.LEADER, Role.OFFICE_CLERK]
    ).select_related("account")[:100]
    seen, accounts = set(), []
    for s in staff:
        if s.account_id not in seen:
            seen.add(s.account_id)
            accounts.append(s.account)
    return accounts


def _recipients(task: Task, level: int) -> list:
    accounts = list(unit_contacts([task.lead_department_id]))
    if level >= L.SUPERVISED:
        accounts += _issuer_accounts(task)
    if level >= L.REPORTED:
        accounts += _leaders_and_office()
    seen, unique = set(), []
    for account in accounts:
        if account.pk not in seen:
            seen.add(account.pk)
            unique.append(account)
    return unique


def _title(level: int, title: str) -> str:
    if level >= L.REPORTED:
        return _("督办通报：%(title)s") % {"title": title}
    if level >= L.SUPERVISED:
        return _("督办：%(title)s") % {"title": title}
    if level >= L.URGED:
        return _("督办催办：%(title)s") % {"title": title}
    return _("督办预警：%(title)s") % {"title": title}


def _reason(task: Task, level: int, today: date) -> str:
    if level >= L.URGED:
        return _("办结时限 %(due)s 已过。") % {"due": task.due_on}
    if task.next_report_due is not None and today > task.next_report_due and task.due_on > today:
        return _("进展报送逾期（应于 %(due)s 前报送）。") % {"due": task.next_report_due}
    return _("距办结时限 %(due)s 不足 %(n)d 个工作日。") % {"due": task.due_on, "n": WARNING_WITHIN_WORKDAYS}


def _raise(task: Task, old: int, new: int, today: date, now: datetime) -> bool:
    with transaction.atomic():
        won = Task.objects.filter(pk=task.pk, level=old, status__in=ACTIVE).update(level=new, updated_at=now)
        if not won:
            return False
        note = _reason(task, new, today)
        TaskEvent.objects.create(
            task=task,
            kind=TaskEvent.Kind.ESCALATED,
            level=new,
            department=task.lead_department,
            note=note,
            at=now,
        )
        audit_record(
            actor=None,
            action="collab.task.escalate",
            object_type="collab.task",
            object_id=str(task.public_id),
            before={"level": old},
            after={"level": new, "reason": note},
        )
        _notify_all(
            _recipients(task, new),
            task=task,
            title=_title(new, task.title),
            body=f"{task.code}：{note}",
        )
    return True


def tasks_escalate_sweep(now: datetime | None = None) -> dict[str, int]:
    """Raises the level of every task in the units' hands whose level on today's date is higher than its own.
    Returns {"checked": n, "raised": n, "level_1"...: n per level reached}."""
    now = now or timezone.now()
    today = timezone.localtime(now).date()
    cal = working_calendar()
    result = {"checked": 0, "raised": 0}
    candidates = (
        Task.objects.filter(status__in=ACTIVE, level__lt=L.REPORTED)
        .filter(Q(due_on__lte=today + timedelta(days=LOOKAHEAD_DAYS)) | Q(next_report_due__lt=today))
        .select_related("lead_department")
        .order_by("id")
    )
    last_id = 0
    while True:
        batch = list(candidates.filter(id__gt=last_id)[:BATCH])
        if not batch:
            break
        last_id = batch[-1].id
        for task in batch:
            result["checked"] += 1
            level = escalation_level(task.due_on, today, task.next_report_due, cal)
            if level > task.level and _raise(task, task.level, level, today, now):
                result["raised"] += 1
                result[f"level_{level}"] = result.get(f"level_{level}", 0) + 1
    return result
