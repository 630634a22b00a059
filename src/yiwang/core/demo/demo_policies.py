"""Demo content of issue 4 (policies)."""

from __future__ import annotations


def demo_load_policies() -> int:
    """Idempotent; returns how many rows it created."""
    return 0
