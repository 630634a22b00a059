"""API: 公共信用：信用档案与记录 (mounted at /api/credit/files).

(No `from __future__ import annotations` here: django-ninja reads the annotations at import time.)
"""

from django.views.decorators.cache import never_cache
from ninja import Router

router = Router(tags=["公共信用：信用档案与记录"])
router.add_decorator(never_cache, mode="view")
