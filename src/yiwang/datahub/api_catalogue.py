"""API: 资源目录 (filled in by its part of issue 14)."""

from ninja import Router

router = Router(tags=["资源目录"])
