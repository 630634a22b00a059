"""Fixtures of the case tests: a frozen clock, a temporary media root, the test world."""

from __future__ import annotations

from datetime import datetime

import pytest

from .factories import World, at, build_world


class Clock:
    """A settable clock patched over django.utils.timezone.now (and so localdate(), auto_now, services)."""

    def __init__(self, moment: datetime):
        self.moment = moment

    def __call__(self) -> datetime:
        return self.moment

    def set(self, year: int, month: int, day: int, hour: int = 10) -> None:
        self.moment = at(year, month, day, hour)


@pytest.fixture
def clock(monkeypatch) -> Clock:
    from django.utils import timezone

    c = Clock(at(2026, 3, 2))  # Monday 2 March 2026, a plain working week
    monkeypatch.setattr(timezone, "now", c)
    return c


@pytest.fixture(autouse=True)
def _media_and_fast_passwords(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    # The world makes a dozen accounts; argon2 would dominate the run time of these tests.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def world(db, clock) -> World:
    return build_world()
