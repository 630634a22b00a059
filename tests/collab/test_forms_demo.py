"""The forms demo on the small world: the register in several states, the monthly form issued to the villages
with prefill, idempotent."""

from __future__ import annotations

import pytest

from tests.collab.world import build_collab_world
from tests.factories import PersonFactory
from yiwang.collab.demo_forms import MONTHLY_CODE, demo_issue, load_forms
from yiwang.collab.models import FormAssignment, ReportForm

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("day", [(2026, 1, 1), (2026, 3, 31), (2026, 12, 31)])
def test_demo_builds_register_and_issue_once(db, clock, day):
    clock.set(*day)
    w = build_collab_world()
    PersonFactory.create_batch(2, division=w.villages[0])
    counts = load_forms()
    assert counts["forms"] == 4 and counts["issues"] == 1 and counts["assignments"] == 7
    states = dict(ReportForm.objects.values_list("code", "status"))
    assert states == {
        "CJYB": "approved",
        "SCJQY": "rejected",
        "WSZ": "submitted",
        "WGQY": "draft",
    }
    rejected = ReportForm.objects.get(code="SCJQY")
    assert rejected.review_findings["summary"]["duplicates"] >= 2 and rejected.review_note
    xls = ReportForm.objects.get(source="xlsform")
    assert xls.status == "submitted" and xls.fields.count() == 7
    issue = demo_issue()
    assert issue.form.code == MONTHLY_CODE and issue.units_count == 4
    assert issue.period_end < issue.issued_at.date() <= issue.due_on
    village = FormAssignment.objects.get(issue=issue, division=w.villages[0])
    assert village.prefilled["residents"] == 2 and village.asked_fields == 6
    before = (ReportForm.objects.count(), FormAssignment.objects.count())
    assert load_forms() == {}
    assert (ReportForm.objects.count(), FormAssignment.objects.count()) == before
