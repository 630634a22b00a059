"""Duplicate detection. STUB until the de-duplication work lands: the contract below is what intake calls."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from ..models import Incident, IncidentCategory


@dataclass(frozen=True)
class DuplicateCandidate:
    incident: Incident
    score: float  # 0..1 similarity (distance, time and text combined)
    distance_m: float | None


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
    return []
