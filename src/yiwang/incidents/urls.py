"""Incident pages, mounted at /incidents/ with namespace "incidents"; each feature module owns its patterns."""

from . import views_intake, views_iot, views_ops, views_work

app_name = "incidents"

urlpatterns: list = []
for _module in (views_intake, views_work, views_ops, views_iot):
    urlpatterns += _module.urlpatterns
