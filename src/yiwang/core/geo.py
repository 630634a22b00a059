"""Grid geometry: GeoJSON polygon validation and the point-in-grid index.

Polygons are GeoJSON (WGS84 lon/lat) stored on `Division.geometry`. `validate_geometry()` turns bad input into a
Chinese message a data clerk can act on. `grid_for_point()` answers "which grid is this point in" from a shapely
STRtree over the active grid polygons; the tree is built lazily, cached per process and rebuilt when the grid
table changes (a cheap version stamp — count and latest `updated_at` of grid rows — read at most every
`STAMP_CHECK_SECONDS`, or at once after `grid_index_invalidate()`, which the division services call).
"""

from __future__ import annotations

import json
import math
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import shapely
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from shapely.geometry import Point, shape
from shapely.geometry.base import BaseGeometry
from shapely.validation import explain_validity

POLYGON_TYPES = ("Polygon", "MultiPolygon")
# Overlap between sibling grids below this many square degrees (about 1 m² at 23°N) is float noise along a
# shared edge, not a real overlap.
OVERLAP_TOLERANCE = 1e-10
STAMP_CHECK_SECONDS = 5.0


# --- validation -------------------------------------------------------------------------------------
def _fail(message: str, code: str) -> ValidationError:
    return ValidationError(message, code=code)


def _check_position(pos: Any) -> None:
    if not isinstance(pos, (list, tuple)) or len(pos) not in (2, 3):
        raise _fail(_("坐标点应为 [经度, 纬度] 数组。"), "geometry_position")
    for value in pos:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise _fail(_("坐标值应为有限的数字。"), "geometry_position")
    lon, lat = pos[0], pos[1]
    if not -180 <= lon <= 180:
        raise _fail(_("经度 %(lon)s 超出范围（-180 至 180）。") % {"lon": lon}, "geometry_lon")
    if not -90 <= lat <= 90:
        raise _fail(_("纬度 %(lat)s 超出范围（-90 至 90）。") % {"lat": lat}, "geometry_lat")


def _check_polygon_rings(rings: Any) -> None:
    if not isinstance(rings, list) or not rings:
        raise _fail(_("多边形至少需要一个外环。"), "geometry_rings")
    for ring in rings:
        if not isinstance(ring, list):
            raise _fail(_("多边形的环应为坐标点数组。"), "geometry_rings")
        for pos in ring:
            _check_position(pos)
        if len(ring) < 4:
            raise _fail(_("多边形的每个环至少需要4个坐标点（首尾相同）。"), "geometry_ring_size")
        if list(ring[0][:2]) != list(ring[-1][:2]):
            raise _fail(_("多边形的环未闭合：首尾坐标点必须相同。"), "geometry_ring_open")


def validate_geometry(geometry: Any) -> BaseGeometry:
    """Checks a GeoJSON Polygon/MultiPolygon (dict or JSON text) and returns it as a shapely geometry.

    Raises a ValidationError with a Chinese message (no field name: the caller knows the field).
    """
    if isinstance(geometry, str):
        try:
            geometry = json.loads(geometry)
        except (ValueError, RecursionError) as exc:  # (RecursionError: nested past the parser)
            raise _fail(_("边界不是有效的 JSON。"), "geometry_json") from exc
    if not isinstance(geometry, dict):
        raise _fail(_("边界应为 GeoJSON 对象。"), "geometry_type")
    kind = geometry.get("type")
    if kind not in POLYGON_TYPES:
        raise _fail(
            _("边界类型应为 Polygon 或 MultiPolygon，当前为 %(kind)s。") % {"kind": kind or _("空")},
            "geometry_type",
        )
    coordinates = geometry.get("coordinates")
    if kind == "Polygon":
        _check_polygon_rings(coordinates)
    else:
        if not isinstance(coordinates, list) or not coordinates:
            raise _fail(_("MultiPolygon 至少需要一个多边形。"), "geometry_rings")
        for polygon in coordinates:
            _check_polygon_rings(polygon)
    try:
        geom = shape(geometry)
    except (ValueError, TypeError, AttributeError, shapely.errors.GEOSException) as exc:
        raise _fail(_("边界坐标无法构成多边形。"), "geometry_invalid") from exc
    if not geom.is_valid:
        raise _fail(
            _("边界图形无效（如自相交、环重叠）：%(reason)s") % {"reason": explain_validity(geom)},
            "geometry_invalid",
        )
    if geom.area <= 0:
        raise _fail(_("边界面积为零。"), "geometry_empty")
    return geom


def geometry_bbox(geom: BaseGeometry) -> tuple[float, float, float, float]:
    """(min_lon, min_lat, max_lon, max_lat)."""
    min_lon, min_lat, max_lon, max_lat = geom.bounds
    return float(min_lon), float(min_lat), float(max_lon), float(max_lat)


# --- the index --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class GridRef:
    """What the index knows about a grid without touching the database."""

    id: int
    code: str
    name: str


class GridIndex:
    """An immutable STRtree over grid polygons. Build it from (GridRef, geometry) pairs."""

    def __init__(self, items: Iterable[tuple[GridRef, BaseGeometry | dict]], stamp: Any = None):
        refs: list[GridRef] = []
        geoms: list[BaseGeometry] = []
        for ref, geom in items:
            if isinstance(geom, dict):
                geom = shape(geom)
            refs.append(ref)
            geoms.append(geom)
        # Sort by code so a point on an edge shared by two grids always resolves to the same grid.
        order = sorted(range(len(refs)), key=lambda i: refs[i].code)
        self.refs = [refs[i] for i in order]
        self.geoms = [geoms[i] for i in order]
        for geom in self.geoms:
            shapely.prepare(geom)
        self.tree = shapely.STRtree(self.geoms) if self.geoms else None
        self.stamp = stamp

    def __len__(self) -> int:
        return len(self.refs)

    def lookup(self, lon: float, lat: float) -> GridRef | None:
        """The grid covering the point (edges count); the lowest code wins on a shared edge."""
        if self.tree is None:
            return None
        hits = self.tree.query(Point(lon, lat), predicate="covered_by")
        if len(hits) == 0:
            return None
        return self.refs[int(hits.min())]

    def lookup_many(self, coords: Iterable[tuple[float, float]]) -> list[GridRef | None]:
        """Vectorised lookup for bulk work (imports, re-gridding incidents): one tree query for all points."""
        import numpy as np

        coords = np.asarray(list(coords), dtype=float).reshape(-1, 2)
        result: list[GridRef | None] = [None] * len(coords)
        if self.tree is None or not len(coords):
            return result
        point_idx, tree_idx = self.tree.query(shapely.points(coords), predicate="covered_by")
        best: dict[int, int] = {}
        for p, t in zip(point_idx.tolist(), tree_idx.tolist(), strict=True):
            if p not in best or t < best[p]:
                best[p] = t
        for p, t in best.items():
            result[p] = self.refs[t]
        return result


_lock = threading.Lock()
_index: GridIndex | None = None
_checked_at = 0.0
_force_check = False


def grid_index_stamp() -> tuple[int, str]:
    """Cheap version of the grid table: one aggregate query over the (level, code)-indexed grid rows."""
    from django.db.models import Count, Max

    from .models import Division

    row = Division.objects.filter(level=Division.Level.GRID).aggregate(
        n=Count("id"), latest=Max("updated_at")
    )
    return row["n"], row["latest"].isoformat() if row["latest"] else ""


def grid_index_build() -> GridIndex:
    """Loads every active grid with a geometry and builds a fresh index."""
    from .models import Division

    stamp = grid_index_stamp()
    rows = (
        Division.objects.filter(level=Division.Level.GRID, is_active=True, geometry__isnull=False)
        .values_list("id", "code", "name", "geometry")
        .iterator(chunk_size=2000)
    )
    return GridIndex(((GridRef(pk, code, name), geom) for pk, code, name, geom in rows), stamp=stamp)


def grid_index_invalidate() -> None:
    """Makes the next lookup in this process re-check the stamp (called by the division services)."""
    global _force_check
    _force_check = True


def grid_index() -> GridIndex:
    """The process-wide index, rebuilt when the grid table's stamp has changed."""
    global _index, _checked_at, _force_check
    now = time.monotonic()
    if _index is not None and not _force_check and now - _checked_at < STAMP_CHECK_SECONDS:
        return _index
    with _lock:
        if _index is None:
            _index = grid_index_build()
        elif _force_check or now - _checked_at >= STAMP_CHECK_SECONDS:
            if grid_index_stamp() != _index.stamp:
                _index = grid_index_build()
        _checked_at, _force_check = now, False
        return _index


def grid_index_reset() -> None:
    """Drops the cached index (tests)."""
    global _index, _checked_at, _force_check
    with _lock:
        _index, _checked_at, _force_check = None, 0.0, False


def grid_ref_for_point(lon: float, lat: float) -> GridRef | None:
    """Point-in-grid without a database query once the index is warm."""
    return grid_index().lookup(lon, lat)


def grid_for_point(lon: float, lat: float):
    """The active grid Division containing (lon, lat), or None."""
    from .models import Division

    ref = grid_ref_for_point(lon, lat)
    if ref is None:
        return None
    return Division.objects.select_related("parent").filter(pk=ref.id, is_active=True).first()
