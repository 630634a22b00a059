"""督办: an overdue incident climbs grid → village → town → district, one level per run and per working day
late, each level recorded once and notified; outcomes filled on closure; the Huey task runs the sweep."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.cases.factories import at
from yiwang.incidents.models import Escalation, Incident
from yiwang.incidents.services.escalation import incidents_escalate_overdue
from yiwang.incidents.tasks_work import incidents_escalate_periodic

from .test_work_support import STREET_GRID, closed, filed, fresh, notices

pytestmark = pytest.mark.django_db


def levels(incident: Incident) -> list[tuple[int, str, str]]:
    return [(e.level, e.division.code, e.outcome) for e in incident.escalations.select_related("division")]


def test_the_whole_ladder_with_the_clock(iworld, clock):
    incident = filed(iworld)  # 占道经营 at 城管: 2 working days from Monday 2 March 10:00
    assert incident.due_at == at(2026, 3, 4, 10)
    clock.moment = at(2026, 3, 4, 9)
    assert incidents_escalate_overdue() == 0

    clock.moment = at(2026, 3, 4, 11)  # overdue, same day: the village
    assert incidents_escalate_overdue() == 1
    assert incidents_escalate_overdue() == 0  # a re-run changes nothing
    incident = fresh(incident)
    assert incident.escalation_level == 3 and levels(incident) == [(3, "440199001002", "")]
    village_workers = [iworld.grid_workers["440199001002001"], iworld.grid_workers["440199001002002"]]
    assert all(notices(w, "督办") for w in village_workers)
    assert not notices(iworld.grid_workers["440199001001001"], "督办")  # another village
    assert not notices(iworld.town_dispatcher, "督办")

    clock.moment = at(2026, 3, 5, 11)  # one working day late: the town centre
    assert incidents_escalate_overdue() == 1
    assert incidents_escalate_overdue() == 0
    assert fresh(incident).escalation_level == 2
    assert notices(iworld.town_dispatcher, "督办") and not notices(iworld.dispatcher, "督办")
    assert not notices(iworld.other_town_dispatcher, "督办")

    clock.moment = at(2026, 3, 6, 11)  # two working days late: the district centre
    assert incidents_escalate_overdue() == 1
    assert incidents_escalate_overdue() == 0
    clock.moment = at(2026, 3, 10, 11)
    assert incidents_escalate_overdue() == 0  # nothing above the district
    incident = fresh(incident)
    assert incident.escalation_level == 1 and len(notices(iworld.dispatcher, "督办")) == 1
    assert levels(incident) == [
        (1, "440199", ""),
        (2, "440199001", "escalated"),
        (3, "440199001002", "escalated"),
    ]
    events = list(incident.events.filter(action="escalate").values_list("actor_label", "data"))
    assert [d["level"] for _, d in events] == [3, 2, 1] and all(label == "系统" for label, _ in events)
    assert Escalation.objects.filter(incident=incident).count() == 3

    closed(iworld, incident)
    assert levels(fresh(incident)) == [
        (1, "440199", "handled"),
        (2, "440199001", "escalated"),
        (3, "440199001002", "escalated"),
    ]
    assert Escalation.objects.filter(incident=incident, resolved_at__isnull=False).count() == 3


def test_one_level_per_run_even_when_long_overdue(iworld, clock):
    incident = filed(iworld)
    clock.moment = incident.due_at + timedelta(days=10)
    assert [incidents_escalate_overdue() for _ in range(4)] == [1, 1, 1, 0]
    assert fresh(incident).escalation_level == 1


def test_pending_and_closed_incidents_are_not_escalated(iworld, clock):
    closed_one = closed(iworld)
    filed(iworld, "", STREET_GRID)  # 待分拨: no deadline
    clock.moment = closed_one.due_at + timedelta(days=3)
    assert incidents_escalate_overdue() == 0


def test_the_periodic_task_runs_the_sweep(iworld, clock):
    incident = filed(iworld)
    clock.moment = incident.due_at + timedelta(hours=1)
    incidents_escalate_periodic.call_local()
    assert fresh(incident).escalation_level == 3
