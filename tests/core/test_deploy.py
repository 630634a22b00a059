"""Production settings: `yiwang serve` refuses an unsafe production; `yiwang check --deploy` passes on the
documented production configuration (docs/security.md)."""

from __future__ import annotations

import os

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError, SystemCheckError
from django.test import override_settings

from yiwang.core.deploy import deployment_problems

STRONG_KEY = "k" * 20 + "Zq8-Lm3_Vx7pR2sT9wY4bN6cD1fG5hJ0aE"  # 54 characters, varied

# The documented production configuration (docs/security.md, "Production settings"), as settings.
PRODUCTION = {
    "YIWANG_ENV": "production",
    "SECRET_KEY": STRONG_KEY,
    "DEBUG": False,
    "YIWANG_HTTPS": True,
    "SESSION_COOKIE_SECURE": True,
    "CSRF_COOKIE_SECURE": True,
    "SECURE_HSTS_SECONDS": 31536000,
    "SECURE_HSTS_INCLUDE_SUBDOMAINS": True,
    "SECURE_SSL_REDIRECT": True,
    "SECURE_PROXY_SSL_HEADER": ("HTTP_X_FORWARDED_PROTO", "https"),
    "ALLOWED_HOSTS": ["zwfw.example.gov.cn"],
    "REDIS_URL": "redis://127.0.0.1:6379/0",
}


@pytest.fixture
def private_keystore(settings, tmp_path, monkeypatch):
    # The browser journeys set this for Playwright in the same process; a deployment must not have it.
    monkeypatch.delenv("DJANGO_ALLOW_ASYNC_UNSAFE", raising=False)
    path = tmp_path / "keystore.json"
    path.write_text(open(settings.YIWANG_KEYSTORE).read())
    os.chmod(path, 0o600)
    return path


def ids(problems) -> set[str]:
    return {p.id for p in problems}


def test_the_documented_production_configuration_passes_check_deploy(private_keystore):
    with override_settings(**PRODUCTION, YIWANG_KEYSTORE=private_keystore):
        assert deployment_problems() == []
        call_command("check", deploy=True, fail_level="WARNING")


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"SECRET_KEY": "dev-only-insecure-key-change-me-in-production-7f3a9c"}, "yiwang.E002"),
        ({"SECRET_KEY": "short"}, "yiwang.E002"),
        ({"DEBUG": True}, "yiwang.E003"),
        ({"SESSION_COOKIE_SECURE": False}, "yiwang.E004"),
        ({"SECURE_HSTS_SECONDS": 0}, "yiwang.E005"),
        ({"YIWANG_HTTPS": False}, "yiwang.E006"),
        ({"ALLOWED_HOSTS": ["*"]}, "yiwang.E007"),
        ({"YIWANG_ENV": "prod"}, "yiwang.E001"),
    ],
)
def test_each_unsafe_setting_is_named(private_keystore, change, expected):
    with override_settings(**{**PRODUCTION, **change}, YIWANG_KEYSTORE=private_keystore):
        assert expected in ids(deployment_problems())
        with pytest.raises(SystemCheckError):
            call_command("check", deploy=True, fail_level="WARNING")


def test_a_keystore_readable_by_others_is_named(private_keystore):
    os.chmod(private_keystore, 0o644)
    with override_settings(**PRODUCTION, YIWANG_KEYSTORE=private_keystore):
        assert "yiwang.E008" in ids(deployment_problems())


def test_serve_refuses_production_with_the_builtin_secret_key(private_keystore, settings):
    with override_settings(
        **{**PRODUCTION, "SECRET_KEY": settings.BUILTIN_SECRET_KEY}, YIWANG_KEYSTORE=private_keystore
    ):
        with pytest.raises(CommandError, match="yiwang.E002"):
            call_command("serve", port=1)


def test_serve_refuses_production_over_https_without_hsts(private_keystore):
    with override_settings(**{**PRODUCTION, "SECURE_HSTS_SECONDS": 0}, YIWANG_KEYSTORE=private_keystore):
        with pytest.raises(CommandError, match="yiwang.E005"):
            call_command("serve", port=1)
