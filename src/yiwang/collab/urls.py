"""一网协同 pages, mounted at /collab/ with namespace "collab"; each page module owns its patterns.

Every page answers `Cache-Control: no-store`: to-do lists, documents and reports are not for shared caches.
"""

from django.views.decorators.cache import never_cache

from . import (
    views_documents,
    views_forms,
    views_indicators,
    views_meetings,
    views_notices,
    views_reports,
    views_tasks,
    views_verify,
    views_workbench,
)

app_name = "collab"

urlpatterns: list = []
for _module in (
    views_workbench,
    views_notices,
    views_tasks,
    views_indicators,
    views_forms,
    views_reports,
    views_documents,
    views_verify,
    views_meetings,
):
    for _pattern in _module.urlpatterns:
        _pattern.callback = never_cache(_pattern.callback)
        urlpatterns.append(_pattern)
