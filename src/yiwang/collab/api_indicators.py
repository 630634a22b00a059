"""API: 一网协同 — 指标与绩效考评 (mounted at /api/collab/indicators)."""

from __future__ import annotations

from ninja import Router

router = Router(tags=["一网协同：指标与绩效考评"])
