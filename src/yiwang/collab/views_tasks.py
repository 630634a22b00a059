"""Pages: 一网协同 — 督办任务."""

from __future__ import annotations

urlpatterns: list = []
