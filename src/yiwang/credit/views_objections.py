"""Pages: 公共信用：信用异议与信用修复."""

from __future__ import annotations

urlpatterns: list = []
