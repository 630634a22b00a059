"""API /api/collab/forms: register CRUD, admission, XLSForm import/export, issuing; forbidden paths; problem+json."""

from __future__ import annotations

import io
import json

import pytest
from openpyxl import load_workbook

from tests.collab.forms_world import admitted_form, draft_form, monthly_fields
from tests.collab.test_forms_xlsform import CHOICES, GOOD, workbook
from tests.collab.world import build_collab_world
from yiwang.collab.models import FormAssignment, FormIssue, ReportForm

pytestmark = pytest.mark.django_db
BASE = "/api/collab/forms"


@pytest.fixture
def w(db, clock):
    return build_collab_world()


def _login(client, staff):
    client.force_login(staff.account)
    return client


def _send(client, method, url, body=None, **extra):
    return getattr(client, method)(url, data=json.dumps(body or {}), content_type="application/json", **extra)


def _problem(response, status):
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/problem+json")
    return response.json()


def _create_body(code="CJYB"):
    return {
        "code": code,
        "name": "村（社区）基本情况月报",
        "purpose": "掌握基本情况",
        "legal_basis": "《基层减负方案》",
        "frequency": "monthly",
        "target_level": 3,
        "fields": monthly_fields(),
    }


def test_full_flow(client, w):
    _login(client, w.office)
    r = _send(client, "post", BASE, _create_body())
    assert r.status_code == 201, r.content
    form = r.json()
    assert form["status"] == "draft" and len(form["fields"]) == 6 and form["may_manage"]
    ref = form["id"]
    r = _send(client, "patch", f"{BASE}/{ref}", {"name": "村（社区）基本情况月报（2026）"})
    assert r.status_code == 200 and r.json()["name"].endswith("（2026）")
    r = _send(client, "post", f"{BASE}/{ref}/submit")
    assert r.status_code == 200 and r.json()["status"] == "submitted"
    assert r.json()["review_findings"]["summary"]["held"] == 3
    _login(client, w.centre)
    queue = client.get(f"{BASE}/admission").json()
    assert [f["code"] for f in queue["items"]] == ["CJYB"]
    r = _send(client, "post", f"{BASE}/{ref}/admit", {"decision": "approve"})
    assert r.json()["status"] == "approved"
    _login(client, w.office)
    r = _send(
        client,
        "post",
        f"{BASE}/CJYB/issues",
        {
            "period_label": "2026年2月",
            "period_start": "2026-02-01",
            "period_end": "2026-02-28",
            "due_on": "2026-03-10",
        },
    )
    assert r.status_code == 201, r.content
    assert r.json()["units_count"] == 4 and r.json()["root_division"] == w.district.code
    assert FormAssignment.objects.filter(issue__public_id=r.json()["id"]).count() == 7
    issues = client.get(f"{BASE}/CJYB/issues").json()
    assert [i["period_label"] for i in issues["items"]] == ["2026年2月"]


def test_list_scopes(client, w):
    draft_form(w, code="OWN")
    admitted_form(w, code="ADM")
    draft_form(w, code="SCJ1", actor=w.scj_head)
    _login(client, w.office)
    assert {f["code"] for f in client.get(BASE).json()["items"]} == {"OWN", "ADM"}
    _login(client, w.scj_head)
    assert {f["code"] for f in client.get(BASE).json()["items"]} == {"ADM", "SCJ1"}
    _login(client, w.village_clerks[0])
    assert {f["code"] for f in client.get(BASE).json()["items"]} == {"ADM"}
    _login(client, w.centre)
    assert {f["code"] for f in client.get(BASE).json()["items"]} == {"ADM"}


def test_another_departments_draft_is_404(client, w):
    form = draft_form(w, code="SCJ1", actor=w.scj_head)
    _login(client, w.office)
    _problem(client.get(f"{BASE}/{form.public_id}"), 404)
    _problem(_send(client, "patch", f"{BASE}/{form.public_id}", {"name": "x"}), 404)
    _problem(_send(client, "post", f"{BASE}/{form.public_id}/submit"), 404)
    _problem(client.get(f"{BASE}/00000000-0000-0000-0000-000000000000"), 404)


def test_another_department_cannot_edit_or_issue_admitted(client, w):
    form = admitted_form(w)
    _login(client, w.scj_head)
    assert client.get(f"{BASE}/{form.public_id}").json()["review_findings"] == {}
    _problem(
        _send(
            client,
            "post",
            f"{BASE}/{form.public_id}/issues",
            {
                "period_label": "2月",
                "period_start": "2026-02-01",
                "period_end": "2026-02-28",
                "due_on": "2026-03-10",
            },
        ),
        403,
    )
    _problem(_send(client, "post", f"{BASE}/{form.public_id}/revise"), 403)
    assert not FormIssue.objects.exists()


def test_issue_not_admitted_is_422(client, w):
    form = draft_form(w)
    _login(client, w.office)
    body = _problem(
        _send(
            client,
            "post",
            f"{BASE}/{form.public_id}/issues",
            {
                "period_label": "2月",
                "period_start": "2026-02-01",
                "period_end": "2026-02-28",
                "due_on": "2026-03-10",
            },
        ),
        422,
    )
    assert body["errors"][0]["field"] == "status"


def test_non_centre_cannot_admit(client, w):
    _login(client, w.office)
    r = _send(client, "post", BASE, _create_body())
    ref = r.json()["id"]
    _send(client, "post", f"{BASE}/{ref}/submit")
    _problem(_send(client, "post", f"{BASE}/{ref}/admit", {"decision": "approve"}), 403)
    _problem(client.get(f"{BASE}/admission"), 403)
    assert ReportForm.objects.get().status == "submitted"


def test_village_clerk_cannot_create(client, w):
    _login(client, w.village_clerks[0])
    _problem(_send(client, "post", BASE, _create_body()), 403)


def test_anonymous_401(client, w):
    _problem(client.get(BASE), 401)


def test_invalid_fields_422_in_chinese_and_english(client, w):
    _login(client, w.office)
    body = _create_body()
    body["fields"][0]["kind"] = "photo"
    problem = _problem(_send(client, "post", BASE, body), 422)
    assert problem["errors"][0]["field"] == "fields.0.kind"
    assert "字段类型" in problem["errors"][0]["message"]
    problem = _problem(_send(client, "post", BASE, body, HTTP_ACCEPT_LANGUAGE="en"), 422)
    assert (
        "kind" in problem["errors"][0]["message"].lower() or "type" in problem["errors"][0]["message"].lower()
    )
    assert not ReportForm.objects.exists()


def test_xlsform_import_and_export(client, w):
    _login(client, w.office)
    upload = io.BytesIO(workbook(GOOD, CHOICES))
    upload.name = "clinic.xlsx"
    r = client.post(
        f"{BASE}/import",
        {
            "file": upload,
            "purpose": "卫生站情况",
            "legal_basis": "办法",
            "frequency": "quarterly",
            "target_level": 3,
        },
    )
    assert r.status_code == 201, r.content
    assert r.json()["source"] == "xlsform" and len(r.json()["fields"]) == 7
    r = client.get(f"{BASE}/{r.json()['code']}/xlsform")
    assert r.status_code == 200 and r["Content-Type"].startswith("application/vnd.openxmlformats")
    assert load_workbook(io.BytesIO(r.content)).sheetnames == ["survey", "choices", "settings"]


def test_xlsform_import_invalid_file(client, w):
    _login(client, w.office)
    upload = io.BytesIO(b"%PDF-1.4 nope")
    upload.name = "clinic.xlsx"
    problem = _problem(
        client.post(
            f"{BASE}/import",
            {
                "file": upload,
                "purpose": "p",
                "legal_basis": "b",
                "target_level": 3,
            },
        ),
        422,
    )
    assert problem["errors"][0]["field"] == "file"


def test_prefill_sources(client, w):
    _login(client, w.village_clerks[0])
    keys = {s["key"] for s in client.get(f"{BASE}/prefill-sources").json()}
    assert {
        "residents.count",
        "organisations.count",
        "incidents.count",
        "cases.count",
        "benefits.count",
    } <= keys
    assert "residents.id_number" in keys


def test_list_query_count_bounded(client, w, django_assert_max_num_queries):
    for i in range(6):
        admitted_form(w, code=f"F{i}", fields=[{"name": f"f{i}", "label": f"字段{i}", "kind": "integer"}])
    _login(client, w.office)
    client.get(BASE)
    with django_assert_max_num_queries(8):
        r = client.get(f"{BASE}?limit=3")
    assert len(r.json()["items"]) == 3 and r.json()["next_cursor"]
    r2 = client.get(f"{BASE}?limit=3&cursor={r.json()['next_cursor']}")
    assert len(r2.json()["items"]) == 3
