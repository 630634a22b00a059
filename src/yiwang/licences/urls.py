"""Licence pages, mounted at /licences/ with namespace "licences"; each page module owns its patterns.

Every licence page answers `Cache-Control: no-store` (never_cache, applied here so a new page cannot forget it):
holders' licences, PDFs, offline files, grants, issuer and import pages carry personal data, and verification
answers show a licence's face. Only the published seal keys (`NO_STORE_EXEMPT`) may be cached.
"""

from django.views.decorators.cache import never_cache

from . import views_case, views_holder, views_imports, views_issuer, views_receipts, views_verify

app_name = "licences"
NO_STORE_EXEMPT = frozenset({"seals"})

urlpatterns: list = []
for _module in (views_verify, views_holder, views_issuer, views_case, views_imports, views_receipts):
    for _pattern in _module.urlpatterns:
        if _pattern.name not in NO_STORE_EXEMPT and not getattr(_pattern.callback, "yiwang_no_store", False):
            _pattern.callback = never_cache(_pattern.callback)
            _pattern.callback.yiwang_no_store = True
        urlpatterns.append(_pattern)
