"""Open311 at /open311/: the Service Discovery document and GeoReport v2 at /open311/v2/, each in XML and JSON
(see incidents/open311.py and docs/open311.md). Anything else under /open311/ is a 404 in the GeoReport format."""

from django.urls import re_path

from . import open311

FORMAT = r"\.(?P<fmt>json|xml)$"

urlpatterns = [
    re_path(rf"^discovery{FORMAT}", open311.discovery, name="open311_discovery_root"),
    re_path(rf"^v2/discovery{FORMAT}", open311.discovery, name="open311_discovery"),
    re_path(rf"^v2/services{FORMAT}", open311.services, name="open311_services"),
    re_path(rf"^v2/services/(?P<code>[^/]+){FORMAT}", open311.service_definition, name="open311_service"),
    re_path(rf"^v2/requests{FORMAT}", open311.requests_collection, name="open311_requests"),
    re_path(rf"^v2/requests/(?P<number>[^/]+){FORMAT}", open311.request_detail, name="open311_request"),
    re_path(rf"^v2/tokens/(?P<token>[^/]+){FORMAT}", open311.token_detail, name="open311_token"),
    re_path(r"^", open311.not_found, name="open311_not_found"),
]
