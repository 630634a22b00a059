from django.contrib import admin
from django.urls import include, path, re_path

from .api import api
from .core.apiutils import api_not_found
from .core.views.probe import healthz

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("", include("yiwang.datahub.urls_ckan")),  # CKAN Action API and DCAT-AP: before the ninja API
    path("api/", api.urls),
    re_path(r"^api/", api_not_found),
    path("i18n/", include("django.conf.urls.i18n")),
    path("services/", include("yiwang.catalog.urls")),
    path("cases/", include("yiwang.cases.urls")),
    path("licences/", include("yiwang.licences.urls")),
    path("incidents/", include("yiwang.incidents.urls")),
    path("data/", include("yiwang.datahub.urls")),
    path("open/", include("yiwang.datahub.urls_open")),
    path("collab/", include("yiwang.collab.urls")),
    path(
        "credit/", include("yiwang.credit.urls")
    ),  # 公共信用 and 双随机、一公开  # 一网协同  # the public open-data portal
    path("open311/", include("yiwang.incidents.urls_open311")),  # discovery and GeoReport v2
    path("", include("yiwang.core.urls")),
    path("", include("yiwang.web.urls")),
]
