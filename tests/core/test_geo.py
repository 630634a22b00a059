"""GeoJSON validation and the point-in-grid index."""

from __future__ import annotations

import json
import time

import pytest
from django.core.exceptions import ValidationError

from tests.core.test_org_services import LAT, LON, make_tree, square
from yiwang.core import geo
from yiwang.core.services import org as services


@pytest.fixture(autouse=True)
def fresh_index():
    geo.grid_index_reset()
    yield
    geo.grid_index_reset()


# --- validation ------------------------------------------------------------------------------------
def test_valid_polygon_and_multipolygon():
    poly = geo.validate_geometry(square(113.0, 23.0))
    assert poly.geom_type == "Polygon" and geo.geometry_bbox(poly) == pytest.approx(
        (113.0, 23.0, 113.01, 23.01)
    )
    multi = {
        "type": "MultiPolygon",
        "coordinates": [square(113.0, 23.0)["coordinates"], square(113.05, 23.0)["coordinates"]],
    }
    assert geo.validate_geometry(json.dumps(multi)).geom_type == "MultiPolygon"


@pytest.mark.parametrize(
    ("geometry", "message"),
    [
        ({"type": "Point", "coordinates": [113, 23]}, "边界类型应为 Polygon 或 MultiPolygon，当前为 Point。"),
        ("{not json", "边界不是有效的 JSON。"),
        ([1, 2], "边界应为 GeoJSON 对象。"),
        (
            {"type": "Polygon", "coordinates": [[[113, 23], [114, 23], [114, 24], [113, 24.5]]]},
            "多边形的环未闭合：首尾坐标点必须相同。",
        ),
        (
            {"type": "Polygon", "coordinates": [[[113, 23], [114, 23], [113, 23]]]},
            "多边形的每个环至少需要4个坐标点（首尾相同）。",
        ),
        (
            {"type": "Polygon", "coordinates": [[[181, 23], [182, 23], [182, 24], [181, 23]]]},
            "经度 181 超出范围（-180 至 180）。",
        ),
        (
            {"type": "Polygon", "coordinates": [[[113, 91], [114, 91], [114, 92], [113, 91]]]},
            "纬度 91 超出范围（-90 至 90）。",
        ),
        (
            {"type": "Polygon", "coordinates": [[["a", 23], [114, 23], [114, 24], ["a", 23]]]},
            "坐标值应为有限的数字。",
        ),
        ({"type": "Polygon", "coordinates": []}, "多边形至少需要一个外环。"),
    ],
)
def test_invalid_geometry_messages(geometry, message):
    with pytest.raises(ValidationError) as excinfo:
        geo.validate_geometry(geometry)
    assert excinfo.value.messages == [message]


def test_self_intersecting_polygon_rejected():
    bowtie = {"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]]}
    with pytest.raises(ValidationError) as excinfo:
        geo.validate_geometry(bowtie)
    assert excinfo.value.messages[0].startswith("边界图形无效（如自相交、环重叠）：Self-intersection")


# --- the index in memory ----------------------------------------------------------------------------
def _index() -> geo.GridIndex:
    refs = [
        (geo.GridRef(1, "B", "乙"), square(113.01, 23.0)),
        (geo.GridRef(2, "A", "甲"), square(113.0, 23.0)),
        (geo.GridRef(3, "C", "丙"), geo.validate_geometry(square(113.0, 23.01))),
    ]
    return geo.GridIndex(refs)


def test_point_inside_outside_and_on_shared_edge():
    index = _index()
    assert index.lookup(113.005, 23.005).code == "A"
    assert index.lookup(113.015, 23.005).code == "B"
    assert index.lookup(113.005, 23.015).code == "C"
    assert index.lookup(113.5, 23.5) is None
    # x = 113.01 is the edge A and B share: covered by both, the lower code wins, every time.
    assert index.lookup(113.01, 23.005).code == "A"
    # The outer boundary belongs to the grid too.
    assert index.lookup(113.02, 23.005).code == "B"


def test_lookup_many_matches_single_lookups():
    index = _index()
    points = [(113.005, 23.005), (113.01, 23.005), (113.5, 23.5), (113.005, 23.015)]
    assert index.lookup_many(points) == [index.lookup(*p) for p in points]
    assert [r and r.code for r in index.lookup_many(points)] == ["A", "A", None, "C"]
    assert geo.GridIndex([]).lookup_many(points) == [None] * 4


def test_empty_index():
    assert geo.GridIndex([]).lookup(113, 23) is None


def test_index_stays_fast_with_thousands_of_grids():
    cells = [
        (geo.GridRef(i, f"{i:05d}", str(i)), square(113 + (i % 60) * 0.01, 23 + (i // 60) * 0.01))
        for i in range(3000)
    ]
    index = geo.GridIndex(cells)
    started = time.perf_counter()
    for i in range(5000):
        index.lookup(113.0005 + (i % 600) * 0.001, 23.0005 + (i % 500) * 0.001)
    per_lookup = (time.perf_counter() - started) / 5000
    # Generous bound (a linear scan over 3,000 polygons would be ~100x slower than the tree).
    assert per_lookup < 0.001
    assert index.lookup(113.005, 23.005).code == "00000"


# --- the index over the database ----------------------------------------------------------------------
@pytest.mark.django_db
def test_grid_for_point_from_database():
    tree = make_tree()
    assert geo.grid_for_point(LON + 0.005, LAT + 0.005) == tree.g1
    assert geo.grid_for_point(LON + 0.015, LAT + 0.005) == tree.g2
    assert geo.grid_for_point(LON + 0.005, LAT + 0.015) == tree.g3
    assert geo.grid_for_point(LON - 1, LAT) is None


@pytest.mark.django_db
def test_index_rebuilt_after_a_new_grid(django_assert_num_queries):
    tree = make_tree()
    assert geo.grid_for_point(LON + 0.005, LAT - 0.005) is None
    first = geo.grid_index()
    # Warm and unchanged: a lookup costs no query at all.
    with django_assert_num_queries(0):
        geo.grid_ref_for_point(LON + 0.005, LAT + 0.005)
    new = services.division_create(
        actor=None,
        code="440199001001003",
        name="东三网格",
        level=4,
        parent=tree.v1,
        geometry=square(LON, LAT - 0.01),
    )
    assert geo.grid_for_point(LON + 0.005, LAT - 0.005) == new
    assert geo.grid_index() is not first and len(geo.grid_index()) == 4


@pytest.mark.django_db
def test_index_drops_a_deactivated_grid():
    tree = make_tree()
    assert geo.grid_for_point(LON + 0.015, LAT + 0.005) == tree.g2
    services.division_update(actor=None, division=tree.g2, is_active=False)
    assert geo.grid_for_point(LON + 0.015, LAT + 0.005) is None


@pytest.mark.django_db
def test_stamp_notices_changes_from_elsewhere(monkeypatch):
    """Another process's write is seen through the version stamp once the check interval has passed."""
    tree = make_tree()
    geo.grid_index()
    from yiwang.core.models import Division

    # A raw write that bypasses the services (as another process would, from this process's point of view).
    Division.objects.create(
        code="440199001002002",
        name="西二网格",
        level=4,
        parent=tree.v2,
        geometry=square(LON + 0.01, LAT + 0.01),
    )
    assert geo.grid_ref_for_point(LON + 0.015, LAT + 0.015) is None  # still within the check interval
    monkeypatch.setattr(geo, "STAMP_CHECK_SECONDS", 0.0)
    assert geo.grid_ref_for_point(LON + 0.015, LAT + 0.015).code == "440199001002002"
