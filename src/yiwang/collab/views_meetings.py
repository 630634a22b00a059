"""Pages: 一网协同 — 办会."""

from __future__ import annotations

urlpatterns: list = []
