"""Demo content of issue 4 (reviews)."""

from __future__ import annotations


def demo_load_reviews() -> int:
    """Idempotent; returns how many rows it created."""
    return 0
