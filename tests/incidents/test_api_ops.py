"""API /api/incidents/ops: summary, map, performance, warnings and acknowledge — 200/401/403/404/422."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from yiwang.core.services.identity import api_token_issue_for_account
from yiwang.incidents.models import IncidentWarning

from .test_stats import build_history
from .test_warnings import OTHER_TOWN_GRID, _warning

pytestmark = pytest.mark.django_db

BASE = "/api/incidents/ops"


def auth(staff) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {api_token_issue_for_account(account=staff.account).token}"}


def test_summary_map_and_performance(client, iworld, clock):
    build_history(iworld, clock)
    headers = auth(iworld.dispatcher)
    summary = client.get(f"{BASE}/summary", **headers)
    assert summary.status_code == 200, summary.content
    body = summary.json()
    assert body["received"] == 6 and body["overdue"] == 2 and body["open_warnings"] == 0
    assert {c["code"]: c["count"] for c in body["by_channel"]}["web"] == 2
    week = client.get(f"{BASE}/summary", {"period": "7d"}, **headers).json()
    assert week["received"] == 7
    geo = client.get(f"{BASE}/map", {"town": "440199002"}, **headers).json()
    assert geo["type"] == "FeatureCollection" and len(geo["features"]) == 2
    assert geo["features"][0]["geometry"]["type"] == "Polygon"
    perf = client.get(f"{BASE}/performance", **headers).json()
    cgj = next(r for r in perf["departments"] if r["code"] == "CGJ")
    assert cgj["disposal_rate"] == 100.0 and cgj["satisfaction_rate"] == 50.0
    assert {r["code"] for r in perf["towns"]} == {"440199001", "440199002"}


def test_anonymous_is_401_and_other_roles_403(client, iworld):
    assert client.get(f"{BASE}/summary").status_code == 401
    response = client.get(f"{BASE}/map", **auth(iworld.cgj_handler))
    assert response.status_code == 403
    assert response["Content-Type"].startswith("application/problem+json")
    assert client.get(f"{BASE}/warnings", **auth(iworld.operator)).status_code == 403


def test_bad_period_is_422(client, iworld):
    response = client.get(f"{BASE}/summary", {"period": "year"}, **auth(iworld.dispatcher))
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "period"


def test_warnings_list_and_acknowledge(client, iworld, clock):
    own = _warning(iworld, clock)
    other = _warning(iworld, clock, grid=OTHER_TOWN_GRID, phone="13800006666")
    town = auth(iworld.town_dispatcher)
    listed = client.get(f"{BASE}/warnings", {"state": "open"}, **town).json()
    assert [w["id"] for w in listed["items"]] == [own.pk]
    assert listed["items"][0]["kind"] == "repeat" and listed["items"][0]["town_code"] == "440199001"
    paged = client.get(f"{BASE}/warnings", {"limit": 1}, **auth(iworld.dispatcher)).json()
    assert len(paged["items"]) == 1 and paged["next_cursor"]
    # outside the town centre's scope: 404; empty note: 422; then done, then 422 again
    url = f"{BASE}/warnings/{other.pk}/acknowledge"
    missing = client.post(url, json.dumps({"note": "x"}), content_type="application/json", **town)
    assert missing.status_code == 404
    url = f"{BASE}/warnings/{own.pk}/acknowledge"
    empty = client.post(url, json.dumps({"note": " "}), content_type="application/json", **town)
    assert empty.status_code == 422 and empty.json()["errors"][0]["field"] == "note"
    no_body = client.post(url, "{}", content_type="application/json", **town)
    assert no_body.status_code == 422
    done = client.post(
        url, json.dumps({"note": "已核实，已督促处置"}), content_type="application/json", **town
    )
    assert done.status_code == 200, done.content
    assert (
        done.json()["state"] == "acknowledged"
        and done.json()["acknowledged_by"] == iworld.town_dispatcher.name
    )
    again = client.post(url, json.dumps({"note": "再次"}), content_type="application/json", **town)
    assert again.status_code == 422
    assert IncidentWarning.objects.get(pk=own.pk).note == "已核实，已督促处置"
    forbidden = client.post(
        url, json.dumps({"note": "x"}), content_type="application/json", **auth(iworld.cgj_handler)
    )
    assert forbidden.status_code == 403
    assert client.post(url, json.dumps({"note": "x"}), content_type="application/json").status_code == 401


def test_bad_warning_filter_is_422(client, iworld, clock):
    clock.moment += timedelta(hours=1)
    response = client.get(f"{BASE}/warnings", {"kind": "storm"}, **auth(iworld.dispatcher))
    assert response.status_code == 422
