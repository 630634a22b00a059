"""The demo district's geography: a deterministic, gap-free, overlap-free tiling.

A jittered lattice of shared vertices covers the bounding box; each kept lattice cell is one grid (网格), so
neighbouring grids share their edge vertex for vertex. Cells are kept inside an irregular blob (the district
outline), clustered into towns and, inside each town, into villages; village, town and district outlines are
shapely unions of their grids. Everything is drawn from one seeded `random.Random`, so the same arguments
always give the same polygons to the last digit.
"""

from __future__ import annotations

import bisect
import itertools
import math
import random
from dataclasses import dataclass

from shapely import unary_union
from shapely.geometry import MultiPolygon, Polygon, mapping
from shapely.geometry.polygon import orient

from .names import (
    DISTRICT_BBOX,
    DISTRICT_CODE,
    DISTRICT_NAME,
    STREET_COUNT,
    TOWNS,
    VILLAGE_FIRST,
    VILLAGE_SECOND,
)

DISTRICT, TOWN, VILLAGE, GRID = 1, 2, 3, 4  # Division.Level values

# Share of lattice cells kept inside the outline; the lattice is sized so that `grids` cells fit.
_KEEP_FRACTION = 0.72
# Corner jitter and edge-midpoint jitter as fractions of a cell. With corners moving at most 0.22 of a
# cell and midpoints 0.1 across their edge, opposite edges of a cell can never cross, so every cell is
# a simple (valid) octagon.
_CORNER_JITTER = 0.22
_MIDPOINT_JITTER = 0.10
_DIGITS = 6  # ~0.1 m; rounding happens once per shared vertex, so neighbours stay identical


@dataclass(frozen=True)
class Area:
    code: str
    name: str
    level: int
    parent_code: str | None
    geometry: dict
    bbox: tuple[float, float, float, float]  # min_lon, min_lat, max_lon, max_lat


@dataclass
class _Cell:
    col: int
    row: int
    x_km: float
    y_km: float
    polygon: Polygon


def build_areas(*, grids: int, villages: int, seed: int = 2026) -> list[Area]:
    """District, towns, villages and grids (parents before children), tiling DISTRICT_BBOX."""
    rng = random.Random(f"yiwang-demo-geometry:{seed}")
    towns_wanted = len(TOWNS)
    villages = max(villages, towns_wanted)
    grids = max(grids, villages)
    cells = _kept_cells(grids, rng)

    town_labels = _cluster([(c.x_km, c.y_km) for c in cells], towns_wanted, rng)
    town_members = [
        [c for c, label in zip(cells, town_labels, strict=True) if label == t] for t in range(towns_wanted)
    ]
    centre = _centroid(cells)
    # The towns nearest the middle are the urban 街道, the outer ones 镇.
    town_members.sort(key=lambda members: _dist2(_centroid(members), centre))
    village_counts = _apportion(villages, [len(m) for m in town_members])
    village_names = _village_names(villages, rng)

    areas: list[Area] = []
    district_parts: list = []
    for t, members in enumerate(town_members):
        town_name, _short = TOWNS[t]
        town_code = f"{DISTRICT_CODE}{t + 1:03d}"
        is_street = t < STREET_COUNT
        labels = _cluster([(c.x_km, c.y_km) for c in members], village_counts[t], rng)
        groups = [
            [c for c, label in zip(members, labels, strict=True) if label == v]
            for v in range(village_counts[t])
        ]
        town_centre = _centroid(members)
        groups.sort(key=lambda group: _dist2(_centroid(group), town_centre))
        # In a 镇 the seat and its neighbours are 社区 (codes 001…), the rest 村 (codes 201…), as in the
        # statistical division codes; a 街道 has only 社区.
        communities = len(groups) if is_street else max(1, round(len(groups) / 4))
        town_parts = []
        for v, group in enumerate(groups):
            is_community = v < communities
            suffix = f"{v + 1:03d}" if is_community else f"{201 + v - communities:03d}"
            village_code = f"{town_code}{suffix}"
            village_name = village_names.pop(0) + ("社区" if is_community else "村")
            group.sort(key=lambda c: (-c.row, c.col))  # north to south, west to east: 第1网格 is top left
            for g, cell in enumerate(group):
                areas.append(
                    _area(f"{village_code}{g + 1:03d}", f"第{g + 1}网格", GRID, village_code, cell.polygon)
                )
            village_shape = unary_union([cell.polygon for cell in group])
            areas.append(_area(village_code, village_name, VILLAGE, town_code, village_shape))
            town_parts.append(village_shape)
        town_shape = unary_union(town_parts)
        areas.append(_area(town_code, town_name, TOWN, DISTRICT_CODE, town_shape))
        district_parts.append(town_shape)
    areas.append(_area(DISTRICT_CODE, DISTRICT_NAME, DISTRICT, None, unary_union(district_parts)))
    areas.sort(key=lambda a: (a.level, a.code))
    return areas


def _kept_cells(wanted: int, rng: random.Random) -> list[_Cell]:
    lon0, lat0, lon1, lat1 = DISTRICT_BBOX
    km_per_lon = 111.32 * math.cos(math.radians((lat0 + lat1) / 2))
    km_per_lat = 110.57
    width_km, height_km = (lon1 - lon0) * km_per_lon, (lat1 - lat0) * km_per_lat
    total = wanted / _KEEP_FRACTION
    cols = max(3, round(math.sqrt(total * width_km / height_km)))
    rows = max(3, math.ceil(total / cols))
    dlon, dlat = (lon1 - lon0) / cols, (lat1 - lat0) / rows

    def jitter(scale: float) -> float:
        return rng.uniform(-scale, scale)

    corner = [
        [
            (lon0 + (i + jitter(_CORNER_JITTER)) * dlon, lat0 + (j + jitter(_CORNER_JITTER)) * dlat)
            for j in range(rows + 1)
        ]
        for i in range(cols + 1)
    ]
    corner = [[_round(p) for p in column] for column in corner]
    # Midpoints of horizontal edges move north/south, of vertical edges east/west; each is shared by the
    # two cells on either side of its edge.
    h_mid = [
        [
            _round(_mid(corner[i][j], corner[i + 1][j], 0.0, jitter(_MIDPOINT_JITTER) * dlat))
            for j in range(rows + 1)
        ]
        for i in range(cols)
    ]
    v_mid = [
        [
            _round(_mid(corner[i][j], corner[i][j + 1], jitter(_MIDPOINT_JITTER) * dlon, 0.0))
            for j in range(rows)
        ]
        for i in range(cols + 1)
    ]

    # An irregular outline: rank cells by their distance from the centre, stretched by a few random
    # low harmonics of the angle, and keep exactly `wanted` of them (a star-shaped, connected blob).
    phases = [rng.uniform(0, 2 * math.pi) for _ in range(3)]

    def score(i: int, j: int) -> float:
        u = ((i + 0.5) / cols - 0.5) * 2
        v = ((j + 0.5) / rows - 0.5) * 2
        angle = math.atan2(v, u)
        bulge = 1 + 0.12 * math.sin(2 * angle + phases[0]) + 0.08 * math.sin(3 * angle + phases[1])
        bulge += 0.05 * math.sin(5 * angle + phases[2])
        return math.hypot(u, v) / bulge

    ranked = sorted((score(i, j), i, j) for i in range(cols) for j in range(rows))[:wanted]
    cells = []
    for _score, i, j in sorted(ranked, key=lambda t: (t[1], t[2])):
        ring = [
            corner[i][j],
            h_mid[i][j],
            corner[i + 1][j],
            v_mid[i + 1][j],
            corner[i + 1][j + 1],
            h_mid[i][j + 1],
            corner[i][j + 1],
            v_mid[i][j],
        ]
        x_km = (i + 0.5) * dlon * km_per_lon
        y_km = (j + 0.5) * dlat * km_per_lat
        cells.append(_Cell(i, j, x_km, y_km, orient(Polygon(ring), 1.0)))
    return cells


def _cluster(
    points: list[tuple[float, float]], k: int, rng: random.Random, iterations: int = 12
) -> list[int]:
    """k-means (k-means++ seeding, Lloyd steps) that never leaves a cluster empty."""
    k = max(1, min(k, len(points)))
    centres = [points[rng.randrange(len(points))]]
    nearest = [_dist2(p, centres[0]) for p in points]
    while len(centres) < k:
        # k-means++: the next centre is drawn with probability proportional to its squared distance.
        cumulative = list(itertools.accumulate(nearest))
        index = min(bisect.bisect_left(cumulative, rng.uniform(0, cumulative[-1])), len(points) - 1)
        centres.append(points[index])
        nearest = [min(d, _dist2(p, points[index])) for d, p in zip(nearest, points, strict=True)]
    labels = [0] * len(points)
    for _ in range(iterations):
        labels = [min(range(k), key=lambda c, p=p: _dist2(p, centres[c])) for p in points]
        for c in range(k):
            members = [p for p, label in zip(points, labels, strict=True) if label == c]
            if members:
                centres[c] = (
                    sum(p[0] for p in members) / len(members),
                    sum(p[1] for p in members) / len(members),
                )
    # A cluster that lost all its points takes the point nearest its centre from a cluster that can spare one.
    for c in range(k):
        if c in labels:
            continue
        sizes = {label: labels.count(label) for label in set(labels)}
        candidates = [n for n, label in enumerate(labels) if sizes[label] > 1]
        chosen = min(candidates, key=lambda n: _dist2(points[n], centres[c]))
        labels[chosen] = c
    return labels


def _apportion(total: int, weights: list[int]) -> list[int]:
    """Splits `total` in proportion to `weights` (largest remainder), at least 1 and at most the weight each."""
    raw = [total * w / sum(weights) for w in weights]
    counts = [min(w, max(1, math.floor(r))) for r, w in zip(raw, weights, strict=True)]
    order = sorted(range(len(weights)), key=lambda n: raw[n] - math.floor(raw[n]), reverse=True)
    n = 0
    while sum(counts) < total and any(c < w for c, w in zip(counts, weights, strict=True)):
        index = order[n % len(order)]
        if counts[index] < weights[index]:
            counts[index] += 1
        n += 1
    return counts


def _village_names(count: int, rng: random.Random) -> list[str]:
    pool = [a + b for a in VILLAGE_FIRST for b in VILLAGE_SECOND if a != b]
    rng.shuffle(pool)
    names = pool[:count]
    # Past 900 villages (scale > 20) the pool repeats with a number, still unique.
    lap = 2
    while len(names) < count:
        names.extend(f"{name}{lap}" for name in pool[: count - len(names)])
        lap += 1
    return names


def _area(code: str, name: str, level: int, parent: str | None, shape) -> Area:
    return Area(code, name, level, parent, _geojson(shape), tuple(round(v, _DIGITS) for v in shape.bounds))


def _geojson(shape) -> dict:
    """GeoJSON (RFC 7946: exterior rings counter-clockwise) with plain lists, as the JSON column returns it."""
    if isinstance(shape, MultiPolygon):
        shape = MultiPolygon([orient(part, 1.0) for part in shape.geoms])
    else:
        shape = orient(shape, 1.0)
    return _lists(mapping(shape))


def _lists(value):
    if isinstance(value, dict):
        return {key: _lists(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_lists(item) for item in value]
    if isinstance(value, float):
        return round(value, _DIGITS)
    return value


def _round(point: tuple[float, float]) -> tuple[float, float]:
    """Rounded and clamped into the bounding box (clamping moves a vertex less than its jitter did, so the
    cells stay simple polygons)."""
    lon0, lat0, lon1, lat1 = DISTRICT_BBOX
    return (round(min(max(point[0], lon0), lon1), _DIGITS), round(min(max(point[1], lat0), lat1), _DIGITS))


def _mid(a: tuple[float, float], b: tuple[float, float], dx: float, dy: float) -> tuple[float, float]:
    return ((a[0] + b[0]) / 2 + dx, (a[1] + b[1]) / 2 + dy)


def _centroid(cells) -> tuple[float, float]:
    return (sum(c.x_km for c in cells) / len(cells), sum(c.y_km for c in cells) / len(cells))


def _dist2(a: tuple[float, float], b: tuple[float, float]) -> float:
    return (a[0] - b[0]) ** 2 + (a[1] - b[1]) ** 2
