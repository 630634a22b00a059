"""bundles pages (issue 4)."""

from __future__ import annotations

urlpatterns: list = []
