from django.urls import include, path

from .views import audit, calendar, identity, notify, org, registry

app_name = "core"

urlpatterns = [
    path("", include(identity.urlpatterns)),
    path("org/", include(org.urlpatterns)),
    path("registry/", include(registry.urlpatterns)),
    path("audit/", include(audit.urlpatterns)),
    path("calendar/", include(calendar.urlpatterns)),
    path("notifications/", include(notify.urlpatterns)),
]
