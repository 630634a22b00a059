"""API: 一网协同 — 我的工作台 (mounted at /api/collab/workbench)."""

from __future__ import annotations

from ninja import Router

router = Router(tags=["一网协同：我的工作台"])
