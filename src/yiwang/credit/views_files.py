"""Pages: 公共信用：信用档案与记录."""

from __future__ import annotations

urlpatterns: list = []
