"""The reports demo on the small world, on top of the forms demo's issued monthly form: villages approved,
submitted and returned, the complete town's rollup approved, the district aggregate filled; idempotent."""

from __future__ import annotations

import pytest

from tests.collab.world import build_collab_world
from yiwang.collab.demo_forms import demo_issue, load_forms
from yiwang.collab.demo_reports import load_reports
from yiwang.collab.models import FormAssignment

pytestmark = pytest.mark.django_db
S = FormAssignment.Status


def test_demo_fills_half_and_is_idempotent(db, clock):
    w = build_collab_world()
    assert load_reports() == {}  # nothing issued yet
    load_forms()
    counts = load_reports()
    assert counts == {"approved": 2, "submitted": 1, "returned": 1, "draft": 0, "rollups_approved": 1}
    issue = demo_issue()
    states = dict(FormAssignment.objects.filter(issue=issue, fills=True).values_list("division", "status"))
    assert states[w.villages[0].pk] == S.APPROVED and states[w.villages[1].pk] == S.APPROVED
    assert states[w.villages[2].pk] == S.SUBMITTED and states[w.villages[3].pk] == S.RETURNED
    town = FormAssignment.objects.get(issue=issue, division=w.towns[0])
    assert town.status == S.APPROVED
    root = FormAssignment.objects.get(issue=issue, division=w.district)
    assert root.aggregate["_units"] == 2
    issue.refresh_from_db()
    assert issue.approved_count == 2
    before = list(FormAssignment.objects.filter(issue=issue).values_list("status", "version"))
    assert load_reports() == {}
    assert list(FormAssignment.objects.filter(issue=issue).values_list("status", "version")) == before
