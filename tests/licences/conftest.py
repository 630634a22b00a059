"""Fixtures of the licence tests: temporary media root, fast password hashing."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _media_and_fast_passwords(media_and_fast_passwords):
    """Every test of this package: temporary media root, fast password hashing (tests/conftest.py)."""
