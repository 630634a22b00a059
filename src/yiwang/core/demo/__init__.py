"""The demo district 云岭区 (440199): a fictional district with real-looking, checksum-valid data.

`demo_load(scale=...)` writes it idempotently; `DEMO_LOGINS` / `demo_logins_table()` describe the accounts a
newcomer logs in with (DEMO ONLY: the password and TOTP secrets are public).
"""

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
