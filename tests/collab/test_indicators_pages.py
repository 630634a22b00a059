"""Pages: the library, an indicator's values with breach lights and the tasks it opened (compute button for the
office), the performance scorecard with its chart data and xlsx export; the admin's indicator pages."""

from __future__ import annotations

import io
import itertools
from datetime import date
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from tests.cases.factories import at
from tests.collab.world import build_collab_world, principal
from yiwang.collab.models import Task
from yiwang.collab.services.indicators import indicator_create
from yiwang.collab.services.performance import performance_compute, plan_create
from yiwang.incidents.models import Incident

pytestmark = pytest.mark.django_db
_seq = itertools.count(1)


@pytest.fixture
def w(db, clock):
    clock.set(2026, 3, 10)
    w = build_collab_world()
    for dept, on_time in ((w.d_scj, False), (w.d_mzj, True)):
        Incident.objects.create(
            number=f"GDV{next(_seq):08d}",
            channel="hotline",
            title="t",
            description="d",
            town=w.towns[0],
            assigned_department=dept,
            state="closed",
            closed_at=at(2026, 2, 10),
            closed_on_time=on_time,
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


def test_library_page(client, w, django_assert_max_num_queries):
    client.force_login(w.village_clerks[0].account)
    with django_assert_max_num_queries(12):
        response = client.get("/collab/indicators/")
    assert response.status_code == 200
    assert 'data-code="RX"' in response.content.decode()
    assert client.get("/collab/indicators/", {"scope": "town"}).content.decode().count('data-code="RX"') == 0
    assert client.get("/collab/indicators/", {"cursor": "@@"}).status_code == 302


def test_office_computes_on_the_page_and_follows_to_the_task(client, w):
    client.force_login(w.office.account)
    page = client.get("/collab/indicators/RX/", {"period": "2026-02-10"})
    assert page.status_code == 200 and 'data-testid="compute"' in page.content.decode()
    response = client.post("/collab/indicators/RX/compute", {"period": "2026-02-10"})
    assert response.status_code == 302 and response["Location"].endswith("?period=2026-02-01")
    task = Task.objects.get(indicator=w.indicator)
    html = client.get(response["Location"]).content.decode()
    assert 'data-unit="SCJ" data-breached="1"' in html and 'data-unit="MZJ" data-breached="0"' in html
    assert f"/collab/tasks/{task.public_id}/" in html and "light-breach" in html
    assert 'id="indicator-trend-data"' in html


def test_a_unit_sees_only_its_own_value_and_no_compute_button(client, w):
    client.force_login(w.office.account)
    client.post("/collab/indicators/RX/compute", {"period": "2026-02-10"})
    client.force_login(w.mzj_head.account)
    html = client.get("/collab/indicators/RX/", {"period": "2026-02-01"}).content.decode()
    assert 'data-unit="MZJ"' in html and 'data-unit="SCJ"' not in html
    assert 'data-testid="compute"' not in html
    assert client.post("/collab/indicators/RX/compute", {"period": "2026-02-10"}).status_code == 403
    assert client.get("/collab/indicators/NOPE/").status_code == 404


def test_performance_page_chart_and_export(client, w):
    plan = plan_create(actor=principal(w.office), code="DEPT", name="部门考评", indicators=[w.indicator])
    client.force_login(w.leader.account)
    empty = client.get("/collab/performance/", {"plan": "DEPT", "period": "2026-02-01"}).content.decode()
    assert 'data-testid="not-computed"' in empty
    response = client.post("/collab/performance/compute", {"plan": "DEPT", "period": "2026-02-01"})
    assert response.status_code == 302
    html = client.get(response["Location"]).content.decode()
    assert 'data-unit="MZJ" data-rank="1"' in html and 'id="performance-bar-data"' in html
    export = client.get("/collab/performance/export.xlsx", {"plan": "DEPT", "period": "2026-02-01"})
    assert export.status_code == 200
    assert load_workbook(io.BytesIO(export.content)).active.cell(row=5, column=2).value == "MZJ"
    client.force_login(w.scj_head.account)
    mine = client.get("/collab/performance/", {"plan": "DEPT", "period": "2026-02-01"}).content.decode()
    assert 'data-unit="SCJ"' in mine and 'data-unit="MZJ"' not in mine
    assert client.post("/collab/performance/compute", {"plan": "DEPT"}).status_code == 403
    assert performance_compute(plan=plan, period_start=date(2026, 2, 1), period_end=date(2026, 2, 28))


def test_pages_need_a_login(client, w):
    assert client.get("/collab/indicators/").status_code == 302
    assert client.get("/collab/performance/").status_code == 302


def test_admin_lists_indicators_for_the_office(client, w):
    w.office.account.is_staff = True
    w.office.account.save(update_fields=["is_staff"])
    client.force_login(w.office.account)
    assert client.get("/admin/collab/indicator/").status_code == 200
    assert client.get(f"/admin/collab/indicator/{w.indicator.pk}/change/").status_code == 200
