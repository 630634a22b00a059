"""Pages: 一网协同 — 填表报数: filling, review and aggregation."""

from __future__ import annotations

urlpatterns: list = []
