"""API: 公文 public verification (mounted at /api/collab/verify; no login, rate-limited)."""

from __future__ import annotations

from ninja import Router

router = Router(tags=["一网协同：公文核验"])
