"""Demo: two weeks of staff activity, so the adoption figures (使用情况) show activated accounts, daily and weekly
active users that differ by department and town. The to-do lists themselves need no demo rows: they are the other
modules' queues (cases, incidents, share requests, 纠错, census, and collab's tasks, forms, documents, meetings).

Deterministic (a hash of staff id and day, no randomness); dates relative to `timezone.localdate()`; idempotent: a
second call finds past activity rows and writes nothing.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, time, timedelta

from django.db import transaction
from django.utils import timezone

from yiwang.core.models import Account, Staff
from yiwang.core.workbench import LOCAL

from .models import StaffActivity

DAYS = 14
# Of the accounts: about this share never logged in (not activated); the rest are active on a share of days that
# depends on the staff member (some every day, some now and then).
NEVER_SHARE = 12  # percent


def _score(*parts) -> int:
    return int.from_bytes(hashlib.sha256(":".join(map(str, parts)).encode()).digest()[:4], "big") % 100


def load_workbench(stdout=None) -> dict[str, int]:
    today = timezone.localdate()
    if StaffActivity.objects.filter(day__lt=today).exists():
        return {}
    staff = list(Staff.objects.filter(is_active=True).values_list("id", "department_id", "account_id"))
    rows, activated = [], set()
    for staff_id, department_id, account_id in staff:
        if _score("never", staff_id) < NEVER_SHARE:
            continue
        habit = 30 + _score("habit", staff_id) % 65  # percent of working days seen
        for back in range(DAYS):
            day = today - timedelta(days=back)
            weekend = day.weekday() >= 5
            if _score("day", staff_id, day.isoformat()) >= (habit // 4 if weekend else habit):
                continue
            minute = _score("minute", staff_id, day.isoformat())
            seen = datetime.combine(day, time(8, 30), tzinfo=LOCAL) + timedelta(minutes=5 * minute)
            rows.append(
                StaffActivity(staff_id=staff_id, department_id=department_id, day=day, first_seen_at=seen)
            )
            activated.add(account_id)
    with transaction.atomic():
        created = StaffActivity.objects.bulk_create(rows, batch_size=2000, ignore_conflicts=True)
        first = datetime.combine(today - timedelta(days=DAYS), time(9), tzinfo=LOCAL)
        logged = Account.objects.filter(pk__in=activated, last_login__isnull=True).update(last_login=first)
    if stdout is not None:
        stdout.write(f"工作台：{len(created)} 条人员活跃记录，{logged} 个账号标记为已激活\n")
    return {"staff_activity": len(created), "accounts_activated": logged}
