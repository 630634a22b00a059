"""API: 公共信用：红黑名单与奖惩措施 (mounted at /api/credit/lists).

(No `from __future__ import annotations` here: django-ninja reads the annotations at import time.)
"""

from django.views.decorators.cache import never_cache
from ninja import Router

router = Router(tags=["公共信用：红黑名单与奖惩措施"])
router.add_decorator(never_cache, mode="view")
