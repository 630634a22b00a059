"""Demo content of issue 4 (bundles)."""

from __future__ import annotations


def demo_load_bundles() -> int:
    """Idempotent; returns how many rows it created."""
    return 0
