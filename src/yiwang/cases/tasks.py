"""Background jobs of cases (Huey; the consumer autodiscovers this module).

Both sweeps are safe with several consumers: each case is changed under a row lock or a conditional update,
so a case is escalated or suspended once however many consumers run the sweep at the same moment.
"""

from __future__ import annotations

import logging
from datetime import date

from django.utils import timezone
from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from .models import Case, SupplementRequest
from .services import case_mark_overdue, case_supplement_expire

log = logging.getLogger("yiwang.cases")

SWEEP_BATCH = 500


def cases_overdue_sweep(*, today: date | None = None, batch: int = SWEEP_BATCH) -> int:
    """Marks open cases whose current step is past its deadline and notifies the department heads, once per
    case per step (overdue_notified_at is cleared when a case enters a new step). Returns how many it marked."""
    today = today or timezone.localdate()
    marked = 0
    last_id = 0
    while True:
        # Keyset batches over the (state, step_due_date) index; paused (补正) cases are not overdue.
        rows = list(
            Case.objects.filter(
                state__in=(Case.State.SUBMITTED, Case.State.IN_PROGRESS),
                step_due_date__lt=today,
                overdue_notified_at__isnull=True,
                id__gt=last_id,
            )
            .order_by("id")
            .only("id", "current_step")[:batch]
        )
        if not rows:
            break
        for case in rows:
            if case_mark_overdue(case=case, today=today):
                marked += 1
        last_id = rows[-1].pk
    return marked


def cases_supplement_expiry_sweep(*, today: date | None = None, batch: int = SWEEP_BATCH) -> int:
    """Suspends (中止) cases whose 补正 deadline passed without supply, notifying the applicant."""
    today = today or timezone.localdate()
    suspended = 0
    last_id = 0
    while True:
        case_ids = list(
            SupplementRequest.objects.filter(
                supplied_at__isnull=True,
                deadline__lt=today,
                case__state=Case.State.SUPPLEMENT,
                case_id__gt=last_id,
            )
            .order_by("case_id")
            .values_list("case_id", flat=True)
            .distinct()[:batch]
        )
        if not case_ids:
            break
        for case in Case.objects.filter(pk__in=case_ids).order_by("id"):
            if case_supplement_expire(case=case, today=today) is not None:
                suspended += 1
        last_id = case_ids[-1]
    return suspended


@db_periodic_task(crontab(minute="*/15"))
def cases_overdue_periodic() -> int:
    """Every 15 minutes: overdue escalation (超期督办提醒)."""
    marked = cases_overdue_sweep()
    if marked:
        log.info("cases marked overdue", extra={"marked": marked})
    return marked


@db_periodic_task(crontab(minute="5", hour="*"))
def cases_supplement_expiry_periodic() -> int:
    """Hourly: cases whose 补正 deadline has passed are suspended."""
    suspended = cases_supplement_expiry_sweep()
    if suspended:
        log.info("cases suspended after supplement deadline", extra={"suspended": suspended})
    return suspended


# Jobs of the issue-4 features, one module each (imported here: Huey's consumer autodiscovers `tasks` only).
from .pledges.tasks import *  # noqa: E402,F401,F403
from .proactive.tasks import *  # noqa: E402,F401,F403
from .reviews.tasks import *  # noqa: E402,F401,F403
