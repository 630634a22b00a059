from django.urls import path

from . import views
from .bundles import views as views_bundles

app_name = "catalog"

urlpatterns = [
    path("", views.catalog_index, name="index"),
    # 一件事 pages come before the item guide's catch-all code pattern.
    path("bundles/", views_bundles.bundles_index, name="bundles"),
    path("bundles/<slug:code>/", views_bundles.bundle_guide, name="bundle"),
    path("<str:code>/", views.catalog_guide, name="guide"),
]
