"""Pages /incidents/ops/ (一网统观) and /incidents/warnings/: access, figures, drill-down links, acknowledge form,
and a fixed number of queries on the dashboard."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from yiwang.incidents.models import IncidentWarning

from .test_stats import G1, build_history, file
from .test_warnings import OTHER_TOWN_GRID, _warning

pytestmark = pytest.mark.django_db


def test_dashboard_needs_the_supervise_permission(client, iworld):
    url = reverse("incidents:ops")
    assert client.get(url).status_code == 302  # to the login page
    client.force_login(iworld.cgj_handler.account)
    assert client.get(url).status_code == 403
    client.force_login(iworld.admin.account)
    assert client.get(url).status_code == 200


def test_dashboard_shows_counters_map_and_drill_down_links(client, iworld, clock):
    build_history(iworld, clock)
    client.force_login(iworld.dispatcher.account)
    response = client.get(reverse("incidents:ops"))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-testid="count-received">6<' in html
    assert 'data-grids="6"' in html
    geo = json.loads(html.split('id="ops-map-data" type="application/json">')[1].split("</script>")[0])
    assert {f["properties"]["code"] for f in geo["features"]} >= {G1, OTHER_TOWN_GRID}
    work = reverse("incidents:work")
    assert f'href="{work}?department=CGJ&amp;state=closed"' in html
    assert f'href="{work}?town=440199002&amp;overdue=1"' in html
    chart = json.loads(html.split('id="ops-chart-data" type="application/json">')[1].split("</script>")[0])
    assert chart["work_url"] == work
    week = client.get(reverse("incidents:ops"), {"period": "7d"})
    assert 'data-testid="count-received">7<' in week.content.decode()


def test_dashboard_query_count_does_not_grow_with_incidents(
    client, iworld, clock, django_assert_max_num_queries
):
    build_history(iworld, clock)
    client.force_login(iworld.dispatcher.account)
    url = reverse("incidents:ops")
    client.get(url)
    with django_assert_max_num_queries(30) as first:
        assert client.get(url).status_code == 200
    for n in range(10):
        file(iworld, phone=f"1370000000{n}", grid=G1 if n % 2 else OTHER_TOWN_GRID)
    with django_assert_max_num_queries(len(first.captured_queries)):
        assert client.get(url).status_code == 200


def test_town_centre_dashboard_is_its_town(client, iworld, clock):
    build_history(iworld, clock)
    client.force_login(iworld.other_town_dispatcher.account)
    html = client.get(reverse("incidents:ops")).content.decode()
    assert 'data-testid="count-received">3<' in html and 'data-grids="2"' in html


def test_warnings_page_lists_filters_and_acknowledges(client, iworld, clock):
    own = _warning(iworld, clock)
    other = _warning(iworld, clock, grid=OTHER_TOWN_GRID, phone="13800006666")
    client.force_login(iworld.town_dispatcher.account)
    page = client.get(reverse("incidents:warnings")).content.decode()
    assert f'data-warning="{own.pk}"' in page and f'data-warning="{other.pk}"' not in page
    assert (
        client.get(reverse("incidents:warnings"), {"kind": "surge"}).content.decode().count("data-warning=")
        == 0
    )
    url = reverse("incidents:warning_acknowledge", args=[own.pk])
    refused = client.post(url, {"note": ""})
    assert refused.status_code == 422 and "请填写处理说明" in refused.content.decode()
    assert (
        client.post(reverse("incidents:warning_acknowledge", args=[other.pk]), {"note": "x"}).status_code
        == 404
    )
    done = client.post(url, {"note": "已电话回访并督办"})
    assert done.status_code == 302
    own.refresh_from_db()
    assert own.state == IncidentWarning.State.ACKNOWLEDGED and own.acknowledged_by == iworld.town_dispatcher
    handled = client.get(reverse("incidents:warnings"), {"state": "acknowledged"}).content.decode()
    assert "已电话回访并督办" in handled
    client.force_login(iworld.cgj_handler.account)
    assert client.get(reverse("incidents:warnings")).status_code == 403
