"""API: 双随机、一公开 (mounted at /api/supervision).

(No `from __future__ import annotations` here: django-ninja reads the annotations at import time.)
"""

from django.views.decorators.cache import never_cache
from ninja import Router

router = Router(tags=["双随机、一公开"])
router.add_decorator(never_cache, mode="view")
