"""API: 一网协同 — 公文流转 (mounted at /api/collab/documents)."""

from __future__ import annotations

from ninja import Router

router = Router(tags=["一网协同：公文流转"])
