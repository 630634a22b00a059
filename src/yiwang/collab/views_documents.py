"""Pages: 一网协同 — 公文流转."""

from __future__ import annotations

urlpatterns: list = []
