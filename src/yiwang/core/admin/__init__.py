"""Admin registrations, one module per resource."""

from . import audit, calendar, identity, notify, org, people, witness  # noqa: F401
