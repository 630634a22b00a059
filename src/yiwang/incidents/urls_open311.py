"""Open311 GeoReport v2 at /open311/v2/ (JSON only; see incidents/open311.py and docs/open311.md)."""

from django.urls import path, re_path

from . import open311

urlpatterns = [
    path("services.json", open311.services, name="open311_services"),
    path("services/<str:code>.json", open311.service_definition, name="open311_service"),
    path("requests.json", open311.requests_collection, name="open311_requests"),
    path("requests/<str:number>.json", open311.request_detail, name="open311_request"),
    re_path(r"^(?P<resource>[\w/.\-]+)\.xml$", open311.xml_refused, name="open311_xml"),
]
