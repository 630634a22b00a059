"""SLA rules as pure functions under the fixed 2026 calendar (国庆 and 春节 with their 调休 working weekends),
and the same rules applied by the services."""

from __future__ import annotations

from datetime import date

import pytest

from yiwang.cases import services, sla
from yiwang.core.calendar_data import schedule
from yiwang.core.workdays import WorkingCalendar

from .factories import GOOD_FORM, World, required_files

CAL = WorkingCalendar.from_days((d.date, d.kind) for d in schedule(2026))
D = date
p = World.p


@pytest.mark.parametrize(
    ("started", "due", "today", "paused", "light"),
    [
        (D(2026, 3, 2), None, D(2026, 3, 2), False, None),  # no deadline (draft, closed)
        (D(2026, 3, 2), D(2026, 3, 16), D(2026, 3, 20), True, "paused"),  # paused beats red
        # 10 working days: green until fewer than 2 are left.
        (D(2026, 3, 2), D(2026, 3, 16), D(2026, 3, 2), False, "green"),
        (D(2026, 3, 2), D(2026, 3, 16), D(2026, 3, 12), False, "green"),  # 2 left (13, 16)
        (D(2026, 3, 2), D(2026, 3, 16), D(2026, 3, 13), False, "yellow"),  # 1 left
        (D(2026, 3, 2), D(2026, 3, 16), D(2026, 3, 14), False, "yellow"),  # Saturday: still 1 left
        (D(2026, 3, 2), D(2026, 3, 16), D(2026, 3, 16), False, "yellow"),  # the due day itself
        (D(2026, 3, 2), D(2026, 3, 16), D(2026, 3, 17), False, "red"),
        # One-day step.
        (D(2026, 3, 2), D(2026, 3, 3), D(2026, 3, 2), False, "green"),
        (D(2026, 3, 2), D(2026, 3, 3), D(2026, 3, 3), False, "yellow"),
        (D(2026, 3, 2), D(2026, 3, 3), D(2026, 3, 4), False, "red"),
        # 国庆: started Wed 30 Sep, 5 working days → Tue 13 Oct (1–7 Oct off, Sat 10 Oct worked).
        (D(2026, 9, 30), D(2026, 10, 13), D(2026, 10, 5), False, "green"),  # holiday: all 5 days left
        (D(2026, 9, 30), D(2026, 10, 13), D(2026, 10, 12), False, "green"),  # 1 of 5 left is not < 20%
        (D(2026, 9, 30), D(2026, 10, 13), D(2026, 10, 13), False, "yellow"),
        (D(2026, 9, 30), D(2026, 10, 13), D(2026, 10, 14), False, "red"),
        # 春节: started Fri 13 Feb, 3 working days → Wed 25 Feb (Sat 14 Feb worked, 15–23 Feb off).
        (D(2026, 2, 13), D(2026, 2, 25), D(2026, 2, 20), False, "green"),
        (D(2026, 2, 13), D(2026, 2, 25), D(2026, 2, 25), False, "yellow"),
        (D(2026, 2, 13), D(2026, 2, 25), D(2026, 2, 26), False, "red"),
    ],
)
def test_sla_light(started, due, today, paused, light):
    assert sla.sla_light(step_started=started, step_due=due, today=today, paused=paused, cal=CAL) == light


@pytest.mark.parametrize(
    ("start", "days", "expected"),
    [
        (D(2026, 3, 2), 10, D(2026, 3, 16)),
        (D(2026, 3, 2), 0, D(2026, 3, 2)),
        (D(2026, 9, 30), 5, D(2026, 10, 13)),
        (D(2026, 9, 29), 10, D(2026, 10, 19)),
        (D(2026, 10, 3), 1, D(2026, 10, 8)),  # filed on a holiday: first working day after it
        (D(2026, 10, 9), 1, D(2026, 10, 10)),  # the 调休 Saturday is a working day
        (D(2026, 2, 13), 3, D(2026, 2, 25)),
        (D(2026, 2, 27), 1, D(2026, 2, 28)),  # Saturday 28 Feb is worked
    ],
)
def test_due_after(start, days, expected):
    assert sla.due_after(start, days, CAL) == expected


@pytest.mark.parametrize(
    ("paused_on", "resumed_on", "days"),
    [
        (D(2026, 3, 4), D(2026, 3, 4), 0),  # supplied the same day
        (D(2026, 3, 4), D(2026, 3, 9), 3),
        (D(2026, 3, 6), D(2026, 3, 8), 0),  # Friday → Sunday
        (D(2026, 9, 30), D(2026, 10, 8), 1),  # the whole 国庆 break costs one day
        (D(2026, 2, 13), D(2026, 2, 24), 2),  # 14 Feb (worked) and 24 Feb
        (D(2026, 3, 9), D(2026, 3, 4), 0),  # a clock running backwards never gives days back
    ],
)
def test_paused_days(paused_on, resumed_on, days):
    assert sla.paused_days(paused_on=paused_on, resumed_on=resumed_on, cal=CAL) == days


@pytest.mark.parametrize(
    ("due", "days", "expected"),
    [
        (None, 3, None),
        (D(2026, 3, 16), 0, D(2026, 3, 16)),
        (D(2026, 3, 16), 3, D(2026, 3, 19)),
        (D(2026, 9, 28), 3, D(2026, 10, 8)),
    ],
)
def test_push_due(due, days, expected):
    assert sla.push_due(due, days, CAL) == expected


# --- the services apply the same calendar ---------------------------------------------------------------------
def test_submission_before_national_day(world, clock):
    from yiwang.cases.models import Case

    clock.set(2026, 9, 29)
    case = services.case_submit(
        actor=p(world.citizen),
        item=world.item,
        form_data=dict(GOOD_FORM),
        files=required_files(),
        idempotency_key="nd",
    )
    assert case.due_date == D(2026, 10, 19)
    assert case.step_due_date == D(2026, 9, 30)
    # Accepted on the 调休 Saturday 10 Oct: review gets 5 working days → 16 Oct.
    clock.set(2026, 10, 10)
    case = services.case_action_take(actor=p(world.clerk), case=case, action="accept")
    assert case.step_due_date == D(2026, 10, 16)
    # 补正 over a weekend, supplied the next Monday: one working day paused.
    clock.set(2026, 10, 16)
    case = services.case_action_take(
        actor=p(world.approver), case=case, action="request_supplement", opinion="补充场所证明"
    )
    assert case.supplements.get().deadline == D(2026, 10, 23)
    clock.set(2026, 10, 19)
    case = services.case_supply(actor=p(world.citizen), case=case, note="已补充说明")
    assert case.paused_working_days == 1
    assert (case.due_date, case.step_due_date) == (D(2026, 10, 20), D(2026, 10, 19))
    assert case.state == Case.State.IN_PROGRESS


def test_step_deadline_never_after_case_deadline(world, clock):
    from .factories import make_case

    case = make_case(world, "in_decision")  # everything on Monday 2 March; case due 16 March
    clock.set(2026, 3, 13)
    case = services.case_action_take(actor=p(world.head), case=case, action="return", opinion="重审")
    # review would get 5 working days (20 March) but the case itself is due on 16 March.
    assert case.step_due_date == D(2026, 3, 16)
