# ruff: noqa: F811  (the shared world fixtures are imported, then named as test arguments)
"""The demo loader: CDOs for the district and every top-level department, the scorecards of this quarter and the
last; a second run creates nothing."""

from __future__ import annotations

import pytest

from tests.datahub.world_scorecard import sworld  # noqa: F401
from yiwang.datahub.demo_scorecard import load_scorecard
from yiwang.datahub.models import CdoAppointment, Scorecard

pytestmark = pytest.mark.django_db


def test_load_scorecard_is_idempotent(sworld):
    first = load_scorecard()
    assert first["cdo_appointments"] >= 5 and first["scorecards"] >= 4  # 2026-Q1 ranks 4, 2025-Q4 fewer
    district = CdoAppointment.objects.get(level="district")
    assert district.department is None and district.ended_on is None
    assert CdoAppointment.objects.filter(
        level="department", department=sworld.sa, ended_on__isnull=True
    ).exists()
    assert CdoAppointment.objects.filter(
        level="deputy", department=sworld.sa, staff=sworld.steward_a
    ).exists()
    assert not CdoAppointment.objects.filter(department=sworld.sa1).exists()  # units below a department: none
    assert Scorecard.objects.filter(period="2026-Q1").count() == 4
    counts = (CdoAppointment.objects.count(), Scorecard.objects.count())
    assert load_scorecard() == {"cdo_appointments": 0, "scorecards": 0}
    assert (CdoAppointment.objects.count(), Scorecard.objects.count()) == counts
