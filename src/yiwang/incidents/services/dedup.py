"""Duplicate detection: is a new report the same matter as an open incident?

Candidates are open incidents (待分拨, 处置中, 待核查) of the same category created within
`IncidentSettings.dedup_hours` before the report and

- with a point: within `dedup_radius_m` of it — the query filters category + state + a latitude band (the
  `incident_dedup_idx` index), then a longitude band, and the exact haversine distance is checked in Python;
- without a point: located in the same grid.

Score (0..1) = 0.4 × place + 0.2 × time + 0.4 × text, where
- place = 1 − distance / radius with a point; a fixed 0.3 when only the grid matches (so a report without
  coordinates is at most suggested, never merged automatically, under the default thresholds);
- time = 1 − age / window;
- text = Jaccard similarity of the two texts' jieba word sets (stop words dropped).

The intake pipeline merges the report into the best candidate at or above `dedup_attach_score` and suggests the
others at or above `dedup_suggest_score`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from ..models import Incident, IncidentCategory
from .classify import text_tokens
from .common import incident_settings

PLACE_WEIGHT, TIME_WEIGHT, TEXT_WEIGHT = 0.4, 0.2, 0.4
GRID_ONLY_PLACE = 0.3
CANDIDATES_MAX = 200  # newest open incidents looked at
RESULTS_MAX = 10
CANDIDATE_FIELDS = ("id", "public_id", "number", "title", "description", "lon", "lat", "state", "created_at")
EARTH_RADIUS_M = 6_371_008.8
METRES_PER_DEGREE = 111_320.0


@dataclass(frozen=True)
class DuplicateCandidate:
    incident: Incident
    score: float  # 0..1 similarity (distance, time and text combined)
    distance_m: float | None


def haversine_m(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Great-circle distance in metres."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))


def text_similarity(a: str | set, b: str | set) -> float:
    """Jaccard similarity of two texts' word sets (0 when either has no words)."""
    left = a if isinstance(a, set) else set(text_tokens(a))
    right = b if isinstance(b, set) else set(text_tokens(b))
    if not left or not right:
        return 0.0
    return len(left & right) / len(left | right)


def duplicate_score(*, distance_m: float | None, radius_m: float, age_s: float, window_s: float, text: float):
    place = GRID_ONLY_PLACE if distance_m is None else max(0.0, 1.0 - distance_m / max(radius_m, 1.0))
    recency = max(0.0, 1.0 - age_s / max(window_s, 1.0))
    return PLACE_WEIGHT * place + TIME_WEIGHT * recency + TEXT_WEIGHT * text


def duplicates_find(
    *,
    category: IncidentCategory,
    lon: float | None,
    lat: float | None,
    text: str,
    at: datetime,
    grid_id: int | None = None,
) -> list[DuplicateCandidate]:
    """Open incidents of the same category within the configured radius and time window, best first."""
    if category is None:
        return []
    settings_row = incident_settings()
    radius = float(settings_row.dedup_radius_m)
    window = timedelta(hours=settings_row.dedup_hours)
    rows = Incident.objects.filter(
        category=category, state__in=Incident.OPEN_STATES, created_at__gte=at - window, created_at__lte=at
    )
    has_point = lon is not None and lat is not None
    if has_point:
        dlat = radius / METRES_PER_DEGREE
        dlon = radius / (METRES_PER_DEGREE * max(math.cos(math.radians(lat)), 0.01))
        rows = rows.filter(lat__gte=lat - dlat, lat__lte=lat + dlat).filter(
            lon__gte=lon - dlon, lon__lte=lon + dlon
        )
    elif grid_id is not None:
        rows = rows.filter(grid_id=grid_id)
    else:
        return []
    # What the score, the merge and the callers' answers read (number, link, title, state): the rows are the
    # incident's widest table, and most columns would be built into every candidate for nothing.
    rows = rows.only(*CANDIDATE_FIELDS).order_by("-id")[:CANDIDATES_MAX]
    words = set(text_tokens(text))
    window_s = window.total_seconds()
    found = []
    for incident in rows:
        distance = None
        if has_point:
            if incident.lon is None or incident.lat is None:
                continue
            distance = haversine_m(lon, lat, incident.lon, incident.lat)
            if distance > radius:
                continue
        similarity = text_similarity(words, f"{incident.title} {incident.description}")
        score = duplicate_score(
            distance_m=distance,
            radius_m=radius,
            age_s=max((at - incident.created_at).total_seconds(), 0.0),
            window_s=window_s,
            text=similarity,
        )
        found.append(DuplicateCandidate(incident, round(score, 4), distance))
    found.sort(key=lambda c: (-c.score, -c.incident.pk))
    return found[:RESULTS_MAX]
