"""The demo district 云岭区 (440199): a fictional district with real-looking, checksum-valid data.

`demo_load(scale=...)` writes it idempotently; `DEMO_LOGINS` / `demo_logins_table()` describe the accounts a
newcomer logs in with (DEMO ONLY: the password and TOTP secrets are public).

Each app keeps its own demo content in `yiwang/<app>/demo.py` (catalog, cases, licences, incidents); this package
keeps the district itself (names, geometry, people, logins), the order of the steps (loader.py) and the command,
and hands each app's demo the district's names it needs (an app never imports this package; the import contracts
in pyproject.toml check it).

This package sits above every app (it imports them all; no app imports it) and is the Django app `yiwang.demo`,
last in INSTALLED_APPS, which owns the `yiwang demo` command. Django imports this package while the app registry
is still loading, so the names below are resolved lazily (PEP 562) instead of importing models here.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from .loader import DemoPlan, demo_load, demo_plan
    from .logins import (
        DEMO_LOGINS,
        DEMO_PASSWORD,
        DEMO_USERNAMES,
        DemoLogin,
        demo_logins_markdown,
        demo_logins_table,
        demo_totp_secret,
    )
    from .names import DISTRICT_CODE, DISTRICT_NAME

_LAZY = {
    "DemoPlan": "loader",
    "demo_load": "loader",
    "demo_plan": "loader",
    "DEMO_LOGINS": "logins",
    "DEMO_PASSWORD": "logins",
    "DEMO_USERNAMES": "logins",
    "DemoLogin": "logins",
    "demo_logins_markdown": "logins",
    "demo_logins_table": "logins",
    "demo_totp_secret": "logins",
    "DISTRICT_CODE": "names",
    "DISTRICT_NAME": "names",
}

__all__ = [
    "DEMO_LOGINS",
    "DEMO_PASSWORD",
    "DEMO_USERNAMES",
    "DISTRICT_CODE",
    "DISTRICT_NAME",
    "DemoLogin",
    "DemoPlan",
    "demo_load",
    "demo_logins_markdown",
    "demo_logins_table",
    "demo_plan",
    "demo_totp_secret",
]
assert set(__all__) == set(_LAZY)


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
