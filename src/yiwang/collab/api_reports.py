"""API: 一网协同 — 填表报数: filling, review and aggregation (mounted at /api/collab/reports)."""

from __future__ import annotations

from ninja import Router

router = Router(tags=["一网协同：填表报数（填报与审核）"])
