"""Pages: 公共信用：红黑名单与奖惩措施."""

from __future__ import annotations

urlpatterns: list = []
