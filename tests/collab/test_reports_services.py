"""填表报数 II services: save (draft, version check), submit (kind, required, choices, rule), review up the tree,
who may act (a unit only on its own assignments; a town only on its own villages; a grid worker only on its
grid), reminders."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from tests.collab.reports_world import issue_form, make_form, node
from tests.collab.world import build_collab_world, principal
from yiwang.collab.models import FormAssignment
from yiwang.collab.services.reports import (
    ReportConflict,
    assignment_review,
    assignment_save,
    assignment_submit,
    reports_remind_sweep,
)
from yiwang.core.models import Notification

pytestmark = pytest.mark.django_db
S = FormAssignment.Status


@pytest.fixture
def world(db, clock):
    w = build_collab_world()
    w.form = make_form(w.d_mzj, w.mzj_head)
    w.issue = issue_form(w, w.form, issued_by=w.mzj_head, prefill=lambda d: {"residents": 100})
    return w


def fill(w, v, values=None):
    a = node(w.issue, w.villages[v])
    actor = principal(w.village_clerks[v])
    assignment_save(actor=actor, assignment=a, values=values or {"households": 30, "kind": "city"})
    return assignment_submit(actor=actor, assignment=node(w.issue, w.villages[v]))


def test_save_submit_and_prefill_used(world):
    w = world
    a = node(w.issue, w.villages[0])
    actor = principal(w.village_clerks[0])
    saved = assignment_save(actor=actor, assignment=a, values={"households": "30", "income": 1234.5})
    assert saved.status == S.DRAFT and saved.values == {"households": 30, "income": "1234.5"}
    with pytest.raises(ReportConflict):
        assignment_save(actor=actor, assignment=node(w.issue, w.villages[0]), values={}, expected_version=0)
    done = assignment_submit(actor=actor, assignment=node(w.issue, w.villages[0]))
    assert done.status == S.SUBMITTED and done.on_time is True
    assert done.values["residents"] == 100  # the system's prefilled figure, confirmed by submitting
    with pytest.raises(ReportConflict):
        assignment_save(actor=actor, assignment=node(w.issue, w.villages[0]), values={"households": 1})


def test_submit_validates_every_field(world):
    w = world
    actor = principal(w.village_clerks[0])
    a = node(w.issue, w.villages[0])
    with pytest.raises(ValidationError) as bad:
        assignment_save(actor=actor, assignment=a, values={"households": "x", "kind": "moon", "nope": 1})
    assert set(bad.value.message_dict) == {"households", "kind", "nope"}
    assert "整数" in bad.value.message_dict["households"][0]
    assignment_save(actor=actor, assignment=a, values={"households": 500})
    with pytest.raises(ValidationError) as bad:
        assignment_submit(actor=actor, assignment=node(w.issue, w.villages[0]))
    assert bad.value.message_dict["households"] == ["户数不能多于常住人口"]
    assignment_save(actor=actor, assignment=node(w.issue, w.villages[0]), values={"residents": None})
    with pytest.raises(ValidationError) as bad:
        assignment_submit(actor=actor, assignment=node(w.issue, w.villages[0]))
    assert "必填" in bad.value.message_dict["residents"][0]


def test_only_the_unit_fills_its_own(world):
    w = world
    sibling = node(w.issue, w.villages[1])
    with pytest.raises(PermissionDenied):
        assignment_save(actor=principal(w.village_clerks[0]), assignment=sibling, values={})
    with pytest.raises(PermissionDenied):  # a town office does not fill its village's form
        assignment_save(actor=principal(w.town_heads[0]), assignment=sibling, values={})


def test_review_up_the_tree_and_district_completes(world):
    w = world
    for v in range(4):
        fill(w, v, {"households": 10 * (v + 1), "kind": "city" if v % 2 else "rural"})
    # a town cannot approve another town's village, a village cannot approve itself
    with pytest.raises(PermissionDenied):
        assignment_review(
            actor=principal(w.town_heads[1]), assignment=node(w.issue, w.villages[0]), decision="approve"
        )
    with pytest.raises(PermissionDenied):
        assignment_review(
            actor=principal(w.village_clerks[0]), assignment=node(w.issue, w.villages[0]), decision="approve"
        )
    for v in range(4):
        assignment_review(
            actor=principal(w.town_heads[v // 2]), assignment=node(w.issue, w.villages[v]), decision="approve"
        )
    town = node(w.issue, w.towns[0])
    assert town.status == S.SUBMITTED and town.approved_children == 2
    assert town.aggregate["households"]["sum"] == "30"
    root = node(w.issue, w.district)
    assert root.aggregate["households"] == {"n": 4, "sum": "100", "min": "10", "max": "40"}
    assert root.aggregate["kind"]["by"] == {"rural": 2, "city": 2}
    assert root.aggregate["_units"] == 4
    w.issue.refresh_from_db()
    assert w.issue.approved_count == 4
    # the towns' rollups are approved by the issuing department, not by another unit
    with pytest.raises(PermissionDenied):
        assignment_review(
            actor=principal(w.town_heads[1]), assignment=node(w.issue, w.towns[0]), decision="approve"
        )
    assignment_review(actor=principal(w.mzj_head), assignment=node(w.issue, w.towns[0]), decision="approve")
    assignment_review(actor=principal(w.mzj_head), assignment=node(w.issue, w.towns[1]), decision="approve")
    assert node(w.issue, w.district).status == S.APPROVED
    # an approved village cannot be returned while its town's rollup stands approved
    with pytest.raises(ReportConflict):
        assignment_review(
            actor=principal(w.town_heads[0]),
            assignment=node(w.issue, w.villages[0]),
            decision="return",
            note="改",
        )


def test_return_subtracts_and_is_refilled(world):
    w = world
    fill(w, 0, {"households": 10})
    fill(w, 1, {"households": 50})
    head = principal(w.town_heads[0])
    for v in (0, 1):
        assignment_review(actor=head, assignment=node(w.issue, w.villages[v]), decision="approve")
    with pytest.raises(ValidationError):
        assignment_review(actor=head, assignment=node(w.issue, w.villages[1]), decision="return")
    assignment_review(actor=head, assignment=node(w.issue, w.villages[1]), decision="return", note="户数有误")
    town, root = node(w.issue, w.towns[0]), node(w.issue, w.district)
    assert town.status == S.DRAFT and town.approved_children == 1
    assert root.aggregate["households"] == {"n": 1, "sum": "10", "min": "10", "max": "10"}
    returned = node(w.issue, w.villages[1])
    assert returned.status == S.RETURNED and returned.aggregate == {}
    assert Notification.objects.filter(recipient=w.village_clerks[1].account, title__contains="退回").exists()
    assignment_save(actor=principal(w.village_clerks[1]), assignment=returned, values={"households": 20})
    assert node(w.issue, w.villages[1]).status == S.RETURNED
    assignment_submit(actor=principal(w.village_clerks[1]), assignment=node(w.issue, w.villages[1]))
    assignment_review(actor=head, assignment=node(w.issue, w.villages[1]), decision="approve")
    assert node(w.issue, w.district).aggregate["households"] == {
        "n": 2,
        "sum": "30",
        "min": "10",
        "max": "20",
    }


def test_grid_worker_fills_only_their_grid(db, clock):
    w = build_collab_world()
    form = make_form(w.d_mzj, w.mzj_head, target_level=4, code="F-GRID")
    issue = issue_form(w, form, issued_by=w.mzj_head, prefill=lambda d: {"residents": 40})
    mine, other = node(issue, w.grids[0]), node(issue, w.grids[1])
    worker = principal(w.grid_workers[0])
    with pytest.raises(PermissionDenied):
        assignment_save(actor=worker, assignment=other, values={"households": 1})
    assignment_save(actor=worker, assignment=mine, values={"households": 4})
    assignment_submit(actor=worker, assignment=node(issue, w.grids[0]))
    # the grid's village approves it; the town cannot skip a level
    with pytest.raises(PermissionDenied):
        assignment_review(
            actor=principal(w.town_heads[0]), assignment=node(issue, w.grids[0]), decision="approve"
        )
    assignment_review(
        actor=principal(w.village_clerks[0]), assignment=node(issue, w.grids[0]), decision="approve"
    )
    assert node(issue, w.district).aggregate["households"]["sum"] == "4"
    assert node(issue, w.villages[0]).approved_children == 1


def test_rows_are_saved_validated_and_aggregated(db, clock):
    w = build_collab_world()
    fields = (
        {
            "name": "firms",
            "label": "企业数",
            "kind": "integer",
            "aggregate": "sum",
            "prefill": "organisations.count",
        },
        {"name": "staff", "label": "从业人员", "kind": "integer", "aggregate": "sum", "per_row": True},
    )
    form = make_form(w.d_scj, w.scj_head, code="F-ROWS", fields=fields, row_source="organisations")
    issue = issue_form(
        w,
        form,
        issued_by=w.scj_head,
        prefill=lambda d: {"firms": 2},
        rows=lambda d: [("k1", "甲公司", {"staff": 5}), ("k2", "乙公司", {})],
    )
    actor = principal(w.village_clerks[0])
    a = node(issue, w.villages[0])
    assignment_save(actor=actor, assignment=a, values={}, rows=[])
    with pytest.raises(ValidationError) as bad:
        assignment_submit(actor=actor, assignment=node(issue, w.villages[0]))
    assert "rows.2.staff" in bad.value.message_dict
    with pytest.raises(ValidationError):
        assignment_save(
            actor=actor,
            assignment=node(issue, w.villages[0]),
            values={},
            rows=[{"position": 9, "values": {}}],
        )
    assignment_save(
        actor=actor,
        assignment=node(issue, w.villages[0]),
        values={},
        rows=[{"position": 2, "values": {"staff": 7}}],
    )
    assignment_submit(actor=actor, assignment=node(issue, w.villages[0]))
    assignment_review(
        actor=principal(w.town_heads[0]), assignment=node(issue, w.villages[0]), decision="approve"
    )
    root = node(issue, w.district)
    assert root.aggregate["staff"] == {"n": 2, "sum": "12", "min": "5", "max": "7"}
    assert root.aggregate["firms"]["sum"] == "2"


def test_remind_sweep_once_a_day(world, clock):
    w = world
    fill(w, 0)
    clock.set(2026, 3, 6, 9)  # Friday; due Tuesday 10 March is two working days away
    first = reports_remind_sweep()
    assert first["units"] == 3 and first["notifications"] == 3
    assert reports_remind_sweep()["units"] == 0  # once a day
    assert not Notification.objects.filter(
        recipient=w.village_clerks[0].account, title__contains="到期"
    ).exists()
    clock.set(2026, 3, 2, 9)
    clock.set(2026, 3, 11, 9)  # overdue the next days
    again = reports_remind_sweep()
    assert again["units"] == 3
    assert Notification.objects.filter(recipient=w.village_clerks[1].account, title__contains="逾期").exists()


def test_late_submission_is_not_on_time(world, clock):
    w = world
    clock.set(2026, 3, 12, 9)
    assert fill(w, 0).on_time is False


def test_closed_issue_refuses(world):
    w = world
    w.issue.status = "closed"
    w.issue.save()
    with pytest.raises(ReportConflict):
        assignment_save(
            actor=principal(w.village_clerks[0]), assignment=node(w.issue, w.villages[0]), values={}
        )
    assert dt.date(2026, 3, 10) == w.issue.due_on
