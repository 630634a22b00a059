"""Point-in-grid lookup speed with thousands of grids (in memory, no database).

Builds N synthetic grids as a jittered lattice — real, non-overlapping quadrilaterals sharing their edges, like
the demo district's — then times building the STRtree index and answering M point lookups through
`yiwang.core.geo.GridIndex` (the same class `grid_for_point()` uses). For scale, a linear scan over the same
polygons is timed on a small sample. The last line printed is one JSON object.

    .venv/bin/python bench/grid_lookup.py [--grids 3000] [--lookups 100000] [--seed 7]
"""

from __future__ import annotations

import argparse
import json
import math
import platform
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

import shapely  # noqa: E402
from shapely.geometry import Point, Polygon  # noqa: E402

from yiwang.core.geo import GridIndex, GridRef  # noqa: E402

CELL = 0.004  # degrees, about 400 m: a typical urban grid (网格) edge


def lattice(n: int, rng: random.Random, origin=(113.20, 23.05)) -> list[tuple[GridRef, Polygon]]:
    """n cells on a cols × rows lattice whose shared vertices are jittered (so neighbours still tile exactly)."""
    cols = math.ceil(math.sqrt(n * 1.25))
    rows = math.ceil(n / cols)
    lon0, lat0 = origin
    jitter = CELL * 0.3
    vertex = [
        [
            (lon0 + i * CELL + rng.uniform(-jitter, jitter), lat0 + j * CELL + rng.uniform(-jitter, jitter))
            for j in range(rows + 1)
        ]
        for i in range(cols + 1)
    ]
    cells = []
    for k in range(n):
        i, j = k % cols, k // cols
        ring = [vertex[i][j], vertex[i + 1][j], vertex[i + 1][j + 1], vertex[i][j + 1], vertex[i][j]]
        poly = Polygon(ring)
        assert poly.is_valid
        cells.append((GridRef(k + 1, f"440199{k // 500:03d}{k // 50 % 10:03d}{k:03d}", f"网格{k}"), poly))
    return cells


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--grids", type=int, default=3000)
    parser.add_argument("--lookups", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    rng = random.Random(args.seed)

    cells = lattice(args.grids, rng)
    bounds = shapely.total_bounds([geom for _, geom in cells])
    # 90 % of the points fall inside the lattice's bounding box, 10 % well outside it.
    points = []
    for _ in range(args.lookups):
        if rng.random() < 0.9:
            points.append((rng.uniform(bounds[0], bounds[2]), rng.uniform(bounds[1], bounds[3])))
        else:
            points.append((rng.uniform(100, 110), rng.uniform(30, 40)))

    started = time.perf_counter()
    index = GridIndex(cells)
    build_s = time.perf_counter() - started

    hits = 0
    cpu0 = time.process_time()
    batches = []
    batch = 10_000
    for start in range(0, len(points), batch):
        t0 = time.perf_counter()
        for lon, lat in points[start : start + batch]:
            if index.lookup(lon, lat) is not None:
                hits += 1
        batches.append((time.perf_counter() - t0) / len(points[start : start + batch]))
    cpu_s = time.process_time() - cpu0
    total_s = sum(b * batch for b in batches[:-1]) + batches[-1] * (len(points) - batch * (len(batches) - 1))

    t0 = time.perf_counter()
    bulk = index.lookup_many(points)
    bulk_s = time.perf_counter() - t0
    assert sum(1 for r in bulk if r is not None) == hits

    # Correctness spot check against a brute-force scan, and the scan's own speed for comparison.
    sample = points[:500]
    by_code = sorted(cells, key=lambda c: c[0].code)
    t0 = time.perf_counter()
    for lon, lat in sample:
        point = Point(lon, lat)
        brute = next((ref for ref, geom in by_code if geom.covers(point)), None)
        fast = index.lookup(lon, lat)
        assert (brute and brute.code) == (fast and fast.code), (lon, lat, brute, fast)
    linear_per_lookup = (time.perf_counter() - t0) / len(sample)

    per_lookup = total_s / len(points)
    result = {
        "benchmark": "grid_lookup",
        "grids": args.grids,
        "lookups": len(points),
        "hit_ratio": round(hits / len(points), 4),
        "build_ms": round(build_s * 1000, 2),
        "lookup_total_s": round(total_s, 3),
        "lookups_per_s": round(len(points) / total_s),
        "lookup_us_mean": round(per_lookup * 1e6, 2),
        "lookup_us_batch_p50": round(statistics.median(batches) * 1e6, 2),
        "lookup_cpu_us_mean": round(cpu_s / len(points) * 1e6, 2),
        "bulk_lookups_per_s": round(len(points) / bulk_s),
        "linear_scan_us": round(linear_per_lookup * 1e6, 1),
        "speedup_vs_linear_scan": round(linear_per_lookup / per_lookup, 1),
        "shapely": shapely.__version__,
        "geos": shapely.geos_version_string,
        "python": platform.python_version(),
    }
    print(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    main()
