"""Demo content of issue 5: seals, licence types, licences of the demo logins."""

from __future__ import annotations


def demo_load_licences() -> int:
    """Idempotent; returns how many rows it created."""
    return 0
