"""Pages: 公共信用：信用公示与查询."""

from __future__ import annotations

urlpatterns: list = []
