"""Pages: 一网协同 — 指标与绩效考评."""

from __future__ import annotations

urlpatterns: list = []
