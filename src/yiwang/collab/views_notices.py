"""Pages: 一网协同 — 通知."""

from __future__ import annotations

urlpatterns: list = []
