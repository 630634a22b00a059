"""Background jobs of 一网统管 (Huey autodiscovers this module; each feature module holds its jobs)."""

from . import tasks_intake, tasks_iot, tasks_ops, tasks_work  # noqa: F401
