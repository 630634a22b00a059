# ruff: noqa: F811  (the shared world fixture is imported, then named as a test argument)
"""The 纠错 demo on a small world: objections from every origin in every state, pushes and an acknowledgement, one
overdue; running it again creates nothing."""

from __future__ import annotations

import pytest

from tests.datahub.world_objections import ow  # noqa: F401  (fixture)
from tests.factories import PersonFactory
from yiwang.datahub.demo_objections import load_objections
from yiwang.datahub.models.objections import CorrectionPush, Objection
from yiwang.datahub.selectors.objections import objections_queue

pytestmark = pytest.mark.django_db


def test_demo_builds_every_state_and_is_idempotent(ow):
    for _ in range(6):
        PersonFactory(address="示范社区2号")
    counts = load_objections()
    assert counts["objections"] >= 12 and counts["pushes"] >= 2
    origins = set(Objection.objects.values_list("origin", flat=True))
    assert {"department", "window", "person", "organisation", "quality"} <= origins
    statuses = set(Objection.objects.values_list("status", flat=True))
    assert statuses == {"submitted", "verifying", "corrected", "rejected", "withdrawn"}
    assert CorrectionPush.objects.filter(status="acknowledged").exists()
    assert objections_queue(ow.centre, overdue=True).items
    assert load_objections() == {}
    assert Objection.objects.count() == counts["objections"]
