"""感知设备 page (/incidents/devices/, name incidents:devices): every device with its type, grid, last reading,
last report, alarm state and a link to the open alarm incident; filter by type or "报警中"; keyset pages.
Supervisors (incident.supervise) see it; a town command centre sees its town's devices (selectors_iot)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path
from django.utils import timezone
from django.views.decorators.http import require_GET

from yiwang.core.pageutils import page_requires
from yiwang.core.permissions import INCIDENT_SUPERVISE

from .models import DeviceType
from .selectors_iot import device_state, devices_visible
from .services.common import incident_link

PAGE_SIZE = 50


@page_requires(INCIDENT_SUPERVISE)
@require_GET
def devices(request: HttpRequest) -> HttpResponse:
    type_code = (request.GET.get("type") or "")[:32]
    state = "alarm" if request.GET.get("state") == "alarm" else ""
    page = devices_visible(
        request.principal, type_code=type_code, state=state, cursor=request.GET.get("cursor"), limit=PAGE_SIZE
    )
    at = timezone.now()
    rows = []
    for device in page.items:
        key, label = device_state(device, at=at)
        incident = device.alarm_incident if device.alarm_incident_id else None
        rows.append(
            {
                "device": device,
                "state": key,
                "state_label": label,
                "incident": incident,
                "incident_url": incident_link(incident) if incident is not None else "",
            }
        )
    return render(
        request,
        "incidents/iot/devices.html",
        {
            "rows": rows,
            "page": page,
            "types": DeviceType.objects.order_by("code"),
            "type_code": type_code,
            "state": state,
        },
    )


urlpatterns = [path("devices/", devices, name="devices")]
