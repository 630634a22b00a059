"""The platform's own deployment checks, beside Django's (`yiwang check --deploy` runs both).

`yiwang serve` refuses to start in production (YIWANG_ENV=production) while any of these is an error, so an
instance never goes live with the demo's secret key or, over HTTPS, without secure cookies and HSTS.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from django.conf import settings
from django.core import checks

PRODUCTION = "production"
RELAXED_ENVIRONMENTS = {"demo", "development"}
MIN_SECRET_KEY_LENGTH = 50


def is_production() -> bool:
    return getattr(settings, "YIWANG_ENV", "demo") not in RELAXED_ENVIRONMENTS


def _keystore_readable_by_others(path: Path) -> bool:
    try:
        return bool(os.stat(path).st_mode & (stat.S_IRWXG | stat.S_IRWXO))
    except OSError:
        return False


def deployment_problems() -> list[checks.CheckMessage]:
    """What stands between this configuration and production, most serious first."""
    found: list[checks.CheckMessage] = []
    env = getattr(settings, "YIWANG_ENV", "demo")
    if env not in RELAXED_ENVIRONMENTS | {PRODUCTION}:
        found.append(
            checks.Error(f"YIWANG_ENV={env!r} is not one of demo, development, production.", id="yiwang.E001")
        )
    key = settings.SECRET_KEY
    if key == getattr(settings, "BUILTIN_SECRET_KEY", None) or len(key) < MIN_SECRET_KEY_LENGTH:
        found.append(
            checks.Error(
                "The built-in or a short SECRET_KEY is in use.",
                hint=f"Set YIWANG_SECRET_KEY to {MIN_SECRET_KEY_LENGTH}+ random characters "
                "(python -c 'import secrets; print(secrets.token_urlsafe(64))').",
                id="yiwang.E002",
            )
        )
    if settings.DEBUG:
        found.append(checks.Error("YIWANG_DEBUG is on.", hint="Unset YIWANG_DEBUG.", id="yiwang.E003"))
    if getattr(settings, "YIWANG_HTTPS", False):
        if not (settings.SESSION_COOKIE_SECURE and settings.CSRF_COOKIE_SECURE):
            found.append(
                checks.Error(
                    "Served over HTTPS without secure session and CSRF cookies.",
                    hint="Do not set YIWANG_SECURE_COOKIES=0 with YIWANG_HTTPS=1.",
                    id="yiwang.E004",
                )
            )
        if getattr(settings, "SECURE_HSTS_SECONDS", 0) < 31536000:
            found.append(
                checks.Error(
                    "Served over HTTPS without HSTS for at least a year.",
                    hint="Leave YIWANG_HSTS_SECONDS at its default (one year).",
                    id="yiwang.E005",
                )
            )
    else:
        found.append(
            checks.Error(
                "Not served over HTTPS.",
                hint="Serve behind TLS and set YIWANG_HTTPS=1 (and YIWANG_BEHIND_TLS_PROXY=1 behind a proxy).",
                id="yiwang.E006",
            )
        )
    if "testserver" in settings.ALLOWED_HOSTS or "*" in settings.ALLOWED_HOSTS:
        found.append(
            checks.Error(
                "ALLOWED_HOSTS holds the test or wildcard host.",
                hint="Set YIWANG_ALLOWED_HOSTS to the public host names only.",
                id="yiwang.E007",
            )
        )
    if _keystore_readable_by_others(Path(settings.YIWANG_KEYSTORE)):
        found.append(
            checks.Error(
                "The keystore file is readable by group or others.",
                hint=f"chmod 600 {settings.YIWANG_KEYSTORE}",
                id="yiwang.E008",
            )
        )
    if not settings.REDIS_URL:
        found.append(
            checks.Warning(
                "No Redis: background jobs, cache and rate limits stay inside one machine.",
                hint="Set YIWANG_REDIS_URL when more than one web node or consumer runs.",
                id="yiwang.W001",
            )
        )
    return found


@checks.register(checks.Tags.security, deploy=True)
def check_deployment(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    return deployment_problems()
