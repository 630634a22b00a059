"""Demo content of issue 4 (pledge)."""

from __future__ import annotations


def demo_load_pledge_flags() -> int:
    """Idempotent; returns how many rows it created."""
    return 0
