import pytest


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    # These tests log in with force_login and never check a password: skip argon2's deliberate slowness.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
