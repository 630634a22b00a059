"""API /api/collab/reports: my assignments, detail, save (422 field errors, 409 stale version), submit, review,
overview with lights, aggregate, completeness, burden, export xlsx/CSV; forbidden paths: a sibling village's
assignment is 404, a town cannot approve another town's village (403), an unrelated department sees no issue
(404), anonymous 401; the workbench source lists the same items; bounded queries."""

from __future__ import annotations

import csv
import io
import json

import pytest
from openpyxl import load_workbook

from tests.collab.reports_world import issue_form, make_form, node
from tests.collab.world import build_collab_world, principal
from yiwang.collab.models import FormAssignment
from yiwang.collab.services.reports import assignment_review, assignment_save, assignment_submit
from yiwang.core.models import AuditEntry
from yiwang.core.workbench import TodoQuery, workbench_sources

pytestmark = pytest.mark.django_db
BASE = "/api/collab/reports"


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
            "_last": {"issue": "x", "period_label": "上期", "values": {"households": 25}},
        },
    )
    return w


def _login(client, staff):
    client.force_login(staff.account)
    return client


def _post(client, url, body, **extra):
    return client.post(url, data=json.dumps(body), content_type="application/json", **extra)


def _problem(response, status):
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/problem+json")
    return response.json()


def _approve_all(w):
    for v in range(4):
        actor = principal(w.village_clerks[v])
        assignment_save(actor=actor, assignment=node(w.issue, w.villages[v]), values={"households": 10 + v})
        assignment_submit(actor=actor, assignment=node(w.issue, w.villages[v]))
        assignment_review(
            actor=principal(w.town_heads[v // 2]), assignment=node(w.issue, w.villages[v]), decision="approve"
        )


def test_village_fills_and_submits(client, w):
    _login(client, w.village_clerks[0])
    mine = client.get(f"{BASE}/mine").json()["items"]
    assert [m["unit"]["code"] for m in mine] == [w.villages[0].code] and mine[0]["action"] == "fill"
    url = f"{BASE}/assignments/{mine[0]['id']}"
    detail = client.get(url).json()
    assert detail["prefilled"] == {"residents": 100} and detail["last_period"] == {"households": 25}
    assert detail["values"]["residents"] == 100 and detail["actions"] == ["save", "submit"]
    bad = _problem(_post(client, f"{url}/save", {"values": {"households": "abc"}}), 422)
    assert bad["errors"][0]["field"] == "households" and "整数" in bad["errors"][0]["message"]
    bad_en = _problem(
        _post(client, f"{url}/save", {"values": {"households": "abc"}}, HTTP_ACCEPT_LANGUAGE="en"), 422
    )
    assert bad_en["errors"][0]["field"] == "households"
    saved = _post(client, f"{url}/save", {"values": {"households": 30}, "expected_version": 0})
    assert saved.status_code == 200 and saved.json()["status"] == "draft"
    _problem(_post(client, f"{url}/save", {"values": {}, "expected_version": 0}), 409)
    rule = _post(client, f"{url}/save", {"values": {"households": 300}})
    assert rule.status_code == 200
    bad = _problem(_post(client, f"{url}/submit", {}), 422)
    assert bad["errors"] == [{"field": "households", "message": "户数不能多于常住人口", "code": "invalid"}]
    _post(client, f"{url}/save", {"values": {"households": 30}})
    done = _post(client, f"{url}/submit", {})
    assert done.status_code == 200 and done.json()["status"] == "submitted" and done.json()["on_time"] is True
    _problem(_post(client, f"{url}/submit", {}), 409)
    assert AuditEntry.objects.filter(action="collab.report.submit", object_id=mine[0]["id"]).exists()


def test_forbidden_paths(client, w):
    sibling = node(w.issue, w.villages[1])
    _login(client, w.village_clerks[0])
    _problem(client.get(f"{BASE}/assignments/{sibling.public_id}"), 404)
    _problem(_post(client, f"{BASE}/assignments/{sibling.public_id}/save", {"values": {}}), 404)
    _problem(client.get(f"{BASE}/assignments/00000000-0000-0000-0000-000000000000"), 404)
    _problem(client.get(f"{BASE}/issues/{w.issue.public_id}/aggregate?unit={w.towns[0].code}"), 404)
    # a town cannot review another town's village: it cannot even see it
    actor = principal(w.village_clerks[2])
    assignment_save(actor=actor, assignment=node(w.issue, w.villages[2]), values={"households": 1})
    assignment_submit(actor=actor, assignment=node(w.issue, w.villages[2]))
    _login(client, w.town_heads[0])
    other = node(w.issue, w.villages[2])
    _problem(_post(client, f"{BASE}/assignments/{other.public_id}/review", {"decision": "approve"}), 404)
    # the issuing department sees it but is not the village's reviewer
    _login(client, w.mzj_head)
    _problem(_post(client, f"{BASE}/assignments/{other.public_id}/review", {"decision": "approve"}), 403)
    # another department sees nothing of the issue
    _login(client, w.scj_head)
    _problem(client.get(f"{BASE}/issues/{w.issue.public_id}/overview"), 404)
    client.logout()
    _problem(client.get(f"{BASE}/mine"), 401)


def test_review_overview_aggregate_and_completeness(client, w):
    actor = principal(w.village_clerks[0])
    assignment_save(actor=actor, assignment=node(w.issue, w.villages[0]), values={"households": 40})
    assignment_submit(actor=actor, assignment=node(w.issue, w.villages[0]))
    _login(client, w.town_heads[0])
    mine = client.get(f"{BASE}/mine").json()["items"]
    assert [(m["unit"]["code"], m["action"]) for m in mine] == [(w.villages[0].code, "review")]
    url = f"{BASE}/assignments/{mine[0]['id']}/review"
    bad = _problem(_post(client, url, {"decision": "return"}), 422)
    assert bad["errors"][0]["field"] == "note"
    _problem(_post(client, url, {"decision": "maybe"}), 422)
    ok = _post(client, url, {"decision": "approve"})
    assert ok.status_code == 200 and ok.json()["status"] == "approved"
    _problem(_post(client, url, {"decision": "approve"}), 409)
    town_view = client.get(f"{BASE}/issues/{w.issue.public_id}/overview").json()
    assert [n["unit"]["code"] for n in town_view["nodes"]] == [
        w.towns[0].code,
        w.villages[0].code,
        w.villages[1].code,
    ]
    _login(client, w.mzj_head)
    overview = client.get(f"{BASE}/issues/{w.issue.public_id}/overview").json()
    lights = {n["unit"]["code"]: n["light"] for n in overview["nodes"]}
    assert lights[w.villages[0].code] == "approved" and lights[w.villages[1].code] == "not_started"
    agg = client.get(f"{BASE}/issues/{w.issue.public_id}/aggregate").json()
    figures = {f["name"]: f for f in agg["figures"]}
    assert figures["households"]["value"] == "40" and figures["residents"]["value"] == "100"
    assert agg["approved_units"] == 1 and agg["complete"] is False
    comp = client.get(f"{BASE}/issues/{w.issue.public_id}/completeness").json()
    assert comp["expected"] == 4 and comp["reported"] == 1 and comp["reporting_rate"] == 25.0
    assert comp["on_time_rate"] == 25.0 and len(comp["units"]) == 2


def test_district_complete_and_exports(client, w):
    _approve_all(w)
    _login(client, w.mzj_head)
    agg = client.get(f"{BASE}/issues/{w.issue.public_id}/aggregate").json()
    figures = {f["name"]: f["value"] for f in agg["figures"]}
    assert figures["households"] == "46" and agg["complete"] is True
    town = client.get(f"{BASE}/issues/{w.issue.public_id}/aggregate?unit={w.towns[1].code}").json()
    assert {f["name"]: f["value"] for f in town["figures"]}["households"] == "25"
    response = client.get(f"{BASE}/issues/{w.issue.public_id}/export?format=csv")
    assert response.status_code == 200 and response.content.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0][:2] == ["区划代码", "单位"] and len(rows) == 5 and rows[1][0] == w.villages[0].code
    response = client.get(f"{BASE}/issues/{w.issue.public_id}/export?format=xlsx")
    book = load_workbook(io.BytesIO(response.content))
    sheet = book["填报结果"]
    assert sheet.max_row == 6
    # a village exports only itself
    _login(client, w.village_clerks[0])
    rows = list(
        csv.reader(
            io.StringIO(
                client.get(f"{BASE}/issues/{w.issue.public_id}/export?format=csv").content.decode("utf-8-sig")
            )
        )
    )
    assert len(rows) == 2
    burden = client.get(f"{BASE}/burden").json()
    assert [b["village"]["code"] for b in burden] == [w.villages[0].code]
    assert burden[0]["forms"] == 1 and burden[0]["prefilled_share"] == round(100 / 7, 1)


def test_workbench_source_lists_fill_and_review(w):
    source = next(s for s in workbench_sources() if s.id == "collab.reports")
    clerk = principal(w.village_clerks[0])
    assert source.applies(clerk)
    items = source.items(clerk, TodoQuery())
    assert [i.action for i in items] == ["填报"] and source.count(clerk) == 1
    assignment_save(actor=clerk, assignment=node(w.issue, w.villages[0]), values={"households": 2})
    assignment_submit(actor=clerk, assignment=node(w.issue, w.villages[0]))
    assert source.items(clerk, TodoQuery()) == []
    head = principal(w.town_heads[0])
    items = source.items(head, TodoQuery())
    assert [i.action for i in items] == ["审核"] and items[0].url.endswith("/review/")


def test_lists_are_bounded(client, w, django_assert_max_num_queries):
    form2 = make_form(w.d_mzj, w.mzj_head, code="F-TWO")
    issue_form(w, form2, issued_by=w.mzj_head)
    _approve_all(w)
    _login(client, w.mzj_head)
    client.get(f"{BASE}/mine")
    with django_assert_max_num_queries(12):
        assert len(client.get(f"{BASE}/mine").json()["items"]) == 2  # the two towns' rollups
    with django_assert_max_num_queries(14):
        assert len(client.get(f"{BASE}/issues/{w.issue.public_id}/overview").json()["nodes"]) == 7
    assert FormAssignment.objects.count() == 14
