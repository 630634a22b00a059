# ruff: noqa: F811  (the shared world fixtures are imported, then named as test arguments)
"""API /api/datahub/scorecard: periods, rankings, a department's breakdown and trend, the xlsx, recompute and
weights (the centre), the CDO roster CRUD. Forbidden and invalid paths answer problem+json and write nothing."""

from __future__ import annotations

import io
import json

import pytest
from openpyxl import load_workbook

from tests.datahub.world_scorecard import PERIOD, TOTALS, add_departments, sworld  # noqa: F401
from yiwang.core.models import AuditEntry
from yiwang.datahub.models import CdoAppointment, Scorecard
from yiwang.datahub.services.scorecard import scorecard_compute

pytestmark = pytest.mark.django_db

BASE = "/api/datahub/scorecard"


def _problem(response, status):
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/problem+json")
    return response.json()


def _post(client, url, body=None, **extra):
    return client.post(url, json.dumps(body or {}), content_type="application/json", **extra)


@pytest.fixture
def computed(sworld):
    scorecard_compute(actor=sworld.centre_principal, period="2025-Q4")
    scorecard_compute(actor=sworld.centre_principal, period=PERIOD)
    return sworld


def test_periods_and_ranking_for_a_data_officer(client, computed, django_assert_max_num_queries):
    client.force_login(computed.steward_b.account)
    periods = client.get(f"{BASE}/periods").json()
    by_code = {p["period"]: p for p in periods}
    assert by_code[PERIOD]["computed"] and by_code[PERIOD]["departments"] == 4
    assert by_code["2026"]["computed"] is False  # this year is offered before it is computed
    with django_assert_max_num_queries(10):  # session and caller (4-6), the cards, the weights
        response = client.get(f"{BASE}/periods/{PERIOD}")
    assert response.status_code == 200
    data = response.json()
    assert [(i["department"]["code"], i["rank"], i["total"]) for i in data["items"]] == [
        ("SA", 1, 67.25),
        ("SB", 2, 30.71),
        ("SC", 3, 0.0),
        ("SD", 3, 0.0),
    ]
    sb = {m["metric"]: m for m in data["items"][1]["metrics"]}
    assert sb["share_response"]["score"] is None and sb["share_response"]["value_text"] == "无数据"
    assert "权重按比例分配" in sb["share_response"]["summary"]
    sa = {m["metric"]: m for m in data["items"][0]["metrics"]}
    assert sa["share_response"]["value_text"] == "132.0 小时" and sa["open_data"]["value_text"] == "3 个"
    assert len(data["weights"]) == 8 and data["period"]["label"] == "2026 年第 1 季度"


def test_ranking_query_count_does_not_grow_with_departments(client, sworld, django_assert_max_num_queries):
    add_departments(15, sworld.district)
    scorecard_compute(actor=sworld.centre_principal, period=PERIOD)
    client.force_login(sworld.steward_a.account)
    with django_assert_max_num_queries(10):
        response = client.get(f"{BASE}/periods/{PERIOD}")
    assert len(response.json()["items"]) == 19


def test_ranking_in_english(client, computed):
    client.force_login(computed.steward_a.account)
    data = client.get(f"{BASE}/periods/{PERIOD}", HTTP_ACCEPT_LANGUAGE="en").json()
    sb = {m["metric"]: m for m in data["items"][1]["metrics"]}
    assert sb["share_response"]["value_text"] == "No data"
    problem = _problem(client.get(f"{BASE}/periods/2026-Q9", HTTP_ACCEPT_LANGUAGE="en"), 422)
    assert problem["errors"][0]["field"] == "period" and "2026-Q4" in problem["errors"][0]["message"]
    assert "考核" not in problem["errors"][0]["message"]


def test_department_detail_and_trend(client, computed, django_assert_max_num_queries):
    client.force_login(computed.steward_b.account)  # another department's officer sees SA too (通报)
    with django_assert_max_num_queries(12):  # session and caller, department, card, trend, sizes
        response = client.get(f"{BASE}/periods/{PERIOD}/departments/SA")
    data = response.json()
    assert data["card"]["total"] == 67.25 and data["ranked"] == 4
    assert [p["period"] for p in data["trend"]] == ["2025-Q4", PERIOD]
    _problem(client.get(f"{BASE}/periods/{PERIOD}/departments/ZX"), 404)  # not ranked
    _problem(client.get(f"{BASE}/periods/{PERIOD}/departments/NOPE"), 404)


def test_export_reads_back(client, computed):
    client.force_login(computed.steward_a.account)
    response = client.get(f"{BASE}/periods/{PERIOD}/export")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert f"scorecard-{PERIOD}.xlsx" in response["Content-Disposition"]
    book = load_workbook(io.BytesIO(response.content))
    sheet = book.worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    assert "数据治理考核通报" in rows[0][0]
    header = rows[3]
    assert header[:3] == ("排名", "部门编码", "部门") and header[-1] == "总分" and len(header) == 12
    body = rows[4:]
    assert [(r[0], r[1], r[-1]) for r in body] == [
        (1, "SA", 67.25),
        (2, "SB", 30.71),
        (3, "SC", 0),
        (3, "SD", 0),
    ]
    share_column = header.index("共享申请响应时效")
    assert body[0][share_column] == 50 and body[1][share_column] == "无数据"
    assert book.worksheets[1].cell(row=2, column=1).value == "普查完成度"


def test_compute_only_by_the_centre(client, sworld):
    url = f"{BASE}/periods/{PERIOD}/compute"
    _problem(_post(client, url), 401)
    for staff in (sworld.steward_a, sworld.clerk):
        client.force_login(staff.account)
        _problem(_post(client, url), 403)
    client.force_login(sworld.citizen)
    _problem(_post(client, url), 403)
    _problem(client.get(f"{BASE}/periods"), 403)
    assert not Scorecard.objects.exists()
    client.force_login(sworld.centre.account)
    data = _post(client, url).json()
    assert data["departments"] == 4 and data["period"]["computed"]
    problem = _problem(_post(client, f"{BASE}/periods/2026-Q3/compute"), 422)
    assert problem["errors"][0]["field"] == "period" and "尚未开始" in problem["errors"][0]["message"]
    _problem(_post(client, f"{BASE}/periods/abc/compute"), 422)


def test_weights_read_and_set(client, sworld):
    client.force_login(sworld.steward_a.account)
    weights = {w["metric"]: w for w in client.get(f"{BASE}/weights").json()}
    assert weights["quality"]["weight"] == 20 and weights["open_data"]["target"] == 10
    _problem(client.put(f"{BASE}/weights/quality", {"weight": 30}, content_type="application/json"), 403)
    client.force_login(sworld.centre.account)
    ok = client.put(f"{BASE}/weights/quality", {"weight": 30}, content_type="application/json")
    assert ok.status_code == 200 and ok.json()["weight"] == 30
    bad = _problem(
        client.put(f"{BASE}/weights/quality", {"weight": 300}, content_type="application/json"), 422
    )
    assert bad["errors"][0]["field"] == "weight" and "0 到 100" in bad["errors"][0]["message"]
    no_target = _problem(
        client.put(
            f"{BASE}/weights/open_data", {"weight": 5, "target": None}, content_type="application/json"
        ),
        422,
    )
    assert "满分目标" in no_target["errors"][0]["message"]
    _problem(client.put(f"{BASE}/weights/nope", {"weight": 5}, content_type="application/json"), 422)
    assert AuditEntry.objects.filter(action="datahub.scorecard.weight").count() == 1


def _cdo_body(world, **kw):
    body = {
        "level": "department",
        "department": "SA",
        "staff": str(world.head_a.public_id),
        "title": "首席数据官",
        "appointed_on": "2026-01-05",
    }
    body.update(kw)
    return body


def test_cdo_roster_crud(client, sworld, django_assert_max_num_queries):
    client.force_login(sworld.centre.account)
    created = _post(client, f"{BASE}/cdos", _cdo_body(sworld))
    assert created.status_code == 201, created.content
    cdo = created.json()
    assert cdo["department"]["code"] == "SA" and cdo["serving"] and cdo["level_label"] == "部门首席数据官"
    taken = _problem(
        _post(client, f"{BASE}/cdos", _cdo_body(sworld, staff=str(sworld.staff_a1.public_id))), 422
    )
    assert taken["errors"][0]["field"] == "staff" and "已有在任人员" in taken["errors"][0]["message"]
    _post(
        client,
        f"{BASE}/cdos",
        _cdo_body(sworld, level="deputy", staff=str(sworld.steward_a.public_id), title="数据专员"),
    )
    _post(
        client,
        f"{BASE}/cdos",
        _cdo_body(
            sworld,
            level="district",
            department=None,
            staff=str(sworld.centre.public_id),
            title="区首席数据官",
        ),
    )
    patched = client.patch(
        f"{BASE}/cdos/{cdo['id']}", {"title": "分管副局长", "duties": "统筹"}, content_type="application/json"
    )
    assert patched.json()["title"] == "分管副局长"
    client.force_login(sworld.steward_b.account)  # every data officer reads the roster
    with django_assert_max_num_queries(9):
        page = client.get(f"{BASE}/cdos", {"limit": 2}).json()
    assert len(page["items"]) == 2 and page["next_cursor"]
    rest = client.get(f"{BASE}/cdos", {"limit": 2, "cursor": page["next_cursor"]}).json()
    assert len(rest["items"]) == 1 and rest["next_cursor"] is None
    assert client.get(f"{BASE}/cdos/{cdo['id']}").json()["staff"]["name"] == sworld.head_a.name
    _problem(_post(client, f"{BASE}/cdos/{cdo['id']}/end", {}), 403)
    client.force_login(sworld.centre.account)
    ended = _post(client, f"{BASE}/cdos/{cdo['id']}/end", {"note": "调动"}).json()
    assert ended["ended_on"] == "2026-03-02" and not ended["serving"]
    _problem(_post(client, f"{BASE}/cdos/{cdo['id']}/end", {}), 422)
    assert [a["id"] for a in client.get(f"{BASE}/cdos", {"status": "ended"}).json()["items"]] == [cdo["id"]]
    assert AuditEntry.objects.filter(object_type="cdo").count() == 5


def test_cdo_forbidden_and_invalid(client, sworld):
    _problem(client.get(f"{BASE}/cdos"), 401)
    client.force_login(sworld.citizen)
    _problem(client.get(f"{BASE}/cdos"), 403)
    client.force_login(sworld.head_a.account)  # a department head without the data officer's permission
    _problem(client.get(f"{BASE}/cdos"), 403)
    client.force_login(sworld.steward_a.account)
    _problem(_post(client, f"{BASE}/cdos", _cdo_body(sworld)), 403)
    _problem(client.get(f"{BASE}/cdos/00000000-0000-0000-0000-000000000000"), 404)
    _problem(client.get(f"{BASE}/cdos", {"status": "nope"}), 422)
    client.force_login(sworld.centre.account)
    for body, field in (
        (_cdo_body(sworld, appointed_on="2026-13-40"), "appointed_on"),
        (_cdo_body(sworld, department="NOPE"), "department"),
        (_cdo_body(sworld, staff="00000000-0000-0000-0000-000000000000"), "staff"),
        (_cdo_body(sworld, staff=str(sworld.steward_b.public_id)), "staff"),
        (_cdo_body(sworld, title=""), "title"),
    ):
        problem = _problem(_post(client, f"{BASE}/cdos", body), 422)
        assert problem["errors"][0]["field"] == field, problem
    english = _problem(
        _post(client, f"{BASE}/cdos", _cdo_body(sworld, title=""), HTTP_ACCEPT_LANGUAGE="en"), 422
    )
    assert english["errors"][0]["message"] == "Please enter the title."
    assert not CdoAppointment.objects.exists()
