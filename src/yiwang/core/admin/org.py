"""Admin: org."""

from django.contrib import admin  # noqa: F401
