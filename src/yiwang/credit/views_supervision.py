"""Pages: 双随机、一公开."""

from __future__ import annotations

urlpatterns: list = []
