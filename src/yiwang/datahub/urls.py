"""Data-foundation pages, mounted at /data/ with namespace "datahub"; each page module owns its patterns.

Every page answers `Cache-Control: no-store`: catalogue drafts, share agreements, call logs and 我的数据 are not
for shared caches.
"""

from django.views.decorators.cache import never_cache

from . import (
    views_assets,
    views_catalogue,
    views_census,
    views_elements,
    views_gateway,
    views_mydata,
    views_objections,
    views_opendata,
    views_quality,
    views_returnflow,
    views_scorecard,
    views_sharing,
)

app_name = "datahub"

urlpatterns: list = []
for _module in (
    views_elements,
    views_catalogue,
    views_sharing,
    views_gateway,
    views_returnflow,
    views_mydata,
    views_census,
    views_quality,
    views_objections,
    views_scorecard,
    views_opendata,
    views_assets,
):
    for _pattern in _module.urlpatterns:
        _pattern.callback = never_cache(_pattern.callback)
        urlpatterns.append(_pattern)
