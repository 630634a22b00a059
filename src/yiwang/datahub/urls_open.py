"""The public open-data portal, mounted at /open/ with namespace "opendata" (pages: `views_open_public.py`).

Every page answers `Cache-Control: no-store`: a signed-in visitor sees conditional datasets and their own keys.
"""

from django.views.decorators.cache import never_cache

from . import views_open_public

app_name = "opendata"

urlpatterns: list = []
for _pattern in views_open_public.urlpatterns:
    _pattern.callback = never_cache(_pattern.callback)
    urlpatterns.append(_pattern)
