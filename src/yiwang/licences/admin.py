"""Admin of the licences app: one module per resource."""

from . import admin_grants, admin_imports, admin_licences, admin_seals, admin_types  # noqa: F401
