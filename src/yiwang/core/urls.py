from django.urls import include, path

from .views import audit, calendar, identity, notify, org, receipts, registry

app_name = "core"

urlpatterns = [
    path("", include(identity.urlpatterns)),
    path("org/", include(org.urlpatterns)),
    path("registry/", include(registry.urlpatterns)),
    path("audit/receipts/", include(receipts.urlpatterns)),  # public: before audit/ (staff only)
    path("audit/", include(audit.urlpatterns)),
    path("calendar/", include(calendar.urlpatterns)),
    path("notifications/", include(notify.urlpatterns)),
]
