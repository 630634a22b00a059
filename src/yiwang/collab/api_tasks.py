"""API: 一网协同 — 督办任务 (mounted at /api/collab/tasks)."""

from __future__ import annotations

from ninja import Router

router = Router(tags=["一网协同：督办任务"])
