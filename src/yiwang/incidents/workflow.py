"""The incident lifecycle: 分拨 → 处置 → 核查 → 结案 → 回访, as data.

States are `Incident.State`. `TRANSITIONS` names every action, the states it may start from and the state it
leads to (None: stays where it is). `incident_transition()` (services/common.py) is the only writer of `state`:
it locks the row, checks this table, appends an IncidentEvent, bumps `lock_version` and audits. Who may take an
action is decided by the service of that action (`services/dispatch.py`, `services/handling.py`), using the
scoping predicates in `selectors.py`.

Deadline arithmetic is pure (no clock, no database): `due_at_for()` and `light()` take `now` and the calendar.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from yiwang.core.workdays import WorkingCalendar, add_working_days, working_days_between

from .models import Incident

S = Incident.State
LOCAL = ZoneInfo("Asia/Shanghai")


@dataclass(frozen=True)
class Transition:
    action: str
    sources: tuple[str, ...]
    target: str | None  # None: the state does not change
    label: object  # lazy Chinese label for history and buttons
    system_only: bool = False  # taken by the pipeline or a task, never from a button


TRANSITIONS: dict[str, Transition] = {
    t.action: t
    for t in (
        Transition("intake", ("",), S.PENDING, gettext_lazy("登记"), system_only=True),
        Transition("dispatch", (S.PENDING,), S.DISPATCHED, gettext_lazy("派遣")),
        Transition("return", (S.DISPATCHED,), S.PENDING, gettext_lazy("退回")),
        Transition("reassign", (S.DISPATCHED, S.HANDLED), S.DISPATCHED, gettext_lazy("改派")),
        Transition("extension_request", (S.DISPATCHED,), None, gettext_lazy("申请延期")),
        Transition("extension_decide", (S.DISPATCHED, S.HANDLED), None, gettext_lazy("延期审批")),
        Transition("handle", (S.DISPATCHED,), S.HANDLED, gettext_lazy("处置完成")),
        Transition("verify_pass", (S.HANDLED,), S.CLOSED, gettext_lazy("核查通过")),
        Transition("verify_fail", (S.HANDLED,), S.DISPATCHED, gettext_lazy("核查不通过")),
        Transition("close", (S.PENDING, S.DISPATCHED, S.HANDLED), S.CLOSED, gettext_lazy("结案")),
        Transition("answer", (S.PENDING,), S.CLOSED, gettext_lazy("直接答复")),
        Transition("merge", (S.PENDING, S.DISPATCHED), S.MERGED, gettext_lazy("合并为重复件")),
        Transition("duplicate_closed", (S.MERGED,), None, gettext_lazy("主工单结案"), system_only=True),
        Transition("callback", (S.CLOSED,), None, gettext_lazy("回访")),
        Transition("reopen", (S.CLOSED,), S.DISPATCHED, gettext_lazy("重启")),
        Transition("escalate", (S.DISPATCHED, S.HANDLED), None, gettext_lazy("督办"), system_only=True),
        Transition("comment", (S.PENDING, S.DISPATCHED, S.HANDLED, S.CLOSED), None, gettext_lazy("备注")),
        Transition(
            "alarm_repeat",
            (S.PENDING, S.DISPATCHED, S.HANDLED),
            None,
            gettext_lazy("设备重复报警"),
            system_only=True,
        ),
    )
}


def transition_check(incident: Incident, action: str) -> Transition:
    """The transition for `action` from the incident's current state; a ValidationError when not allowed."""
    transition = TRANSITIONS.get(action)
    if transition is None:
        raise ValidationError({"action": _("未知的操作：%(action)s") % {"action": action}}, code="action")
    if incident.state not in transition.sources:
        raise ValidationError(
            {
                "action": _("工单当前状态为“%(state)s”，不能%(label)s。")
                % {"state": incident.get_state_display(), "label": transition.label}
            },
            code="state",
        )
    return transition


# --- deadlines -------------------------------------------------------------------------------------------
GREEN, YELLOW, RED = "green", "yellow", "red"


def due_at_for(start: datetime, value: int, unit: str, cal: WorkingCalendar) -> datetime:
    """The handling deadline: `value` hours after `start`, or the same local clock time `value` working days
    later (the start day never counts; see core.workdays)."""
    if unit == "hours":
        return start + timedelta(hours=max(int(value), 0))
    local = start.astimezone(LOCAL)
    day = add_working_days(local.date(), max(int(value), 0), cal)
    return datetime.combine(day, local.timetz()).astimezone(start.tzinfo or LOCAL)


def light(
    *, started: datetime | None, due: datetime | None, now: datetime, yellow_share: float = 0.2
) -> str | None:
    """Traffic light of an open incident: red past the deadline, yellow when less than `yellow_share` of the
    time is left, else green; None without a deadline."""
    if due is None or started is None:
        return None
    if now > due:
        return RED
    total = (due - started).total_seconds()
    left = (due - now).total_seconds()
    if total <= 0 or left < yellow_share * total:
        return YELLOW
    return GREEN


def working_days_late(due: datetime, now: datetime, cal: WorkingCalendar) -> int:
    """Whole working days between the deadline and now (0 when not late)."""
    if now <= due:
        return 0
    return max(working_days_between(due.astimezone(LOCAL).date(), now.astimezone(LOCAL).date(), cal), 0)
