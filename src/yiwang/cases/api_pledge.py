"""pledge API (issue 4)."""

from ninja import Router

router = Router(tags=["pledge"])
