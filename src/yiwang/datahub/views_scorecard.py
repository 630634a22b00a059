"""Pages: scorecard (issue 15; being built)."""

from __future__ import annotations

urlpatterns: list = []
