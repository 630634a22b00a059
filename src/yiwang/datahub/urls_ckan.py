"""The CKAN Action API (/api/3/action/<name>, /api/action/<name>) and DCAT-AP 3.0.1 (/catalog.<fmt>,
/dataset/<id>.<fmt>, fmt = ttl | jsonld | rdf), mounted at the site root before the ninja API (issue 15).
See `datahub/ckan/` and `datahub/dcat/`."""

from django.urls import path

from .ckan.views import action_view
from .dcat.views import catalog_view, dataset_view

urlpatterns: list = [
    path("api/3/action/<str:name>", action_view, name="ckan_action_v3"),
    path("api/action/<str:name>", action_view, name="ckan_action"),
]
for _fmt in ("ttl", "jsonld", "rdf"):
    urlpatterns += [
        path(f"catalog.{_fmt}", catalog_view, {"fmt": _fmt}, name=f"dcat_catalog_{_fmt}"),
        path(f"dataset/<str:ident>.{_fmt}", dataset_view, {"fmt": _fmt}, name=f"dcat_dataset_{_fmt}"),
    ]
