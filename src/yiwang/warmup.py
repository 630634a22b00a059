"""Start-up warming for the web server processes (wsgi.py, asgi.py).

Django imports the URLconf — every app's views and API routers — on the first request that resolves or reverses
a URL, and the API builds its request-body schemas (from the OpenAPI document) on the first JSON body it parses.
Left to the first request of each worker, that is seconds of work inside someone's request; for the first
submission it happened inside the submission's transaction (the `reverse()` of the notification link), while
other writes waited. Done here once per process, before the server accepts connections."""

from __future__ import annotations

import logging

log = logging.getLogger("yiwang.warmup")


def warm() -> None:
    """Imports the URLconf, fills the reverse() tables and builds the API's request-body schemas."""
    try:
        from django.urls import get_resolver

        resolver = get_resolver()
        resolver.url_patterns  # noqa: B018  imports yiwang.urls and everything it includes
        resolver.reverse_dict  # noqa: B018  the tables reverse() reads
        from yiwang.api import api
        from yiwang.core.apiutils import request_body_schema

        request_body_schema(api, "POST", "/")  # builds the per-route body schemas once
    except Exception:  # a warm-up failure must not stop the server: the first request then pays, as before
        log.exception("start-up warm-up failed")
