"""Category suggestions for report text (jieba tokens → linear model). STUB until the classification work lands:
the contract below is what the intake pipeline calls."""

from __future__ import annotations

from dataclasses import dataclass

from ..models import IncidentCategory


@dataclass(frozen=True)
class Suggestion:
    category: IncidentCategory
    score: float  # 0..1, the model's probability


def classify_text(text: str, *, top: int = 3) -> list[Suggestion]:
    """The `top` most likely active leaf categories for `text`, best first ([] when no model is trained)."""
    return []
