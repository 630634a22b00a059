"""Demo content of issue 4 (instant)."""

from __future__ import annotations


def demo_load_instant_rules() -> int:
    """Idempotent; returns how many rows it created."""
    return 0
