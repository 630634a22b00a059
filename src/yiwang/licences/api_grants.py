"""grants API of the licences app (issue 5)."""

from ninja import Router

router = Router(tags=["licences"])
