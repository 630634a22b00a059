"""Pages: 一网协同 — 填表报数."""

from __future__ import annotations

urlpatterns: list = []
