"""API: assets (issue 15; being built).

(No `from __future__ import annotations` here: django-ninja reads the parameter annotations at import time.)
"""

from ninja import Router

router = Router(tags=["assets"])
