"""API: registry."""

from ninja import Router

router = Router(tags=["registry"])
