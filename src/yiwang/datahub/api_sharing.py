"""API: 共享申请 (filled in by its part of issue 14)."""

from ninja import Router

router = Router(tags=["共享申请"])
