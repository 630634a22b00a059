"""The grid patrol page (巡查上报): who may use it, reporting in the worker's own grid, 已现场处置 handled at
once when the incident stays in that grid, shown where it went otherwise, and the worker's own recent reports."""

from __future__ import annotations

import pytest
from django.urls import reverse

from yiwang.incidents.models import Incident, IncidentAttachment

from .factories import point_in
from .test_report_pages import png

pytestmark = pytest.mark.django_db

GRID = "440199001001002"


def patrol_data(**overrides):
    data = {
        "category": "SRHJ02",
        "description": "绿化带里有人乱扔建筑垃圾",
        "lon": "",
        "lat": "",
        "address": "",
        "handle_note": "",
        "photos": [png()],
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def test_who_may_patrol(client, iworld):
    url = reverse("incidents:patrol")
    assert client.get(url).status_code == 302
    client.force_login(iworld.citizen)
    assert client.get(url).status_code == 403
    client.force_login(iworld.operator.account)
    assert client.get(url).status_code == 403
    client.force_login(iworld.grid_workers[GRID].account)
    text = client.get(url).content.decode()
    assert 'capture="environment"' in text and 'accept="image/*"' in text and "第2网格" in text
    assert "已现场处置（小事一格解决）" in text and 'name="viewport"' in text


def test_report_in_own_grid_and_handle_at_once(client, iworld):
    worker = iworld.grid_workers[GRID]
    client.force_login(worker.account)
    response = client.post(
        reverse("incidents:patrol"), patrol_data(handled="on", handle_note="已现场清理完毕，恢复整洁")
    )
    assert response.status_code == 200, response.content.decode()
    incident = Incident.objects.get()
    assert incident.channel == "patrol" and incident.reporter_staff == worker
    assert incident.grid.code == GRID and incident.located_by == "device"  # the worker's own grid
    assert incident.assigned_grid.code == GRID
    # SRHJ02 needs no verification: handled on the spot closes it
    assert incident.state == Incident.State.CLOSED and incident.resolution == "已现场清理完毕，恢复整洁"
    purposes = sorted(incident.attachments.values_list("purpose", flat=True))
    assert purposes == [IncidentAttachment.Purpose.EVIDENCE, IncidentAttachment.Purpose.REPORT]
    text = response.content.decode()
    assert 'data-testid="handled"' in text and incident.number in text


def test_point_from_the_phone_and_a_department_matter_is_not_handled(client, iworld):
    worker = iworld.grid_workers[GRID]
    lon, lat = point_in(GRID)
    client.force_login(worker.account)
    response = client.post(
        reverse("incidents:patrol"),
        patrol_data(
            category="SRHJ01",
            description="商铺把货物摆到人行道上",
            lon=str(lon),
            lat=str(lat),
            handled="on",
            handle_note="已劝离",
        ),
    )
    assert response.status_code == 200
    incident = Incident.objects.get()
    assert incident.located_by == "point" and incident.assigned_department == iworld.cgj
    assert incident.state == Incident.State.DISPATCHED
    text = response.content.decode()
    assert 'data-testid="not-handled"' in text and iworld.cgj.name in text


def test_errors_save_nothing(client, iworld):
    client.force_login(iworld.grid_workers[GRID].account)
    response = client.post(reverse("incidents:patrol"), patrol_data(handled="on", handle_note=""))
    assert response.status_code == 422 and "已现场处置时请填写处置说明。" in response.content.decode()
    response = client.post(reverse("incidents:patrol"), patrol_data(description=""))
    assert response.status_code == 422 and "请填写诉求内容。" in response.content.decode()
    bad = png().__class__("x.jpg", b"not a jpeg", content_type="image/jpeg")
    response = client.post(reverse("incidents:patrol"), patrol_data(photos=[bad]))
    assert response.status_code == 422 and "x.jpg" in response.content.decode()
    assert not Incident.objects.exists()


def test_handling_evidence_errors_roll_back_the_report(client, iworld):
    """SRHJ02 needs a handling note of some length to close: too short, and neither the report nor the handling
    is kept (one transaction); the message stands next to the note."""
    from yiwang.incidents.services.handling import NOTE_EVIDENCE_MIN

    client.force_login(iworld.grid_workers[GRID].account)
    response = client.post(
        reverse("incidents:patrol"), patrol_data(handled="on", handle_note="好" * (NOTE_EVIDENCE_MIN - 1))
    )
    assert response.status_code == 422
    assert 'id="err_handle_note"' in response.content.decode()
    assert not Incident.objects.exists() and not IncidentAttachment.objects.exists()


def test_recent_list_is_own_and_flat_in_queries(client, iworld, django_assert_max_num_queries):
    worker = iworld.grid_workers[GRID]
    other = iworld.grid_workers["440199001001001"]
    client.force_login(other.account)
    client.post(reverse("incidents:patrol"), patrol_data(description="别人的上报：垃圾溢出", photos=[]))
    client.force_login(worker.account)
    for n in range(2):
        lon, lat = point_in(GRID, dx=0.002 + 0.004 * n)
        client.post(
            reverse("incidents:patrol"),
            patrol_data(description=f"垃圾桶满了第{n}处", lon=str(lon), lat=str(lat), photos=[]),
        )
    client.get(reverse("incidents:patrol"))
    with django_assert_max_num_queries(14):
        text = client.get(reverse("incidents:patrol")).content.decode()
    assert "垃圾桶满了第0处" in text and "垃圾桶满了第1处" in text and "别人的上报" not in text
    for n in range(2, 5):
        lon, lat = point_in(GRID, dx=0.001 + 0.002 * n, dy=0.008)
        client.post(
            reverse("incidents:patrol"),
            patrol_data(description=f"垃圾桶满了第{n}处", lon=str(lon), lat=str(lat), photos=[]),
        )
    with django_assert_max_num_queries(14):
        client.get(reverse("incidents:patrol"))
