"""Test-process shortcuts for two costs that every test paid and no test measures (installed by tests/conftest.py).

1. Password hashing. Production hashes with Django's Argon2PasswordHasher (time cost 2, 100 MiB, 8 lanes):
   ~0.3–0.5 s per hash on the CI machine, spent on every account a factory creates and on every login, secret
   check or password change a test makes. `FastArgon2PasswordHasher` is the same algorithm (argon2id, the same
   `argon2$` hash format, verified by the same code) with argon2's cheapest parameters: a test still sees a real
   argon2 hash, only not a deliberately slow one. Tests that want the production parameters (some browser
   journeys) set them with the `settings` fixture, as before.

2. WhiteNoise's file scan. Django's test Client builds the whole middleware chain once per Client, i.e. once per
   test, and WhiteNoiseMiddleware (WHITENOISE_USE_FINDERS = True) then walks every static file of every finder,
   stats it and its compressed variants and builds its headers: ~25–60 ms per test. The finders' files do not
   change while the suite runs, so the scan is done once per process and each new middleware instance gets its
   own copy of the resulting url → file table (keyed by everything the table depends on). STATIC_ROOT is still
   scanned per instance, exactly as before.
"""

from __future__ import annotations

from django.contrib.auth.hashers import Argon2PasswordHasher


class FastArgon2PasswordHasher(Argon2PasswordHasher):
    time_cost = 1
    memory_cost = 8  # KiB: argon2's minimum for one lane
    parallelism = 1


def fast_password_hashers(hashers: list[str]) -> list[str]:
    """PASSWORD_HASHERS with argon2 replaced by its cheap variant (first, so new hashes use it)."""
    return [
        "tests.speedups.FastArgon2PasswordHasher",
        *(h for h in hashers if not h.endswith(".Argon2PasswordHasher")),
    ]


def whitenoise_scan_once() -> None:
    from django.conf import settings
    from whitenoise.middleware import WhiteNoiseMiddleware

    if getattr(WhiteNoiseMiddleware.add_files_from_finders, "scanned_once", False):
        return
    scan = WhiteNoiseMiddleware.add_files_from_finders
    tables: dict = {}

    def add_files_from_finders(self) -> None:
        key = (
            type(self),
            self.static_prefix,
            self.max_age,
            self.allow_all_origins,
            self.charset,
            self.index_file,
            self.add_headers_function,
            repr(getattr(settings, "WHITENOISE_MIMETYPES", None)),
            repr(getattr(settings, "WHITENOISE_IMMUTABLE_FILE_TEST", None)),
            repr(settings.STATICFILES_DIRS),
            tuple(settings.STATICFILES_FINDERS),
            tuple(settings.INSTALLED_APPS),
            repr(settings.STORAGES.get("staticfiles")),
        )
        table = tables.get(key)
        if table is None:
            own, self.files = self.files, {}
            try:
                scan(self)
                table = tables[key] = self.files
            finally:
                self.files = own
        self.files.update(table)  # what scan() would have written over the STATIC_ROOT entries

    add_files_from_finders.scanned_once = True
    add_files_from_finders.original = scan
    WhiteNoiseMiddleware.add_files_from_finders = add_files_from_finders
