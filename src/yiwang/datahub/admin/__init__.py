"""The data foundation's admin, one module per part (Django loads this package as the app's admin)."""

from . import (  # noqa: F401
    assets,
    catalogue,
    census,
    consent,
    elements,
    objections,
    opendata,
    quality,
    returnflow,
    scorecard,
    sharing,
)
