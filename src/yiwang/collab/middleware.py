"""Records that a staff member used the platform today: one `StaffActivity(staff, day)` row per staff member and
local day, for the adoption figures (daily/weekly active).

- At sign-in (`user_logged_in`, connected in CollabConfig.ready): the row of the day, and the day kept in the
  session.
- After each response of a browser session whose view loaded the signed-in account: nothing while the session's
  day is today (no query); past midnight one `INSERT … SELECT … ON CONFLICT DO NOTHING` and the session's day moves.
- After each API call with a token (`request.auth`, a Principal; no session): the same insert at most once per
  account and day per process (a process-local memo).
It never fails a request: any error is logged and the response goes out as it is.

Settings (after AuthenticationMiddleware): "yiwang.collab.middleware.StaffActivityMiddleware".
"""

from __future__ import annotations

import logging
import threading

from django.db import DatabaseError, connection
from django.utils import timezone

from yiwang.core.models import Staff

from .models import StaffActivity

log = logging.getLogger(__name__)

_SEEN: set[tuple[int, object]] = set()
_SEEN_MAX = 50_000
_LOCK = threading.Lock()


def activity_memo_reset() -> None:
    """Forgets which (account, day) pairs this process has recorded (tests: around each test)."""
    with _LOCK:
        _SEEN.clear()


def _account_of(request):
    user = request.__dict__.get("_cached_user")  # set once something read request.user
    if user is None:
        principal = getattr(request, "auth", None)
        user = getattr(principal, "account", None)
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    return user if getattr(user, "kind", "") == "staff" else None


def staff_activity_record(account_id: int) -> bool:
    """Records today's activity of the staff member behind `account_id` (once per process and day); True when
    this call wrote (or tried to write) the row."""
    now = timezone.now()
    day = timezone.localdate(now)
    key = (account_id, day)
    if key in _SEEN:
        return False
    activity, staff = StaffActivity._meta, Staff._meta
    q = connection.ops.quote_name
    sql = (
        f"INSERT INTO {q(activity.db_table)} ({q('staff_id')}, {q('department_id')}, {q('day')}, "
        f"{q('first_seen_at')}) SELECT {q('id')}, {q('department_id')}, %s, %s FROM {q(staff.db_table)} "
        f"WHERE {q('account_id')} = %s AND {q('is_active')} "
        f"ON CONFLICT ({q('staff_id')}, {q('day')}) DO NOTHING"
    )
    field = StaffActivity._meta.get_field("first_seen_at")
    params = [
        StaffActivity._meta.get_field("day").get_db_prep_value(day, connection),
        field.get_db_prep_value(now, connection),
        account_id,
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
    with _LOCK:
        if len(_SEEN) >= _SEEN_MAX:
            _SEEN.clear()
        _SEEN.add(key)
    return True


SESSION_DAY = "yiwang.active_day"


def activity_on_login(sender, request, user, **kwargs) -> None:
    """`user_logged_in` receiver: a staff member signing in is active today."""
    if getattr(user, "kind", "") != "staff":
        return
    try:
        with _LOCK:
            _SEEN.discard((user.pk, timezone.localdate()))  # a sign-in always writes (the row may be new)
        staff_activity_record(user.pk)
        session = getattr(request, "session", None)
        if session is not None:
            session[SESSION_DAY] = timezone.localdate().isoformat()
    except DatabaseError:
        log.warning("staff activity not recorded at sign-in", exc_info=True)


def _record_for(request, account) -> None:
    session = getattr(request, "session", None)
    if session is not None and session.session_key:  # a browser session: its own day, no query while current
        today = timezone.localdate().isoformat()
        if session.get(SESSION_DAY) == today:
            return
        with _LOCK:
            _SEEN.discard((account.pk, timezone.localdate()))
        staff_activity_record(account.pk)
        session[SESSION_DAY] = today
        return
    staff_activity_record(account.pk)


class StaffActivityMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        try:
            account = _account_of(request)
            if account is not None:
                _record_for(request, account)
        except DatabaseError:
            log.warning("staff activity not recorded", exc_info=True)
        except Exception:  # never fail a request over a usage figure
            log.exception("staff activity not recorded")
        return response
