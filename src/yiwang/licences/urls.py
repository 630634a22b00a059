"""Licence pages, mounted at /licences/ with namespace "licences"; each page module owns its patterns."""

from . import views_case, views_holder, views_imports, views_issuer, views_verify

app_name = "licences"

urlpatterns: list = []
for _module in (views_verify, views_holder, views_issuer, views_case, views_imports):
    urlpatterns += _module.urlpatterns
