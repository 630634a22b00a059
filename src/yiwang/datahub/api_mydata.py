"""API: 我的数据 (filled in by its part of issue 14)."""

from ninja import Router

router = Router(tags=["我的数据"])
