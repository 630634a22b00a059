"""What an intake reads: a grid's chain (grid, village, town) in one query without boundaries, remembered under
the grid index's stamp (a grid edit is seen at once in this process); the category it names, remembered like the
routing rules (a catalogue edit is seen at once in this process); duplicate candidates with only the columns the
score and the answers use."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from yiwang.core.services.org import division_update
from yiwang.incidents.services.catalogue import category_save
from yiwang.incidents.services.dedup import CANDIDATE_FIELDS, duplicates_find
from yiwang.incidents.services.intake import IntakeReport, incident_intake
from yiwang.incidents.services.routing import incident_locate, routing_invalidate

from .factories import point_in

GRID = "440199001002001"  # 一街道 / 凤岗社区 / 第3网格
TEXT = "路口有流动摊贩占道卖水果影响通行"


def _locate(grid_code: str = GRID):
    lon, lat = point_in(grid_code)
    return incident_locate(lon=lon, lat=lat)


def test_a_cold_grid_chain_is_one_query_without_boundaries_and_a_warm_one_none(iworld):
    _locate()  # the grid index is built
    routing_invalidate()
    with CaptureQueriesContext(connection) as cold:
        location = _locate()
    assert len(cold) == 1, [q["sql"] for q in cold]
    assert '"geometry"' not in cold[0]["sql"]
    grid = iworld.grids[GRID]
    assert (location.grid.pk, location.village.pk, location.town.pk) == (
        grid.pk,
        grid.parent_id,
        grid.parent.parent_id,
    )
    assert location.located_by == "point"
    with CaptureQueriesContext(connection) as warm:
        again = _locate()
    assert len(warm) == 0
    assert again.grid.name == location.grid.name


def test_a_grid_renamed_or_closed_is_seen_by_the_next_intake(iworld):
    before = _locate()
    grid = iworld.grids[GRID]
    division_update(actor=None, division=grid, name="凤岗第三网格（调整后）")
    renamed = _locate()
    assert renamed.grid.pk == before.grid.pk and renamed.grid.name == "凤岗第三网格（调整后）"
    division_update(actor=None, division=renamed.grid, is_active=False)
    assert _locate().grid is None


def test_duplicate_candidates_read_only_the_columns_they_use(iworld):
    lon, lat = point_in(GRID)
    first = incident_intake(
        actor=None,
        report=IntakeReport(channel="web", description=TEXT, category_code="SRHJ01", lon=lon, lat=lat),
    ).incident
    with CaptureQueriesContext(connection) as queries:
        found = duplicates_find(
            category=iworld.categories["SRHJ01"], lon=lon, lat=lat, text=TEXT, at=first.created_at
        )
        number, title, state = found[0].incident.number, found[0].incident.title, found[0].incident.state
    assert [c.incident.pk for c in found] == [first.pk]
    assert (number, title, state) == (first.number, first.title, first.state)
    sql = [q["sql"] for q in queries if '"incidents_incident"' in q["sql"]]
    assert len(sql) == 1, sql  # no deferred column is read afterwards
    selected = sql[0].split(" FROM ")[0]
    assert selected.count('"incidents_incident".') == len(CANDIDATE_FIELDS)
    assert '"resolution"' not in selected and '"incidents_incidentcategory"' not in sql[0]


def _categories_read(queries) -> list[str]:
    return [q["sql"] for q in queries if 'FROM "incidents_incidentcategory"' in q["sql"]]


def test_a_named_category_is_read_once_and_forgotten_when_the_catalogue_changes(
    iworld, django_capture_on_commit_callbacks
):
    lon, lat = point_in(GRID)

    def intake(code: str = "AQYH01"):
        report = IntakeReport(channel="web", description=TEXT, category_code=code, lon=lon, lat=lat)
        return incident_intake(actor=None, report=report)

    with CaptureQueriesContext(connection) as cold:
        first = intake()
    assert len(_categories_read(cold)) == 1
    with CaptureQueriesContext(connection) as warm:
        second = intake()
    assert _categories_read(warm) == []
    assert first.incident.category == second.incident.category == iworld.categories["AQYH01"]
    for _n in range(2):  # a code nobody has is read each time, never remembered
        with CaptureQueriesContext(connection) as unknown, pytest.raises(ValidationError) as refused:
            intake("NOSUCH99")
        assert len(_categories_read(unknown)) == 1 and "category" in refused.value.message_dict
    category = iworld.categories["AQYH01"]
    values = {name: getattr(category, name) for name in ("code", "name", "parent", "deadline_value")}
    values |= {"deadline_unit": category.deadline_unit, "handling": category.handling, "is_active": False}
    with django_capture_on_commit_callbacks(execute=True):
        category_save(actor=None, category=category, values=values)
    with pytest.raises(ValidationError) as closed:
        intake()
    assert "category" in closed.value.message_dict
