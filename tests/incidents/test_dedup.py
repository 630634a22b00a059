"""Duplicate detection: radius, time window, category and open state bound the candidates; the score combines
place, time and text; the pipeline merges above the attach score and suggests above the suggest score."""

from __future__ import annotations

from datetime import timedelta

import pytest

from yiwang.incidents.models import Incident
from yiwang.incidents.services.catalogue import incident_settings_save
from yiwang.incidents.services.common import now
from yiwang.incidents.services.dedup import duplicate_score, duplicates_find, haversine_m, text_similarity
from yiwang.incidents.services.intake import IntakeReport, incident_intake

from .factories import point_in

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fresh_settings():
    """Settings cached by another test belong to a rolled-back row; ours must not leak either."""
    from yiwang.incidents.services.common import incident_settings_invalidate

    incident_settings_invalidate()
    yield
    incident_settings_invalidate()


GRID = "440199001002001"
TEXT = "路口有流动摊贩占道卖水果影响通行"
METRE_LAT = 1 / 111_320  # degrees of latitude per metre


def report(iworld, *, text=TEXT, code="SRHJ01", lon=None, lat=None, address="", actor=None):
    if lon is None and not address:
        lon, lat = point_in(GRID)
    return incident_intake(
        actor=actor,
        report=IntakeReport(
            channel="web", description=text, category_code=code, lon=lon, lat=lat, address=address
        ),
    )


def find(iworld, *, text=TEXT, code="SRHJ01", lon=None, lat=None, grid_id=None, at=None):
    if lon is None and grid_id is None:
        lon, lat = point_in(GRID)
    return duplicates_find(
        category=iworld.categories[code], lon=lon, lat=lat, text=text, at=at or now(), grid_id=grid_id
    )


def test_pure_parts():
    assert haversine_m(113.2, 23.0, 113.2, 23.0 + 100 * METRE_LAT) == pytest.approx(100, rel=0.01)
    assert text_similarity("井盖不见了", "井盖不见了") == 1.0
    assert text_similarity("井盖不见了", "广场舞太吵") == 0.0
    assert text_similarity("", "井盖") == 0.0
    same = duplicate_score(distance_m=0, radius_m=100, age_s=0, window_s=3600, text=1.0)
    assert same == pytest.approx(1.0)
    assert duplicate_score(distance_m=None, radius_m=100, age_s=0, window_s=3600, text=1.0) < 0.75


def test_within_the_radius_is_found_outside_is_not(iworld):
    first = report(iworld).incident
    lon, lat = point_in(GRID)
    near = find(iworld, lon=lon, lat=lat + 50 * METRE_LAT)
    assert [c.incident for c in near] == [first]
    assert near[0].distance_m == pytest.approx(50, rel=0.02)
    assert find(iworld, lon=lon, lat=lat + 150 * METRE_LAT) == []  # default radius 100 m
    incident_settings_save(actor=None, values={"dedup_radius_m": 200})
    assert [c.incident for c in find(iworld, lon=lon, lat=lat + 150 * METRE_LAT)] == [first]


def test_other_category_closed_and_old_incidents_are_not_matched(iworld, django_assert_max_num_queries):
    first = report(iworld).incident
    assert find(iworld, code="SRHJ02") == []
    with django_assert_max_num_queries(2):
        assert len(find(iworld)) == 1
    Incident.objects.filter(pk=first.pk).update(state=Incident.State.CLOSED)
    assert find(iworld) == []
    Incident.objects.filter(pk=first.pk).update(
        state=Incident.State.DISPATCHED, created_at=now() - timedelta(hours=73)
    )
    assert find(iworld) == []  # default window 72 hours
    incident_settings_save(actor=None, values={"dedup_hours": 96})
    assert len(find(iworld)) == 1


def test_text_similarity_raises_the_score(iworld):
    report(iworld)
    similar = find(iworld, text="路口流动摊贩占道卖水果")[0].score
    unrelated = find(iworld, text="有人在这里吵架")[0].score
    assert similar > unrelated
    assert unrelated == pytest.approx(0.6, abs=0.02)  # same place, just now, no common word


def test_pipeline_attaches_above_the_attach_score_and_suggests_above_the_suggest_score(iworld):
    first = report(iworld).incident
    # same place, different words: suggested (0.6 ≥ 0.35), not merged (< 0.75)
    second = report(iworld, text="这里有人摆摊吵得很")
    assert second.attached_to is None and [c.incident for c in second.duplicates] == [first]
    assert second.incident.state == Incident.State.DISPATCHED
    assert second.incident.events.get(action="intake").data["duplicates"][0]["number"] == first.number
    # same place, same words: merged into the first
    third = report(iworld)
    merged = Incident.objects.get(pk=third.incident.pk)
    assert third.attached_to == first and merged.state == Incident.State.MERGED
    assert merged.duplicate_of == first and merged.duplicate_score >= 0.75
    assert not third.auto_dispatched
    # with a stricter attach score the same report is only suggested
    incident_settings_save(actor=None, values={"dedup_attach_score": 1.0, "dedup_suggest_score": 0.9})
    lon, lat = point_in(GRID)
    fourth = report(iworld, lon=lon, lat=lat + 10 * METRE_LAT)  # 0.4 × 0.9 + 0.2 + 0.4 ≈ 0.96
    assert fourth.attached_to is None
    assert first in [c.incident for c in fourth.duplicates]
    assert second.incident not in [c.incident for c in fourth.duplicates]  # below 0.9


def test_without_a_point_the_same_grid_is_suggested_never_merged(iworld):
    grid = iworld.grids[GRID]
    first = report(iworld).incident
    found = find(iworld, grid_id=grid.pk)
    assert [c.incident for c in found] == [first] and found[0].distance_m is None
    assert found[0].score < 0.75
    assert find(iworld, grid_id=iworld.grids["440199002001001"].pk) == []
    # through the pipeline: an address locates 桃源社区 (no grid) → nothing; no place at all → nothing
    assert report(iworld, address="桃源社区门口").duplicates == []
    assert (
        duplicates_find(category=iworld.categories["SRHJ01"], lon=None, lat=None, text=TEXT, at=now()) == []
    )


def test_merged_incidents_are_not_candidates(iworld):
    report(iworld)
    merged = report(iworld).incident
    assert Incident.objects.get(pk=merged.pk).state == Incident.State.MERGED
    assert [c.incident.state for c in find(iworld)] == [Incident.State.DISPATCHED]
