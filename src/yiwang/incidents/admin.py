"""Admin of 一网统管: each feature module registers its models."""

from . import admin_catalogue, admin_incidents, admin_iot, admin_warnings  # noqa: F401
