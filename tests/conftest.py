"""Test setup: a throw-away keystore per test process, Huey in immediate (in-memory) mode."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest

PASSWORD = "Test-Passw0rd-2026"


def pytest_configure(config):
    from django.conf import settings

    tmp = Path(tempfile.mkdtemp(prefix="yiwang-test-keys-"))
    settings.YIWANG_KEYSTORE = tmp / "keystore.json"
    from yiwang.core.keystore import keystore_init

    keystore_init(settings.YIWANG_KEYSTORE)

    from huey.contrib.djhuey import HUEY

    HUEY.immediate = True


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
