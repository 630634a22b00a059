"""Pages of the form register: list, new (fields editor + HTMX row), detail/edit/submit, admission review, import,
issue; forbidden paths."""

from __future__ import annotations

import io

import pytest
from django.urls import reverse

from tests.collab.forms_world import admitted_form, draft_form
from tests.collab.test_forms_xlsform import CHOICES, GOOD, workbook
from tests.collab.world import build_collab_world, principal
from yiwang.collab.models import FormIssue, ReportForm
from yiwang.collab.services.forms import form_submit

pytestmark = pytest.mark.django_db


@pytest.fixture
def w(db, clock):
    return build_collab_world()


def _as(client, staff):
    client.force_login(staff.account)
    return client


def _head(**extra):
    data = {
        "code": "ZYZ",
        "name": "志愿服务情况表",
        "purpose": "掌握志愿服务",
        "legal_basis": "《志愿服务条例》",
        "frequency": "monthly",
        "target_level": "3",
        "row_source": "",
    }
    data.update(extra)
    return data


def test_register_list(client, w, django_assert_max_num_queries):
    admitted_form(w)
    draft_form(w, code="SCJ1", actor=w.scj_head)
    r = _as(client, w.village_clerks[0]).get(reverse("collab:forms"))
    assert r.status_code == 200
    assert 'data-form="CJYB"' in r.text and "SCJ1" not in r.text
    with django_assert_max_num_queries(15):
        client.get(reverse("collab:forms"))


def test_new_form_with_fields(client, w):
    _as(client, w.office)
    r = client.get(reverse("collab:form_new"))
    assert r.status_code == 200 and 'data-testid="fields-editor"' in r.text
    row = client.get(reverse("collab:form_field_row"), HTTP_HX_REQUEST="true")
    assert 'name="field_name"' in row.text
    data = _head()
    data.update(
        {
            "field_name": ["volunteers", "hours"],
            "field_label": ["志愿者人数", "服务时长"],
            "field_kind": ["integer", "decimal"],
            "field_unit": ["人", "小时"],
            "field_required": ["yes", "no"],
            "field_choices": ["", ""],
            "field_per_row": ["no", "no"],
            "field_element": ["", ""],
            "field_prefill": ["", ""],
            "field_aggregate": ["", "avg"],
            "field_rule": ["volunteers >= 0", ""],
            "field_rule_message": ["不能为负", ""],
        }
    )
    r = client.post(reverse("collab:form_new"), data)
    assert r.status_code == 302, r.text[:2000]
    form = ReportForm.objects.get(code="ZYZ")
    assert [(f.name, f.required, f.aggregate) for f in form.fields.all()] == [
        ("volunteers", True, "sum"),
        ("hours", False, "avg"),
    ]


def test_new_form_errors_shown(client, w):
    _as(client, w.office)
    data = _head()
    data.update({"field_name": ["Bad"], "field_label": ["x"], "field_kind": ["integer"]})
    r = client.post(reverse("collab:form_new"), data)
    assert r.status_code == 200 and 'data-testid="field-errors"' in r.text
    assert "第 1 个字段" in r.text
    assert not ReportForm.objects.exists()


def test_edit_and_submit_then_centre_reviews(client, w):
    form = draft_form(w)
    _as(client, w.office)
    r = client.get(reverse("collab:form_detail", args=[form.code]))
    assert 'data-testid="save-form"' in r.text
    r = client.post(reverse("collab:form_action", args=[form.code, "submit"]))
    assert r.status_code == 302
    form.refresh_from_db()
    assert form.status == "submitted"
    _as(client, w.centre)
    r = client.get(reverse("collab:form_admission"))
    assert 'data-form="CJYB"' in r.text
    r = client.get(reverse("collab:form_review", args=[form.code]))
    assert 'data-testid="held"' in r.text and "residents.count" in r.text
    r = client.post(reverse("collab:form_review", args=[form.code]), {"decision": "reject"})
    assert r.status_code == 200 and "理由" in r.text
    r = client.post(reverse("collab:form_review", args=[form.code]), {"decision": "reject", "note": "重复"})
    assert r.status_code == 302
    form.refresh_from_db()
    assert form.status == "rejected"


def test_findings_show_duplicates(client, w):
    admitted_form(
        w,
        code="MZJ1",
        name="民政月报",
        actor=w.mzj_head,
        fields=[{"name": "volunteers", "label": "志愿者人数（人）", "kind": "integer"}],
    )
    form = form_submit(actor=principal(w.office), form=draft_form(w))
    r = _as(client, w.centre).get(reverse("collab:form_review", args=[form.code]))
    assert 'data-testid="duplicates"' in r.text and "MZJ1" in r.text


def test_issue_page(client, w):
    form = admitted_form(w)
    _as(client, w.office)
    r = client.get(reverse("collab:form_issue", args=[form.code]))
    assert r.status_code == 200
    r = client.post(
        reverse("collab:form_issue", args=[form.code]),
        {
            "period_label": "2026年2月",
            "period_start": "2026-02-01",
            "period_end": "2026-02-28",
            "due_on": "2026-03-10",
            "root_division": "",
        },
    )
    assert r.status_code == 302
    assert FormIssue.objects.get().units_count == 4
    r = client.post(
        reverse("collab:form_issue", args=[form.code]),
        {
            "period_label": "2026年2月",
            "period_start": "2026-02-01",
            "period_end": "2026-02-28",
            "due_on": "2026-03-10",
            "root_division": "",
        },
    )
    assert r.status_code == 200 and "已经下发" in r.text


def test_import_page(client, w):
    _as(client, w.office)
    upload = io.BytesIO(workbook(GOOD, CHOICES))
    upload.name = "clinic.xlsx"
    r = client.post(
        reverse("collab:form_import"),
        {
            "file": upload,
            "purpose": "p",
            "legal_basis": "b",
            "frequency": "monthly",
            "target_level": "3",
            "code": "",
            "name": "",
        },
    )
    assert r.status_code == 302
    assert ReportForm.objects.get().source == "xlsform"
    bad = io.BytesIO(workbook(GOOD + [("geopoint", "loc", "位置")], CHOICES))
    bad.name = "bad.xlsx"
    r = client.post(
        reverse("collab:form_import"),
        {
            "file": bad,
            "purpose": "p",
            "legal_basis": "b",
            "frequency": "monthly",
            "target_level": "3",
            "code": "OTHER",
            "name": "",
        },
    )
    assert r.status_code == 200 and "geopoint" in r.text


def test_forbidden_pages(client, w):
    form = draft_form(w, code="SCJ1", actor=w.scj_head)
    admitted = admitted_form(w)
    _as(client, w.office)
    assert client.get(reverse("collab:form_detail", args=[form.code])).status_code == 404
    assert client.get(reverse("collab:form_review", args=[admitted.code])).status_code == 403
    assert client.get(reverse("collab:form_admission")).status_code == 403
    _as(client, w.scj_head)
    assert client.get(reverse("collab:form_issue", args=[admitted.code])).status_code == 403
    assert client.post(reverse("collab:form_action", args=[admitted.code, "retire"])).status_code == 403
    _as(client, w.village_clerks[0])
    assert client.get(reverse("collab:form_new")).status_code == 403
    assert client.get(reverse("collab:form_detail", args=[admitted.code])).status_code == 200


def test_admin_register_read_only_and_admit_action(client, w):
    form = form_submit(actor=principal(w.office), form=draft_form(w))
    for staff in (w.centre, w.scj_head, w.village_clerks[0]):
        staff.account.is_staff = True
        staff.account.save(update_fields=["is_staff"])
    _as(client, w.centre)
    r = client.get(reverse("admin:collab_reportform_changelist"))
    assert r.status_code == 200 and "CJYB" in r.text
    assert client.get(reverse("admin:collab_reportform_change", args=[form.pk])).status_code == 200
    assert client.get(reverse("admin:collab_formissue_changelist")).status_code == 200
    r = client.post(
        reverse("admin:collab_reportform_changelist"),
        {"action": "admit", "index": "0", "_selected_action": [form.pk]},
    )
    assert r.status_code == 302
    form.refresh_from_db()
    assert form.status == "approved"
    _as(client, w.scj_head)  # another department's manager sees none of the office's forms
    r = client.get(reverse("admin:collab_reportform_changelist"))
    assert r.status_code == 200 and "CJYB" not in r.text
    _as(client, w.village_clerks[0])
    assert client.get(reverse("admin:collab_reportform_changelist")).status_code == 403
