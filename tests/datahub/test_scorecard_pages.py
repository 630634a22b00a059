# ruff: noqa: F811  (the shared world fixtures are imported, then named as test arguments)
"""Pages of 数据治理考核 and the CDO roster: the ranking with its chart data, a department's breakdown and trend,
recompute and weights (the centre), the xlsx, the roster with appoint / edit / end and the HTMX staff options."""

from __future__ import annotations

import io
import json
from datetime import date

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from tests.datahub.world_scorecard import PERIOD, sworld  # noqa: F401
from yiwang.core.models import AuditEntry
from yiwang.datahub.models import CdoAppointment, Scorecard, ScoreWeight
from yiwang.datahub.services.scorecard import cdo_appoint, scorecard_compute

pytestmark = pytest.mark.django_db


@pytest.fixture
def computed(sworld):
    scorecard_compute(actor=sworld.centre_principal, period="2025-Q4")
    scorecard_compute(actor=sworld.centre_principal, period=PERIOD)
    return sworld


def _chart(html: str, element_id: str) -> dict:
    start = html.index(f'id="{element_id}"')
    body = html[html.index(">", start) + 1 : html.index("</script>", start)]
    return json.loads(body)


def test_home_goes_to_the_latest_computed_period(client, computed):
    client.force_login(computed.steward_a.account)
    response = client.get(reverse("datahub:scorecard_home"))
    assert response.status_code == 302 and response["Location"].endswith(f"/scorecard/{PERIOD}/")
    picked = client.get(reverse("datahub:scorecard_home"), {"period": "2025-Q4"})
    assert picked["Location"].endswith("/scorecard/2025-Q4/")
    bad = client.get(reverse("datahub:scorecard_home"), {"period": "2025-Q7"}, follow=True)
    assert "考核周期格式" in bad.content.decode()


def test_ranking_page_for_a_data_officer(client, computed, django_assert_max_num_queries):
    client.force_login(computed.steward_b.account)
    url = reverse("datahub:scorecard_period", args=[PERIOD])
    with django_assert_max_num_queries(14):
        response = client.get(url)
    html = response.content.decode()
    assert response.status_code == 200
    assert "甲局" in html and "乙局" in html and "无数据" in html and "67.25" in html
    assert 'data-department="SC" data-rank="3"' in html and 'data-department="SD" data-rank="3"' in html
    chart = _chart(html, "scorecard-bar-data")
    assert chart["departments"][:2] == ["甲局", "乙局"] and chart["totals"][0] == 67.25
    assert "echarts.min.js" in html and 'data-testid="export"' in html
    assert 'data-testid="recompute"' not in html  # only the centre recomputes


def test_an_uncomputed_period_says_so(client, sworld):
    client.force_login(sworld.centre.account)
    html = client.get(reverse("datahub:scorecard_period", args=["2026"])).content.decode()
    assert 'data-testid="not-computed"' in html and 'data-testid="recompute"' in html
    assert client.get("/data/scorecard/2026-Q7/").status_code == 404


def test_recompute_by_the_centre_only(client, sworld):
    url = reverse("datahub:scorecard_recompute", args=[PERIOD])
    client.force_login(sworld.steward_a.account)
    assert client.post(url).status_code == 403
    assert not Scorecard.objects.exists()
    client.force_login(sworld.centre.account)
    response = client.post(url, follow=True)
    assert "4 个部门参加排名" in response.content.decode()
    assert Scorecard.objects.filter(period=PERIOD).count() == 4
    future = client.post(reverse("datahub:scorecard_recompute", args=["2026-Q4"]), follow=True)
    assert "尚未开始" in future.content.decode()


def test_department_page_with_breakdown_and_trend(client, computed):
    client.force_login(computed.steward_b.account)
    response = client.get(reverse("datahub:scorecard_department", args=[PERIOD, "SA"]))
    html = response.content.decode()
    assert response.status_code == 200 and "67.25" in html and "132.0 小时" in html
    assert 'data-metric="share_response"' in html
    chart = _chart(html, "scorecard-department-data")
    assert chart["periods"] == ["2025-Q4", PERIOD] and chart["totals"][-1] == 67.25
    sb = client.get(reverse("datahub:scorecard_department", args=[PERIOD, "SB"])).content.decode()
    assert "权重按比例分配给其他指标" in sb
    assert client.get(reverse("datahub:scorecard_department", args=[PERIOD, "ZX"])).status_code == 404


def test_department_page_in_english(client, computed):
    client.force_login(computed.steward_a.account)
    html = client.get(
        reverse("datahub:scorecard_department", args=[PERIOD, "SB"]), HTTP_ACCEPT_LANGUAGE="en"
    ).content.decode()
    assert "No data" in html and "Trend over the periods" in html


def test_export_page(client, computed):
    client.force_login(computed.steward_a.account)
    response = client.get(reverse("datahub:scorecard_export", args=[PERIOD]))
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content)).worksheets[0]
    assert sheet.cell(row=5, column=2).value == "SA" and sheet.cell(row=5, column=12).value == 67.25


def test_who_may_open_the_pages(client, sworld):
    url = reverse("datahub:scorecard_period", args=[PERIOD])
    response = client.get(url)
    assert response.status_code == 302 and "login" in response["Location"]
    for account in (sworld.clerk.account, sworld.head_a.account, sworld.citizen):
        client.force_login(account)
        assert client.get(url).status_code == 403
        assert client.get(reverse("datahub:cdo_roster")).status_code == 403
    client.force_login(sworld.steward_a.account)
    assert client.get(reverse("datahub:cdo_new")).status_code == 403
    assert client.get(reverse("datahub:cdo_staff_options")).status_code == 403


def test_weights_page_read_only_for_officers_and_editable_by_the_centre(client, sworld):
    url = reverse("datahub:scorecard_weights")
    client.force_login(sworld.steward_a.account)
    html = client.get(url).content.decode()
    assert "数据质量得分" in html and 'name="quality_weight"' not in html
    assert client.post(url, {"quality_weight": "30"}).status_code == 403
    client.force_login(sworld.centre.account)
    form = {}
    for metric, weight in (
        ("census", 15),
        ("catalogue", 15),
        ("timeliness", 10),
        ("quality", 30),
        ("share_response", 10),
        ("grants_used", 10),
        ("open_data", 0),
        ("corrections", 10),
    ):
        form[f"{metric}_weight"] = str(weight)
        form[f"{metric}_is_active"] = "on"
    form["open_data_target"] = ""
    invalid = client.post(url, form)
    assert invalid.status_code == 200 and "计数类指标须填写满分目标" in invalid.content.decode()
    assert not ScoreWeight.objects.exists()
    form["open_data_target"] = "20"
    assert client.post(url, form).status_code == 302
    weights = {w.metric: w for w in ScoreWeight.objects.all()}
    assert weights["quality"].weight == 30 and weights["open_data"].target == 20
    assert AuditEntry.objects.filter(action="datahub.scorecard.weight").count() == 2
    form["quality_weight"] = "130"
    assert "quality_weight" in client.post(url, form).content.decode()


def test_roster_appoint_edit_and_end(client, sworld):
    client.force_login(sworld.centre.account)
    new = client.get(reverse("datahub:cdo_new"))
    assert new.status_code == 200 and 'hx-get="/data/cdo/staff-options/"' in new.content.decode()
    options = client.get(reverse("datahub:cdo_staff_options"), {"department": "SA"}).content.decode()
    assert str(sworld.head_a.public_id) in options and str(sworld.staff_a1.public_id) in options
    assert str(sworld.steward_b.public_id) not in options
    form = {
        "level": "department",
        "department": "SA",
        "staff": str(sworld.head_a.public_id),
        "title": "首席数据官",
        "appointed_on": "2026-01-05",
    }
    assert client.post(reverse("datahub:cdo_new"), form).status_code == 302
    taken = client.post(reverse("datahub:cdo_new"), {**form, "staff": str(sworld.staff_a1.public_id)})
    assert taken.status_code == 200 and "已有在任人员" in taken.content.decode()
    bogus = client.post(reverse("datahub:cdo_new"), {**form, "staff": "not-a-uuid"})
    assert "请选择人员" in bogus.content.decode()
    client.force_login(sworld.steward_b.account)
    roster = client.get(reverse("datahub:cdo_roster")).content.decode()
    assert sworld.head_a.name in roster and 'data-testid="cdo-new"' not in roster
    appointment = CdoAppointment.objects.get()
    detail = reverse("datahub:cdo_edit", args=[appointment.public_id])
    assert client.get(detail).status_code == 200
    assert client.post(detail, {"title": "x"}).status_code == 403
    client.force_login(sworld.centre.account)
    assert client.post(detail, {"title": "分管副局长", "duties": "统筹"}).status_code == 302
    end_url = reverse("datahub:cdo_end", args=[appointment.public_id])
    early = client.post(end_url, {"ended_on": "2025-12-01"})
    assert early.status_code == 422 and "不能早于任命日期" in early.content.decode()
    assert client.post(end_url, {"ended_on": "2026-03-01", "note": "调动"}).status_code == 302
    appointment.refresh_from_db()
    assert appointment.title == "分管副局长" and appointment.ended_on == date(2026, 3, 1)
    ended = client.get(reverse("datahub:cdo_roster"), {"status": "ended"}).content.decode()
    assert str(appointment.public_id) in ended and "2026-03-01" in ended


def test_roster_lists_the_district_cdo_first(client, sworld, django_assert_max_num_queries):
    centre = sworld.centre_principal
    cdo_appoint(
        actor=centre,
        level="department",
        department=sworld.sb,
        staff=sworld.steward_b,
        title="乙",
        appointed_on=date(2026, 1, 1),
    )
    cdo_appoint(
        actor=centre,
        level="district",
        department=None,
        staff=sworld.centre,
        title="区首席数据官",
        appointed_on=date(2026, 1, 1),
    )
    client.force_login(sworld.steward_a.account)
    with django_assert_max_num_queries(10):
        html = client.get(reverse("datahub:cdo_roster")).content.decode()
    assert html.index('data-level="district"') < html.index('data-level="department"')
