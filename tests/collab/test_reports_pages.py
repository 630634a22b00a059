"""Pages of 填表报数 II: the inbox, the fill page (系统预填 with its source, last period's values to reuse, detail
rows), save and submit with field errors, the town's review, the issue page with lights, completeness and the
district aggregate, exports, burden; a sibling's page is 404, a citizen 403."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.collab.reports_world import issue_form, make_form, node
from tests.collab.world import build_collab_world, principal
from tests.factories import AccountFactory
from yiwang.collab.models import FormAssignment
from yiwang.collab.services.reports import assignment_save, assignment_submit

pytestmark = pytest.mark.django_db
S = FormAssignment.Status


@pytest.fixture
def w(db, clock):
    w = build_collab_world()
    w.form = make_form(w.d_mzj, w.mzj_head)
    w.issue = issue_form(
        w,
        w.form,
        issued_by=w.mzj_head,
        prefill=lambda d: {
            "residents": 100,
            "_last": {"issue": "x", "period_label": "上期", "values": {"households": 25, "income": "9.5"}},
        },
    )
    return w


def _login(client, staff):
    client.force_login(staff.account)
    return client


def test_fill_page_save_reuse_submit(client, w):
    _login(client, w.village_clerks[0])
    home = client.get(reverse("collab:reports"))
    a = node(w.issue, w.villages[0])
    assert home.status_code == 200 and str(a.public_id) in home.content.decode()
    url = reverse("collab:report_fill", args=[a.public_id])
    page = client.get(url).content.decode()
    assert (
        "系统预填" in page and 'data-testid="last-value"' in page and 'data-testid="prefill-source"' in page
    )
    response = client.post(
        url, {"action": "save", "v_households": "x", "v_residents": "100", "expected_version": "0"}
    )
    assert response.status_code == 422 and "请输入整数" in response.content.decode()
    response = client.post(url, {"action": "reuse", "expected_version": "0"})
    assert response.status_code == 302
    a = node(w.issue, w.villages[0])
    assert a.values == {"households": 25, "income": "9.5"} and a.status == S.DRAFT
    response = client.post(
        url, {"action": "submit", "v_households": "500", "v_residents": "100", "expected_version": "1"}
    )
    assert response.status_code == 422 and "户数不能多于常住人口" in response.content.decode()
    response = client.post(
        url, {"action": "submit", "v_households": "50", "v_residents": "120", "expected_version": "2"}
    )
    assert response.status_code == 302
    a = node(w.issue, w.villages[0])
    assert a.status == S.SUBMITTED and a.values["residents"] == 120
    # stale version: a message, nothing written
    response = client.post(url, {"action": "save", "v_households": "1", "expected_version": "0"}, follow=True)
    assert "报表已" in response.content.decode()
    # a sibling's page is 404
    assert (
        client.get(reverse("collab:report_fill", args=[node(w.issue, w.villages[1]).public_id])).status_code
        == 404
    )


def test_review_and_issue_pages(client, w):
    clerk = principal(w.village_clerks[0])
    assignment_save(actor=clerk, assignment=node(w.issue, w.villages[0]), values={"households": 40})
    assignment_submit(actor=clerk, assignment=node(w.issue, w.villages[0]))
    a = node(w.issue, w.villages[0])
    _login(client, w.town_heads[0])
    url = reverse("collab:report_review", args=[a.public_id])
    assert 'data-action="approve"' in client.get(url).content.decode()
    response = client.post(url, {"decision": "return", "note": ""})
    assert response.status_code == 422 and "退回时请写明原因" in response.content.decode()
    assert client.post(url, {"decision": "approve"}).status_code == 302
    assert node(w.issue, w.villages[0]).status == S.APPROVED
    # another town cannot open it
    _login(client, w.town_heads[1])
    assert client.get(url).status_code == 404
    _login(client, w.mzj_head)
    page = client.get(reverse("collab:report_issue", args=[w.issue.public_id])).content.decode()
    assert 'data-testid="agg-households">40<' in page and 'data-light="approved"' in page
    assert 'data-testid="reporting-rate">25.0%' in page
    home = client.get(reverse("collab:reports")).content.decode()
    assert reverse("collab:report_issue", args=[w.issue.public_id]) in home
    export = client.get(reverse("collab:report_export", args=[w.issue.public_id, "xlsx"]))
    assert export.status_code == 200 and export["Content-Disposition"].endswith('.xlsx"')
    assert client.get(reverse("collab:report_export", args=[w.issue.public_id, "pdf"])).status_code == 404
    burden = client.get(reverse("collab:report_burden")).content.decode()
    assert w.villages[3].name in burden


def test_rows_table_on_the_fill_page(client, w):
    fields = (
        {"name": "firms", "label": "企业数", "kind": "integer", "aggregate": "sum"},
        {"name": "staff", "label": "从业人员", "kind": "integer", "aggregate": "sum", "per_row": True},
    )
    form = make_form(w.d_scj, w.scj_head, code="F-ROWS", fields=fields, row_source="organisations")
    issue = issue_form(
        w, form, issued_by=w.scj_head, rows=lambda d: [("k1", "甲公司", {"staff": 5}), ("k2", "乙公司", {})]
    )
    a = node(issue, w.villages[0])
    _login(client, w.village_clerks[0])
    url = reverse("collab:report_fill", args=[a.public_id])
    page = client.get(url).content.decode()
    assert 'data-testid="report-rows"' in page and "甲公司" in page
    response = client.post(url, {"action": "save", "v_firms": "2", "r_2_staff": "8", "expected_version": "0"})
    assert response.status_code == 302
    assert a.rows.get(position=2).values == {"staff": 8}


def test_citizen_refused(client, w):
    client.force_login(AccountFactory())
    assert client.get(reverse("collab:reports")).status_code == 403
