"""The census demo on a small district: idempotent, both rounds, returns in every state, needs turned into share
requests for their units, a catalogue draft, public enterprises answering as such."""

from __future__ import annotations

import pytest

from tests.datahub.world_census import build_census_world
from yiwang.datahub.demo_census import load_census
from yiwang.datahub.models import CensusNeed, CensusReturn, CensusRound, ShareRequest

pytestmark = pytest.mark.django_db


def test_demo_builds_both_rounds_once(db, clock, media_and_fast_passwords):
    w = build_census_world()
    counts = load_census()
    assert counts["rounds"] == 2 and counts["units"] == 1  # GSGS exists in the world; GJJT is made
    previous, current = CensusRound.objects.get(code="2025"), CensusRound.objects.get(code="2026")
    assert previous.status == "closed" and current.status == "open" and current.previous == previous
    assert set(previous.returns.values_list("status", flat=True)) == {"accepted"}
    states = set(current.returns.values_list("status", flat=True))
    assert {"accepted", "not_started", "in_progress"} <= states
    assert current.due_on < current.opened_at.date() + __import__("datetime").timedelta(days=30)
    enterprise = CensusReturn.objects.get(round=current, unit__code="GJJT")
    assert enterprise.unit_kind == "enterprise" and enterprise.prefilled_from is not None
    gaj = CensusReturn.objects.get(round=current, unit=w.d_gaj)
    assert gaj.status == "accepted" and gaj.systems.get(name="人口管理系统").vertical_owner == "省公安厅"
    assert gaj.data_items.filter(resource__isnull=False).count() == 1
    mzj_need = CensusNeed.objects.get(census_return__round=current, census_return__unit=w.d_mzj, position=0)
    assert mzj_need.status == "requested" and mzj_need.share_request.requester == w.d_mzj
    before = (CensusReturn.objects.count(), ShareRequest.objects.count(), CensusNeed.objects.count())
    assert load_census() == {}
    assert (CensusReturn.objects.count(), ShareRequest.objects.count(), CensusNeed.objects.count()) == before
