"""API router (stub: filled by its feature)."""

from ninja import Router

router = Router(tags=["一网统管"])
