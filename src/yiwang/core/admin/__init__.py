"""Admin registrations, one module per resource."""

from . import audit, calendar, identity, org, people  # noqa: F401
