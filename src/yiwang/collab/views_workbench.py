"""Pages: 一网协同 — 我的工作台."""

from __future__ import annotations

urlpatterns: list = []
