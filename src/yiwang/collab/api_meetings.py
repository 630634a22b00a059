"""API: 一网协同 — 办会 (mounted at /api/collab/meetings)."""

from __future__ import annotations

from ninja import Router

router = Router(tags=["一网协同：办会"])
