"""The data foundation's admin, one module per part (Django loads this package as the app's admin)."""

from . import catalogue, consent, elements, returnflow, sharing  # noqa: F401
