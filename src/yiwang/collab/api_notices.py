"""API: 一网协同 — 通知 (mounted at /api/collab/notices)."""

from __future__ import annotations

from ninja import Router

router = Router(tags=["一网协同：通知"])
