"""Pages: opendata (issue 15; being built)."""

from __future__ import annotations

urlpatterns: list = []
