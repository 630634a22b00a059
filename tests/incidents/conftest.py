"""Fixtures of the incident tests: temporary media root, fast password hashing, the incident world."""

from __future__ import annotations

import pytest

from .factories import IncidentWorld, build_incident_world


@pytest.fixture(autouse=True)
def _media_and_fast_passwords(media_and_fast_passwords):
    """Every test of this package: temporary media root, fast password hashing (tests/conftest.py)."""


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Cached settings rows and division names must not outlive the test database rows they describe."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def iworld(db) -> IncidentWorld:
    return build_incident_world()
