"""Incident work pages: the work list with filters and counts (query-bounded), the dispatch queue, the detail page
with the forms `actions_for` allows, errors by field (422), version conflicts (409), callbacks, extensions,
photos behind the scope check; citizens get 403, out-of-scope incidents 404."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse

from yiwang.incidents.models import Callback, ExtensionRequest, Incident
from yiwang.incidents.services.dispatch import extension_request

from .test_work_support import STREET_GRID, TOWN2_GRID, closed, filed, fresh, handled, pending, photo

pytestmark = pytest.mark.django_db
S = Incident.State


def login(client, who):
    client.force_login(who.account if hasattr(who, "account") else who)
    return client


def test_work_list_shows_the_units_incidents_with_lights_and_filters(
    client, iworld, django_assert_max_num_queries
):
    mine = [filed(iworld) for _ in range(3)]
    noise = filed(iworld, "HJWR01")  # 生态环境
    login(client, iworld.cgj_handler)
    client.get(reverse("incidents:work"))  # warm caches (settings, session)
    with django_assert_max_num_queries(14):
        page = client.get(reverse("incidents:work")).content.decode()
    assert all(i.number in page for i in mine) and noise.number not in page
    assert "sla-green" in page
    page = client.get(reverse("incidents:work"), {"overdue": "1"}).content.decode()
    assert mine[0].number not in page
    page = client.get(reverse("incidents:work"), {"category": "SRHJ", "state": "all", "town": "440199001"})
    assert mine[0].number in page.content.decode()
    bad = client.get(reverse("incidents:work"), {"state": "nope"})
    assert bad.status_code == 422 and "未知的工单状态" in bad.content.decode()


def test_lights_filter_in_the_database(client, iworld, clock):
    incident = filed(iworld)  # 2 working days
    login(client, iworld.cgj_handler)
    assert incident.number in client.get(reverse("incidents:work"), {"light": "green"}).content.decode()
    clock.moment = incident.due_at - timedelta(hours=2)  # less than 20 % of the span left
    login(client, iworld.cgj_handler)  # the session would have expired
    assert incident.number in client.get(reverse("incidents:work"), {"light": "yellow"}).content.decode()
    assert incident.number not in client.get(reverse("incidents:work"), {"light": "green"}).content.decode()
    clock.moment = incident.due_at + timedelta(hours=1)
    login(client, iworld.cgj_handler)
    page = client.get(reverse("incidents:work"), {"light": "red"}).content.decode()
    assert incident.number in page and "sla-red" in page


def test_citizens_cannot_open_staff_pages(client, iworld):
    incident = filed(iworld)
    login(client, iworld.citizen)
    for url in (
        reverse("incidents:work"),
        reverse("incidents:dispatch_queue"),
        reverse("incidents:callbacks"),
        reverse("incidents:extensions"),
        reverse("incidents:detail", args=[incident.public_id]),
    ):
        assert client.get(url).status_code == 403, url
    client.logout()
    assert client.get(reverse("incidents:work")).status_code == 302


def test_out_of_scope_incident_is_404(client, iworld):
    incident = filed(iworld, "HJWR01")  # 生态环境
    login(client, iworld.cgj_handler)
    assert client.get(reverse("incidents:detail", args=[incident.public_id])).status_code == 404
    assert (
        client.post(reverse("incidents:detail", args=[incident.public_id]), {"action": "return"}).status_code
        == 404
    )


def test_dispatch_queue_and_dispatch_from_the_page(client, iworld):
    incident = pending(iworld)
    other = pending(iworld, TOWN2_GRID)
    login(client, iworld.town_dispatcher)
    page = client.get(reverse("incidents:dispatch_queue")).content.decode()
    assert incident.number in page and other.number not in page
    url = reverse("incidents:detail", args=[incident.public_id])
    page = client.get(url).content.decode()
    assert 'data-action="dispatch"' in page and 'data-action="handle"' not in page
    response = client.post(
        url, {"action": "dispatch", "version": incident.lock_version, "department_code": "CGJ"}
    )
    assert response.status_code == 422 and "请先选择事件分类" in response.content.decode()
    response = client.post(
        url,
        {
            "action": "dispatch",
            "version": incident.lock_version,
            "department_code": "CGJ",
            "category_code": "SRHJ01",
        },
    )
    assert response.status_code == 302
    assert fresh(incident).state == S.DISPATCHED


def test_handle_with_photo_then_verify_on_the_page(client, iworld):
    incident = filed(iworld)
    url = reverse("incidents:detail", args=[incident.public_id])
    login(client, iworld.cgj_handler)
    page = client.get(url).content.decode()
    assert {'data-action="handle"', 'data-action="return"', 'data-action="extension_request"'} <= {
        s
        for s in ('data-action="handle"', 'data-action="return"', 'data-action="extension_request"')
        if s in page
    }
    response = client.post(url, {"action": "handle", "version": incident.lock_version, "note": "已劝离"})
    assert response.status_code == 422
    body = response.content.decode()
    assert "至少一张现场照片" in body and "至少 5 个字" in body
    response = client.post(
        url,
        {
            "action": "handle",
            "version": incident.lock_version,
            "note": "已劝离摊贩并清理",
            "photos": [photo()],
        },
    )
    assert response.status_code == 302, response.content.decode()[:500]
    incident = fresh(incident)
    assert incident.state == S.HANDLED
    evidence = incident.attachments.get()
    assert (
        client.get(reverse("incidents:attachment", args=[incident.public_id, evidence.public_id])).status_code
        == 200
    )
    login(client, iworld.sthj_handler)
    assert (
        client.get(reverse("incidents:attachment", args=[incident.public_id, evidence.public_id])).status_code
        == 404
    )
    login(client, iworld.grid_workers[STREET_GRID])
    page = client.get(url).content.decode()
    assert 'data-action="verify"' in page
    response = client.post(
        url, {"action": "verify", "version": incident.lock_version, "passed": "1", "note": "好"}
    )
    assert response.status_code == 302 and fresh(incident).state == S.CLOSED
    page = client.get(url).content.decode()
    assert all(f'data-action="{a}"' in page for a in ("intake", "dispatch", "handle", "verify_pass"))


def test_stale_version_is_a_409(client, iworld):
    incident = filed(iworld)
    url = reverse("incidents:detail", args=[incident.public_id])
    login(client, iworld.cgj_handler)
    client.post(url, {"action": "return", "version": incident.lock_version, "reason": "不属于本单位"})
    login(client, iworld.dispatcher)
    response = client.post(
        url, {"action": "close", "version": incident.lock_version, "closure": "invalid", "note": "无效"}
    )
    # the return bumped the version; close does not carry one, so it passes. reassign does:
    assert response.status_code in (302, 409)
    other = filed(iworld)
    stale = other.lock_version
    handled(iworld, other)
    response = client.post(
        reverse("incidents:detail", args=[other.public_id]),
        {"action": "reassign", "version": stale, "department_code": "STHJ", "reason": "改派环保"},
    )
    assert response.status_code == 409 and "已被他人处理" in response.content.decode()


def test_callbacks_page_records_satisfaction(client, iworld):
    incident = closed(iworld)
    login(client, iworld.operator)
    page = client.get(reverse("incidents:callbacks")).content.decode()
    assert incident.number in page and "138****1111" in page
    response = client.post(
        reverse("incidents:callbacks"), {"incident": str(incident.public_id), "satisfaction": "satisfied"}
    )
    assert response.status_code == 302
    assert Callback.objects.get().satisfaction == "satisfied"
    assert (
        f'data-incident="{incident.public_id}"'
        not in client.get(reverse("incidents:callbacks")).content.decode()
    )
    login(client, iworld.cgj_handler)
    assert client.get(reverse("incidents:callbacks")).status_code == 403


def test_extensions_page_for_the_dispatcher(client, iworld):
    incident = filed(iworld)
    request = extension_request(
        actor=iworld.p(iworld.cgj_handler),
        incident=incident,
        requested_due_at=incident.due_at + timedelta(hours=3),
        reason="需要协调",
    )
    login(client, iworld.other_town_dispatcher)
    assert incident.number not in client.get(reverse("incidents:extensions")).content.decode()
    login(client, iworld.town_dispatcher)
    assert incident.number in client.get(reverse("incidents:extensions")).content.decode()
    response = client.post(
        reverse("incidents:extensions"), {"request": request.pk, "approve": "0", "note": ""}
    )
    assert response.status_code == 422
    response = client.post(reverse("incidents:extensions"), {"request": request.pk, "approve": "1"})
    assert response.status_code == 302
    request.refresh_from_db()
    assert request.state == ExtensionRequest.State.APPROVED and fresh(incident).extended


def test_confidential_reporter_hidden_from_the_unit(client, iworld, clock):
    clock.set(2026, 3, 2, 9, 45)
    incident = filed(iworld, kind="report")  # 举报 is confidential
    assert incident.confidential and incident.created_at == clock.moment
    login(client, iworld.cgj_handler)
    page = client.get(reverse("incidents:detail", args=[incident.public_id])).content.decode()
    assert 'data-testid="reporter-hidden"' in page and "138****1111" not in page
    assert "<dd>2026-03-02 09:45</dd>" in page  # hiding the reporter hides nothing else (time in Shanghai)
    login(client, iworld.town_dispatcher)
    page = client.get(reverse("incidents:detail", args=[incident.public_id])).content.decode()
    assert "138****1111" in page and "<dd>2026-03-02 09:45</dd>" in page
