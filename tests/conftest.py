"""Test setup: a throw-away keystore per test process, Huey in immediate (in-memory) mode."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest

PASSWORD = "Test-Passw0rd-2026"


def pytest_collection_modifyitems(config, items):
    """The clock runs (yiwang.testrun) run one third of the test files at each whole-suite instant."""
    import os
    import zlib

    third = os.environ.get("YIWANG_CLOCK_THIRD")
    if third is None or not third.isdigit():
        return
    keep, drop = [], []
    for item in items:
        path = item.nodeid.split("::", 1)[0]
        (keep if zlib.crc32(path.encode()) % 3 == int(third) else drop).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


def pytest_configure(config):
    from django.conf import settings

    tmp = Path(tempfile.mkdtemp(prefix="yiwang-test-keys-"))
    settings.YIWANG_KEYSTORE = tmp / "keystore.json"
    from yiwang.core.keystore import keystore_init

    keystore_init(settings.YIWANG_KEYSTORE)

    from huey.contrib.djhuey import HUEY

    HUEY.immediate = True

    # Rate-limit counts live in this process (tests that exercise Redis storage build their own limiter).
    settings.YIWANG_RATE_LIMIT_STORAGE = "memory://"

    # argon2 with its cheapest parameters (no ~0.4 s per account or login), and WhiteNoise's scan of the static
    # files once per process instead of once per test Client: tests/speedups.py explains both.
    from tests.speedups import fast_password_hashers, whitenoise_scan_once

    settings.PASSWORD_HASHERS = fast_password_hashers(settings.PASSWORD_HASHERS)
    whitenoise_scan_once()


@pytest.fixture
def password() -> str:
    return PASSWORD


@pytest.fixture(autouse=True)
def _fresh_working_calendar():
    """The calendar cache is cleared on commit; test transactions never commit, so clear it around each test."""
    from yiwang.core.workdays import working_calendar_invalidate

    working_calendar_invalidate()
    yield
    working_calendar_invalidate()


@pytest.fixture(autouse=True)
def _default_language():
    """Every test starts in the platform's language: a request with `Accept-Language: en` leaves English active
    in the thread (LocaleMiddleware activates it and nothing deactivates it), and a later test in the same worker
    would otherwise read a service's messages in English."""
    from django.conf import settings
    from django.utils import translation

    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.activate(settings.LANGUAGE_CODE)


def _forget_process_memos() -> None:
    from yiwang.cases.selectors import case_selector_memos_reset
    from yiwang.collab.middleware import activity_memo_reset
    from yiwang.core.geo import grid_index_invalidate
    from yiwang.core.memo import process_memos_reset
    from yiwang.core.numbering import numbering_connections_close
    from yiwang.core.principal_cache import principal_cache_reset
    from yiwang.core.ratelimit import rate_limits_reset
    from yiwang.incidents.services.classify import classifier_reset
    from yiwang.incidents.services.routing import routing_invalidate

    routing_invalidate()
    classifier_reset()
    grid_index_invalidate()
    rate_limits_reset()
    principal_cache_reset()  # who a token acts as, remembered per process (SQLite reuses account ids)
    process_memos_reset()  # departments' units and subtrees (core.memo)
    case_selector_memos_reset()  # department chains, the catalogue stamp, inbox scopes (SQLite reuses ids)
    activity_memo_reset()  # who was already counted active today (SQLite reuses staff ids)
    numbering_connections_close()  # case/incident numbers' own connection: lets the test database be dropped


@pytest.fixture(autouse=True)
def _fresh_process_memos():
    """Responsibility rules, grid ancestry, the grid index and the trained classifier are kept per process for a
    few seconds; test databases roll back (and SQLite reuses ids), so forget them around each test."""
    _forget_process_memos()
    yield
    _forget_process_memos()


# --- shared by the case-handling test packages (cases, bundles, instant, pledge, proactive, reviews) ---------
class Clock:
    """A settable clock patched over django.utils.timezone.now (and so localdate(), auto_now, services)."""

    def __init__(self, moment):
        self.moment = moment

    def __call__(self):
        return self.moment

    def set(self, year: int, month: int, day: int, hour: int = 10, minute: int = 0) -> None:
        from tests.cases.factories import at

        self.moment = at(year, month, day, hour).replace(minute=minute)


@pytest.fixture
def clock(monkeypatch) -> Clock:
    from django.utils import timezone

    from tests.cases.factories import at

    c = Clock(at(2026, 3, 2))  # Monday 2 March 2026, a plain working week
    monkeypatch.setattr(timezone, "now", c)
    return c


@pytest.fixture
def media_and_fast_passwords(settings, tmp_path):
    """A temporary media root, and MD5 password hashing: test worlds make dozens of accounts and argon2 would
    dominate their run time. Packages opt in with an autouse fixture of their own."""
    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
