"""API: 数据元 (filled in by its part of issue 14)."""

from ninja import Router

router = Router(tags=["数据元"])
