"""API /api/collab/indicators: library CRUD (TASK_ISSUE), values scoped to the caller's unit, compute on demand
opening a task, plans, scores, ranking and the xlsx. Forbidden and invalid paths answer problem+json."""

from __future__ import annotations

import io
import itertools
import json
import uuid
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from tests.cases.factories import at
from tests.collab.world import build_collab_world, principal
from yiwang.collab.models import Indicator, IndicatorValue, Task
from yiwang.collab.services.indicators import indicator_compute, indicator_create
from yiwang.incidents.models import Incident

pytestmark = pytest.mark.django_db

BASE = "/api/collab/indicators"
_seq = itertools.count(1)


@pytest.fixture
def w(db, clock):
    clock.set(2026, 3, 10)
    w = build_collab_world()
    for dept, on_time in ((w.d_scj, False), (w.d_scj, True), (w.d_mzj, True)):
        Incident.objects.create(
            number=f"GDA{next(_seq):08d}",
            channel="hotline",
            title="t",
            description="d",
            town=w.towns[0],
            assigned_department=dept,
            state="closed",
            closed_at=at(2026, 2, 10),
            closed_on_time=on_time,
            satisfaction="satisfied",
        )
    w.indicator = indicator_create(
        actor=principal(w.office),
        code="RX",
        name="12345 按期办结率",
        definition="按期 ÷ 结案",
        metric="hotline_on_time_rate",
        owner_department=w.d_office,
        target=Decimal(95),
        threshold=Decimal(80),
    )
    return w


def _post(client, url, body=None, method="post"):
    return getattr(client, method)(url, json.dumps(body or {}), content_type="application/json")


def _problem(response, status):
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/problem+json")
    return response.json()


def test_library_read_by_any_staff_and_written_by_the_office(client, w, django_assert_max_num_queries):
    body = {
        "code": "CASE-ONTIME",
        "name": "办件按期办结率",
        "definition": "按期办结 ÷ 办结",
        "metric": "case_on_time_rate",
        "owner_department": "ZSJ",
        "target": 98,
        "threshold": 90,
    }
    client.force_login(w.village_clerks[0].account)
    with django_assert_max_num_queries(8):
        data = client.get(BASE).json()
    assert [i["code"] for i in data["items"]] == ["RX"]
    assert client.get(f"{BASE}/RX").json()["owner_department"]["code"] == "ZFB"
    assert client.get(f"{BASE}/{w.indicator.public_id}").json()["code"] == "RX"
    _problem(client.get(f"{BASE}/{uuid.uuid4()}"), 404)
    _problem(_post(client, BASE, body), 403)
    metrics = client.get(f"{BASE}/metrics").json()
    assert "tasks_overdue" in {m["code"] for m in metrics}

    client.force_login(w.office.account)
    created = _post(client, BASE, body)
    assert created.status_code == 201, created.content
    assert created.json()["unit"] == "%" and created.json()["direction"] == "higher"
    errors = _problem(_post(client, BASE, {**body, "code": "BAD", "threshold": 99, "metric": "nope"}), 422)
    assert {e["field"] for e in errors["errors"]} >= {"metric"}
    _problem(_post(client, BASE, {**body, "code": "OTHER", "owner_department": "NOPE"}), 422)
    patched = _post(client, f"{BASE}/CASE-ONTIME", {"threshold": 85, "is_active": False}, method="patch")
    assert patched.status_code == 200 and patched.json()["threshold"] == "85.00"
    assert not Indicator.objects.get(code="CASE-ONTIME").is_active


def test_compute_opens_a_task_and_values_are_scoped(client, w):
    client.force_login(w.scj_head.account)
    _problem(_post(client, f"{BASE}/RX/compute", {"period_start": "2026-02-01"}), 403)
    client.force_login(w.office.account)
    response = _post(client, f"{BASE}/RX/compute", {"period_start": "2026-02-14"})
    assert response.status_code == 200, response.content
    data = response.json()
    assert data["period_start"] == "2026-02-01" and data["period_end"] == "2026-02-28"
    assert data["breached"] == 1 and [t["lead_department"] for t in data["tasks_opened"]] == ["SCJ"]
    again = _post(client, f"{BASE}/RX/compute", {"period_start": "2026-02-14"}).json()
    assert again["tasks_opened"] == [] and Task.objects.count() == 1
    _problem(_post(client, f"{BASE}/RX/compute", {"period_start": "2026-13-01"}), 422)
    _problem(_post(client, f"{BASE}/RX/compute", {"period_start": "2026-06-01"}), 422)  # not begun

    every = client.get(f"{BASE}/RX/values", {"period_start": "2026-02-01"}).json()["items"]
    assert {v["department"]["code"] for v in every} == {"SCJ", "MZJ", "ZSJ", "ZFB"}
    client.force_login(w.scj_head.account)
    mine = client.get(f"{BASE}/RX/values").json()["items"]
    assert [(v["department"]["code"], v["breached"], v["value"]) for v in mine] == [("SCJ", True, "50.0000")]
    client.force_login(w.village_clerks[0].account)  # a village's unit is its town: no department values
    assert client.get(f"{BASE}/RX/values").json()["items"] == []


def test_values_pages_by_keyset(client, w):
    indicator_compute(
        indicator=w.indicator, period_start=at(2026, 1, 1).date(), period_end=at(2026, 1, 31).date()
    )
    indicator_compute(
        indicator=w.indicator, period_start=at(2026, 2, 1).date(), period_end=at(2026, 2, 28).date()
    )
    client.force_login(w.leader.account)
    first = client.get(f"{BASE}/RX/values", {"limit": 5}).json()
    second = client.get(f"{BASE}/RX/values", {"limit": 5, "cursor": first["next_cursor"]}).json()
    assert len(first["items"]) == 5 and len(second["items"]) == 3 and second["next_cursor"] is None
    assert IndicatorValue.objects.count() == 8
    _problem(client.get(f"{BASE}/RX/values", {"cursor": "@@"}), 422)


def test_plans_scores_and_xlsx(client, w):
    client.force_login(w.office.account)
    created = _post(client, f"{BASE}/plans", {"code": "DEPT", "name": "部门考评", "indicators": ["RX"]})
    assert created.status_code == 201, created.content
    _problem(_post(client, f"{BASE}/plans", {"code": "X2", "name": "x", "indicators": ["NOPE"]}), 422)
    scores = _post(
        client, f"{BASE}/plans/DEPT/compute", {"period_start": "2026-02-01", "period_end": "2026-02-28"}
    ).json()
    assert [(i["department"]["code"], i["rank"]) for i in scores["items"]] == [("MZJ", 1), ("SCJ", 2)]
    patched = _post(client, f"{BASE}/plans/DEPT", {"public_weight": 50}, method="patch").json()
    assert patched["public_weight"] == 50
    _problem(client.get(f"{BASE}/plans/NOPE/scores"), 404)
    response = client.get(f"{BASE}/plans/DEPT/scores.xlsx", {"period_start": "2026-02-01"})
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content)).active
    assert sheet.cell(row=5, column=2).value == "MZJ" and sheet.cell(row=5, column=1).value == 1

    client.force_login(w.scj_head.account)  # their own unit only
    mine = client.get(f"{BASE}/plans/DEPT/scores").json()
    assert [i["department"]["code"] for i in mine["items"]] == ["SCJ"]
    _problem(
        _post(
            client, f"{BASE}/plans/DEPT/compute", {"period_start": "2026-02-01", "period_end": "2026-02-28"}
        ),
        403,
    )
    client.logout()
    assert client.get(BASE).status_code == 401
