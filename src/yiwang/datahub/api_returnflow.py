"""API: 回流与离岸库 (filled in by its part of issue 14)."""

from ninja import Router

router = Router(tags=["回流与离岸库"])
