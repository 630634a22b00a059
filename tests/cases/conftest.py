"""Fixtures of the case tests: a frozen clock, a temporary media root, the test world."""

from __future__ import annotations

import pytest

from .factories import World, build_world


@pytest.fixture(autouse=True)
def _media_and_fast_passwords(media_and_fast_passwords):
    """Every test of this package: temporary media root, fast password hashing (tests/conftest.py)."""


@pytest.fixture
def world(db, clock) -> World:
    return build_world()
