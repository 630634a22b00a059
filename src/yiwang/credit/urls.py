"""公共信用 and 双随机 pages, mounted at /credit/ with namespace "credit"; each page module owns its patterns.

Every page answers `Cache-Control: no-store` except the public ones, which set their own caching.
"""

from django.views.decorators.cache import never_cache

from . import views_files, views_lists, views_objections, views_public, views_supervision

app_name = "credit"

PUBLIC_MODULES = (views_public,)

urlpatterns: list = []
for _module in (views_files, views_lists, views_objections, views_public, views_supervision):
    for _pattern in _module.urlpatterns:
        if _module not in PUBLIC_MODULES:
            _pattern.callback = never_cache(_pattern.callback)
        urlpatterns.append(_pattern)
