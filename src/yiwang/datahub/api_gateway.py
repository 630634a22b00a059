"""API: 数据共享网关 (filled in by its part of issue 14)."""

from ninja import Router

router = Router(tags=["数据共享网关"])
