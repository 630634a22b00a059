"""API: 一网协同 — 填表报数 (mounted at /api/collab/forms)."""

from __future__ import annotations

from ninja import Router

router = Router(tags=["一网协同：填表报数"])
